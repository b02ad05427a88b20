"""The dashboard's last line of defence: an exception that escapes a handler, a timer or a worker becomes an
error notice and a log entry, and the app stays up.

Textual ends the app on any unhandled exception (``App._handle_exception``), and a message pump whose handler
raised stops processing messages for good. So the app, its screens and its widgets are ``Guarded``: each
message is dispatched inside a ``try``, and what escapes goes to ``BulkdashApp.report_exception`` — the one
place that says it. The rest (callbacks, timers, workers that exit on error) reaches the app's
``_handle_exception``, which says it the same way. Both are Textual internals, overridden on purpose: a bad
record from a server must never take the dashboard down.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Guarded:
    """Mixin for a Textual ``MessagePump`` (app, screen, widget): a handler's exception is reported, not
    fatal, and the pump keeps processing its messages."""

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)  # type: ignore[misc]
        except Exception as error:
            try:
                app: Any = self.app  # type: ignore[attr-defined]
            except Exception:  # no active app (being torn down): nothing to tell
                app = None
            report = getattr(app, "report_exception", None)
            if report is None:
                raise  # not inside the dashboard (a widget in another app): Textual's own handling
            report(error, f"{type(self).__name__}: {type(message).__name__}")
