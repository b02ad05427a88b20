"""The status bar: the read-only badge, the connection and what the request budget has spent per window.

The connection's word is the client's link once connected (``service.connection.state``): connected, waiting
for the request budget, rate limited, server error, unreachable — with the seconds until a request may go
again, counting down. Budget figures are local bookkeeping (``client.budget.usage()``), so refreshing them is
no I/O and is done on a timer (the countdown too). Secrets are never shown: only the label of the endpoint.

A simulator's presenter state (``⏸ world paused 1×``) is the one thing a trainee must not miss: when the row
is too narrow, the endpoint's label goes first, then the webhook count, then the badge takes its short form
(``⏸ paused``), then the budget keeps its first window, then goes — the badge stays (``FITS``).
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


#: What the row keeps, from the widest to the narrowest (the first that fits is shown): (the endpoint's label,
#: the webhook count, the presenter badge's short form, budget windows shown — 99: all).
FITS: tuple[tuple[bool, bool, bool, int], ...] = (
    (True, True, False, 99),
    (False, True, False, 99),
    (False, False, False, 99),
    (False, False, True, 99),
    (False, False, True, 1),
    (False, False, True, 0),
)


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
        label = Text(f"  {display.url(connection.label)}", style="dim") if connection.label else Text()
        if session is None:
            self._show(text + label)
            return
        windows: list[Text] = []
        for window in session.client.budget.usage():
            unit = {60: "min", 3600: "h", 86400: "day"}.get(window.seconds, f"{window.seconds}s")
            share = window.used / window.limit if window.limit else 0
            style = "#ff5f5f" if share > 0.9 else "#ffd75f" if share > 0.6 else ""
            windows.append(
                Text.assemble((f"{display.used(window.used)}/{window.limit}", style), (f" {unit}", "dim"))
            )
        webhooks = Text(f"   webhooks {service.webhook_count}", style="dim")
        presenter = service.presenter_state
        badges = (Text(), Text())
        if presenter and (presenter.get("paused") or presenter.get("speed", 1.0) != 1.0):
            style = "bold #ffd75f" if presenter.get("paused") else "#5fafff"
            badges = (
                Text(f"   {presenter_badge(presenter)}", style=style),
                Text(f"   {presenter_badge(presenter, short=True)}", style=style),
            )
        width = self.content_region.width  # 0 before the first layout: everything, fitted on resize
        for with_label, with_webhooks, short, shown_windows in FITS:
            line = text.copy()
            if with_label:
                line += label
            if shown_windows and windows:
                line.append("   budget ", style="dim")
                for i, window_text in enumerate(windows[:shown_windows]):
                    if i:
                        line.append(" · ", style="dim")  # (not Text.join: it dims the figures too)
                    line += window_text
            if with_webhooks:
                line += webhooks
            line += badges[short]
            if not width or line.cell_len <= width:
                break
        self._show(line)

    def on_resize(self) -> None:
        self.refresh_status()  # what fits changed

    def _show(self, text: Text) -> None:
        """One row (``.status-bar``), refreshed every second on every screen: the same text is not redrawn,
        and new text is a repaint of the row, not a layout of the whole screen (see ``RunHeader._line``)."""
        if text == self._shown:
            return
        self._shown = text
        self.update(text, layout=False)
