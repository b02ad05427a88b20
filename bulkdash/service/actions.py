"""The lifecycle actions a client can take on a bulk (execute, pause, resume, cancel), typed, with the one
place that maps each to its API call and the words the dashboard uses for it (``docs/behaviour.md §5.1``).

The simulator has its own ``BulkAction`` (``simulator/engine/states.py``, which adds its internal FINISH); the
dashboard must not import the simulator, so the client's side is declared here with the same values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from bulkdash.contract import refusals
from bulkdash.contract.statuses import BulkStatus

if TYPE_CHECKING:  # the first screen's keys are checked here before the client (httpx, pydantic) is imported
    from bulkdash.api.client import WeavrClient


class BulkAction(StrEnum):
    EXECUTE = "execute"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"

    @property
    def verb(self) -> str:
        """As in "Cannot pause bulk 7"."""
        return self.value

    @property
    def done(self) -> str:
        """As in "Paused: bulk 7"."""
        return _DONE[self]

    @property
    def leaves(self) -> str:
        """The status an accepted action leaves the bulk in (``docs/behaviour.md §5.1``): a pause is
        answered once the operation in flight is done, so the bulk is PAUSED by then."""
        return _LEAVES[self]


#: The bulk statuses each action is allowed from (``docs/behaviour.md §5.1``), typed: what the dashboard
#: decides from (the keys a bulk's screen offers). Declared once, in the contract (``refusals.ALLOWED_FROM``,
#: whose words explain a refusal); the simulator's ``BULK_TRANSITIONS`` answers 409 outside it.
ALLOWED_FROM: dict[BulkAction, frozenset[str]] = {
    BulkAction(action): frozenset(states) for action, states in refusals.ALLOWED_FROM.items()
}
#: Every status the table knows (the final ones allow nothing); any other is one this client cannot judge.
KNOWN_STATUSES = frozenset(status.value for status in BulkStatus)


def allowed(status: str | None, action: BulkAction) -> bool | None:
    """Whether ``action`` is allowed on a bulk in ``status``; None when that is not known (no status yet, or
    one this table does not know)."""
    if status is None or status not in KNOWN_STATUSES:
        return None
    return status in ALLOWED_FROM[action]


_DONE = {
    BulkAction.EXECUTE: "Execution started",
    BulkAction.PAUSE: "Paused",
    BulkAction.RESUME: "Resumed",
    BulkAction.CANCEL: "Cancelled",
}

_LEAVES = {
    BulkAction.EXECUTE: BulkStatus.RUNNING.value,
    BulkAction.PAUSE: BulkStatus.PAUSED.value,
    BulkAction.RESUME: BulkStatus.RUNNING.value,
    BulkAction.CANCEL: BulkStatus.CANCELLED.value,
}


def request(
    client: WeavrClient, bulk_id: str, action: BulkAction, mode: str | None, webhook_interval: int | None
) -> Awaitable[None]:
    """The API call ``action`` stands for (only execute takes a mode and a webhookInterval)."""
    if action is BulkAction.EXECUTE:
        return client.execute(bulk_id, mode, webhook_interval)
    calls: dict[BulkAction, Callable[[str], Awaitable[None]]] = {
        BulkAction.PAUSE: client.pause,
        BulkAction.RESUME: client.resume,
        BulkAction.CANCEL: client.cancel,
    }
    return calls[action](bulk_id)
