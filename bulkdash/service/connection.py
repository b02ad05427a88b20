"""What the status bar says about the connection (plain Python).

Until a session exists it is the service's own word: connecting, or "not connected" when the connect failed.
Once connected it is the client's ``link`` (``bulkdash.api.client.Link``): connected, waiting for the request
budget, rate limited, server error or unreachable — how the last exchange went, with ``retry_in_s`` counting
down to when a request may go again. So a poll that waits for the budget says so, not "unreachable", and a
record the server refuses (a 4xx) leaves the connection "connected": the server answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bulkdash.api.client import Link, LinkState

CONNECTING = "connecting"
CONNECTED = "connected"
#: The connect itself failed: there is no session (nor a link) to describe.
NOT_CONNECTED = "not connected"


@dataclass(slots=True)
class ConnectionState:
    label: str = ""  # "embedded simulator http://127.0.0.1:PORT" or the remote URL (never a secret)
    error: str | None = None  # why the connect failed
    #: Called when ``state`` changes (not on every poll), so the status bar redraws at once.
    on_change: list[Callable[[], None]] = field(default_factory=list)
    link: Link | None = None
    _phase: str = CONNECTING

    @property
    def state(self) -> str:
        """The status bar's word: ``connecting``, ``not connected``, or the link's state once connected."""
        if self._phase != CONNECTED or self.link is None:
            return self._phase
        # Nothing sent since connecting (a remote endpoint with a token): it is connected as far as we know.
        return CONNECTED if self.link.state is LinkState.CONNECTING else self.link.state.value

    @property
    def reason(self) -> str | None:
        """Why it is not simply connected (the connect's error, or the link's reason)."""
        if self._phase == NOT_CONNECTED:
            return self.error
        return None if self.link is None else self.link.reason

    def retry_in_s(self) -> float | None:
        """Seconds until a request may go again, when the link knows (budget, 429): read at each redraw."""
        return None if self.link is None or self._phase != CONNECTED else self.link.retry_in_s()

    def _announce(self, before: str) -> None:
        if self.state != before:
            for callback in list(self.on_change):
                callback()

    def _link_changed(self, link: Link) -> None:
        if link is self.link:  # a link of an earlier session may still answer a late request
            for callback in list(self.on_change):
                callback()

    def connecting(self) -> None:
        before = self.state
        self._phase, self.error = CONNECTING, None
        self._announce(before)

    def attach(self, link: Link) -> None:
        """Connected: from now on the state is ``link``'s."""
        before = self.state
        if self.link is not None and self._link_changed in self.link.on_change:
            self.link.on_change.remove(self._link_changed)
        self.link, self._phase, self.error = link, CONNECTED, None
        link.on_change.append(self._link_changed)
        self._announce(before)

    def failed(self, error: str) -> None:
        """The connect failed."""
        before = self.state
        self._phase, self.error = NOT_CONNECTED, error
        self._announce(before)
