"""What the status bar says about the connection: connecting, connected, or the last error (plain Python).

The service keeps it: it connects, and it sees every poll's outcome (a failed poll makes it "unreachable",
the next good one "connected" again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class ConnectionState:
    state: str = "connecting"  # connecting | connected | error
    label: str = ""  # "embedded simulator http://127.0.0.1:PORT" or the remote URL (never a secret)
    error: str | None = None
    #: Called when ``state`` changes (not on every poll), so the status bar redraws at once.
    on_change: list[Callable[[], None]] = field(default_factory=list)

    def _set(self, state: str, error: str | None) -> None:
        changed = state != self.state
        self.state, self.error = state, error
        if changed:
            for callback in list(self.on_change):
                callback()

    def connecting(self) -> None:
        self._set("connecting", None)

    def ok(self) -> None:
        self._set("connected", None)

    def failed(self, error: str) -> None:
        self._set("error", error)
