"""The dashboard's webhook receiver: verifies Weavr webhooks, records every request in SQLite, streams them.

No Textual here (a test checks): the dashboard consumes :meth:`WebhookReceiver.subscribe` or
:meth:`WebhookReceiver.add_listener`, and ``bulkdash listen`` runs the same receiver headless.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from bulkdash.webhooks.records import (
    Authenticity,
    EventFacts,
    EventKind,
    KeyVerdict,
    ReceivedWebhook,
    SignatureVerdict,
    TimestampVerdict,
    classify_path,
)
from bulkdash.webhooks.summary import event_summary, format_line

if TYPE_CHECKING:
    from bulkdash.webhooks.receiver import Subscription, WebhookReceiver
    from bulkdash.webhooks.settings import ReceiverSettings, default_db_path
    from bulkdash.webhooks.store import WebhookStore

#: Imported when first asked for (PEP 562): the records are what the dashboard's screens need to draw, the
#: server (uvicorn, starlette, SQLite) only once it connects, after its first screen is painted (issue 16).
_LAZY = {
    "Subscription": "receiver",
    "WebhookReceiver": "receiver",
    "ReceiverSettings": "settings",
    "default_db_path": "settings",
    "WebhookStore": "store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


# A library's logs go where the host application sends them; without this, an error logged while no
# handler is configured would reach logging's "last resort" handler and be printed over the dashboard.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Authenticity",
    "EventFacts",
    "EventKind",
    "KeyVerdict",
    "ReceivedWebhook",
    "ReceiverSettings",
    "SignatureVerdict",
    "Subscription",
    "TimestampVerdict",
    "WebhookReceiver",
    "WebhookStore",
    "classify_path",
    "default_db_path",
    "event_summary",
    "format_line",
]
