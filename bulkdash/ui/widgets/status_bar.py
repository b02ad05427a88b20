"""The status bar: the read-only badge, the connection and what the request budget has spent per window.

The connection's word is the client's link once connected (``service.connection.state``): connected, waiting
for the request budget, rate limited, server error, unreachable — with the seconds until a request may go
again, counting down. Budget figures are local bookkeeping (``client.budget.usage()``), so refreshing them is
no I/O and is done on a timer (the countdown too). Secrets are never shown: only the label of the endpoint.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from bulkdash.ui.format import presenter_badge
from bulkdash.ui.guard import Guarded
from bulkdash.ui.readonly import READ_ONLY_BADGE

GREEN, YELLOW, RED = "#5fd787", "#ffd75f", "#ff5f5f"
#: The dot and colour of each word (``bulkdash.service.connection``); anything else is red.
DOTS = {
    "connected": ("●", GREEN),
    "connecting": ("◌", YELLOW),
    "waiting for the request budget": ("◌", YELLOW),
    "rate limited": ("◌", YELLOW),
}


class StatusBar(Guarded, Static):
    DEFAULT_CLASSES = "status-bar"
    _shown: Text | None = None

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        # The dashboard's service once built (just after the first frame); another app (a test) has none.
        service = getattr(self.app, "started_service", None)
        display = getattr(self.app, "display_", None)
        text = Text()
        if display is None:
            self._show(text)
            return
        if getattr(self.app, "read_only", False):
            # First, so a narrow terminal never cuts it: why no key changes anything.
            text.append(f" {READ_ONLY_BADGE} ", style=f"bold #000000 on {YELLOW}")
            text.append("  ")
        if service is None:
            text.append("◌ connecting", style=YELLOW)
            self._show(text)
            return
        connection, session = service.connection, service.session
        state = connection.state
        dot, colour = DOTS.get(state, ("●", RED))
        text.append(f"{dot} ", style=colour)
        text.append(state, style=colour)
        if (left := connection.retry_in_s()) is not None:
            text.append(f" · {display.countdown(left)}", style=colour)
        if connection.label:
            text.append(f"  {display.url(connection.label)}", style="dim")
        if session is not None:
            text.append("   budget ", style="dim")
            for i, window in enumerate(session.client.budget.usage()):
                unit = {60: "min", 3600: "h", 86400: "day"}.get(window.seconds, f"{window.seconds}s")
                share = window.used / window.limit if window.limit else 0
                style = "#ff5f5f" if share > 0.9 else "#ffd75f" if share > 0.6 else ""
                if i:
                    text.append(" · ", style="dim")
                text.append(f"{display.used(window.used)}/{window.limit}", style=style)
                text.append(f" {unit}", style="dim")
            text.append(f"   webhooks {service.webhook_count}", style="dim")
            presenter = service.presenter_state
            if presenter and (presenter.get("paused") or presenter.get("speed", 1.0) != 1.0):
                style = "bold #ffd75f" if presenter.get("paused") else "#5fafff"
                text.append(f"   {presenter_badge(presenter)}", style=style)
        self._show(text)

    def _show(self, text: Text) -> None:
        """One row (``.status-bar``), refreshed every second on every screen: the same text is not redrawn,
        and new text is a repaint of the row, not a layout of the whole screen (see ``RunHeader._line``)."""
        if text == self._shown:
            return
        self._shown = text
        self.update(text, layout=False)
