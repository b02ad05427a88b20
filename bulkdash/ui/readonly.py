"""``--read-only``: the actions that change something (submit, execute, pause, resume, cancel, edit a
profile) are disabled through Textual's ``check_action``, so they leave the bindings, the footer and the
command palette, and are refused (with a toast) if run anyway."""

from __future__ import annotations

#: Action names that change a bulk or the config file.
MUTATING_ACTIONS = frozenset({"new_bulk", "execute", "pause", "resume", "cancel", "edit"})
READ_ONLY_MESSAGE = "read-only mode"


def refused(app: object, action: str) -> bool:
    """Whether ``action`` is refused because ``app`` runs read-only."""
    return bool(getattr(app, "read_only", False)) and action in MUTATING_ACTIONS


class ReadOnlyAware:
    """Screen mixin (put it before ``Screen``): hides and blocks the mutating actions in read-only mode."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if refused(self.app, action):  # type: ignore[attr-defined]
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]
