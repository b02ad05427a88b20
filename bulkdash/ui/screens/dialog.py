"""``Dialog``: the base of the dashboard's modal screens — dismissed once, whatever is pressed meanwhile.

Textual's ``Screen.dismiss`` pops whatever screen is on top: Enter pressed twice in the Execute dialog (the
second before the first dismissal took effect) ran its callback twice and popped the run page under it, and
a third Enter raised ``ScreenStackError`` (a user's trial). A dialog that is no longer on top, or already
dismissed, ignores further dismissals.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen

from bulkdash.ui.guard import Guarded

R = TypeVar("R")


class Dialog(Guarded, ModalScreen[R], Generic[R]):
    _dismissed = False

    def on_screen_resume(self) -> None:
        self._dismissed = False  # on top again (or again pushed): it may be dismissed

    def dismiss(self, result: Any = None) -> AwaitComplete:
        if self._dismissed or self.app.screen is not self:
            return AwaitComplete.nothing()
        self._dismissed = True
        return super().dismiss(result)
