"""The bulk and operation state machines (docs/behaviour.md §5.1, §5.2), declared once as tables.

Every bulk status change goes through ``bulk_transition``; a pair that is not in the table is not
allowed, and a disallowed client action becomes ``409 INVALID_STATE``. An operation ends through
``op_outcome``. Its other two moves are not events of the engine's: RUNNING is how readers see the
operation in flight (it is SUBMITTED in the file until it ends), and the SUBMITTED operations of a
cancelled or stopped bulk become CANCELLED with it.
"""

from __future__ import annotations

from enum import StrEnum

from bulkdash.contract.models import BulkStatus as B
from bulkdash.contract.models import OperationStatus as O


class BulkAction(StrEnum):
    EXECUTE = "execute"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    FINISH = "finish"  # the worker ran out of operations, or ON_FAILURE_STOP met a failure


class OpEvent(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"


#: Target of FINISH: the final status is computed from the counts (§5.4).
COMPUTED = "COMPUTED"

BULK_TRANSITIONS: dict[tuple[B, BulkAction], B | str] = {
    (B.SUBMITTED, BulkAction.EXECUTE): B.RUNNING,
    (B.RUNNING, BulkAction.PAUSE): B.PAUSED,
    (B.PAUSED, BulkAction.RESUME): B.RUNNING,
    (B.SUBMITTED, BulkAction.CANCEL): B.CANCELLED,
    (B.RUNNING, BulkAction.CANCEL): B.CANCELLED,
    (B.PAUSED, BulkAction.CANCEL): B.CANCELLED,
    (B.RUNNING, BulkAction.FINISH): COMPUTED,
}

OP_TRANSITIONS: dict[tuple[O, OpEvent], O] = {
    (O.RUNNING, OpEvent.SUCCEED): O.COMPLETED,
    (O.RUNNING, OpEvent.FAIL): O.FAILED,
}


class InvalidTransition(Exception):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"{action} is not allowed from {status}")
        self.status = status
        self.action = action


def allowed(status: str, action: BulkAction) -> bool:
    return (B(status), action) in BULK_TRANSITIONS


def final_status(n: int, completed: int) -> B:
    """§5.4: COMPLETED iff every operation succeeded, FAILED iff none did, otherwise PARTIALLY_COMPLETED."""
    if completed == n:
        return B.COMPLETED
    if completed == 0:
        return B.FAILED
    return B.PARTIALLY_COMPLETED


def bulk_transition(status: str, action: BulkAction, *, n: int = 0, completed: int = 0) -> B:
    target = BULK_TRANSITIONS.get((B(status), action))
    if target is None:
        raise InvalidTransition(status, action)
    if target == COMPUTED:
        return final_status(n, completed)
    return B(target)


def op_transition(status: O, event: OpEvent) -> O:
    target = OP_TRANSITIONS.get((status, event))
    if target is None:
        raise InvalidTransition(status, event)
    return target


def op_outcome(http_status: int) -> O:
    """The status an operation in flight ends in, from its single endpoint's HTTP status (§5.2)."""
    return op_transition(O.RUNNING, OpEvent.SUCCEED if 200 <= http_status < 300 else OpEvent.FAIL)
