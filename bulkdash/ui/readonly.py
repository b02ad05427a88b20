"""``--read-only``: the actions that change something (submit, execute, pause, resume, cancel, edit a
profile, start a scenario, the presenter controls) are disabled through Textual's ``check_action``, so they
leave the bindings, the footer and the command palette, and are refused (with a toast) if run anyway. The
status bar wears a READ-ONLY badge."""

from __future__ import annotations

#: Action names that change a bulk, the simulator's world (scenarios, presenter controls) or the config file.
MUTATING_ACTIONS = frozenset(
    {
        "new_bulk",
        "execute",
        "pause",
        "resume",
        "cancel",
        "edit",
        "start_scenario",
        "end_scenario",
        "world_pause",
        "world_step",
        "speed_up",
        "speed_down",
        "fault_now",
    }
)
READ_ONLY_MESSAGE = "read-only mode"
#: The badge on the status bar of every screen that has one, so a presenter's audience sees the mode.
READ_ONLY_BADGE = "READ-ONLY"


def refused(app: object, action: str) -> bool:
    """Whether ``action`` is refused because ``app`` runs read-only."""
    return bool(getattr(app, "read_only", False)) and action in MUTATING_ACTIONS


class ReadOnlyAware:
    """Screen mixin (put it before ``Screen``): hides and blocks the mutating actions in read-only mode."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if refused(self.app, action):  # type: ignore[attr-defined]
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]


class ReadOnlyApp:
    """App mixin (put it before ``App``): hides the mutating actions, and refuses them with a toast when a key
    or the palette names one anyway."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if refused(self, action):
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:  # type: ignore[no-untyped-def]
        target, name, _params = self._parse_action(  # type: ignore[attr-defined]
            action, self if default_namespace is None else default_namespace, namespaces
        )
        if refused(self, name) and (target is self or isinstance(target, ReadOnlyAware)):
            self.notify(READ_ONLY_MESSAGE, severity="warning", timeout=3)  # type: ignore[attr-defined]
            return False
        return await super().run_action(action, default_namespace, namespaces)  # type: ignore[misc]
