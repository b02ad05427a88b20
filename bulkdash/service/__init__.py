"""The dashboard's service layer, without Textual: ``DashboardService`` (service.py) connects, follows the
bulks (bulks.py) and the open runs, submits, acts on bulks (actions.py), writes reports, trains and presents,
and tells its listeners what happened (events.py); its background work runs through tasks.py.

The Textual app (``bulkdash.ui.app``) only turns these events into screen updates and key presses into calls.

Importing this package imports none of its modules (PEP 562 ``__getattr__``): the dashboard's first screen
uses ``actions`` before the service, the client and pydantic are imported (issue 16).
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bulkdash.service.actions import BulkAction
    from bulkdash.service.service import CLOSE_TIMEOUT_S, Connector, DashboardService

# Logged errors go where the host application sends them: without a handler they would reach logging's "last
# resort" handler and be printed over the dashboard.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["CLOSE_TIMEOUT_S", "BulkAction", "Connector", "DashboardService"]

_WHERE = {
    "BulkAction": "bulkdash.service.actions",
    "CLOSE_TIMEOUT_S": "bulkdash.service.service",
    "Connector": "bulkdash.service.service",
    "DashboardService": "bulkdash.service.service",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
