"""The dashboard's service layer, without Textual: ``DashboardService`` (service.py) connects, follows the
bulks (bulks.py) and the open runs, submits, acts on bulks (actions.py), writes reports, trains and presents,
and tells its listeners what happened (events.py); its background work runs through tasks.py.

The Textual app (``bulkdash.ui.app``) only turns these events into screen updates and key presses into calls.
"""

import logging

from bulkdash.service.actions import BulkAction
from bulkdash.service.service import CLOSE_TIMEOUT_S, Connector, DashboardService

# Logged errors go where the host application sends them: without a handler they would reach logging's "last
# resort" handler and be printed over the dashboard.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["CLOSE_TIMEOUT_S", "BulkAction", "Connector", "DashboardService"]
