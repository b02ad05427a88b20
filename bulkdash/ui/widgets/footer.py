"""A Footer that rebuilds its keys once per refresh, however many binding changes arrived meanwhile.

Opening a screen moves focus several times (the table, the filter, the search box), and Textual's Footer
recomposes every key on each change: measured ~120 ms of blocked loop when a run screen opens. Coalescing
those into one recompose keeps key presses responsive while a bulk's screen opens.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

from bulkdash.ui.guard import Guarded


class CoalescingFooter(Guarded, Footer):
    _recompose_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_pending = False
        await self.recompose()
