"""Presenter controls: pause the whole simulated world, step it one operation at a time, change its playback
speed, and make the next operation fail on demand — for live demos and training (``/_sim/presenter``).

One :class:`Presenter` per engine (``engine.presenter``). Its state is runtime configuration, like
``opDelayMs``: never written to the store, and ``POST /_sim/reset`` puts it back to "running at speed 1,
nothing pending". While it is inactive (not paused, speed 1, no step or forced fault pending) the engine's
per-operation cost is one attribute test (``presenter.active``) and the behaviour is exactly the default.

* **Pause** holds every bulk's next operation right before it runs: the operation is RUNNING to readers, the
  bulk stays RUNNING, nothing is written. A bulk-level pause or cancel (or a reset) still goes through: the
  held operation is then not run and stays SUBMITTED in the file. The webhook dispatcher starts no new
  delivery while paused (events wait in the outbox, nothing is lost; deliveries already on the wire finish).
  HTTP reads are never blocked. A crash while paused leaves a RUNNING bulk that resumes on restart.
* **Step** (paused only) lets exactly one more operation run, simulator-wide: the first that reaches (or is
  waiting at) the hold. Steps are counted, so three quick steps run three operations; un-pausing drops
  steps not yet taken.
* **Speed** (0.1–10) divides the op delay and a fault plan's operation latency: ``op_delay_ms / speed``.
* **Fault now** makes the next operation that runs (any bulk) fail like an injected fault — no world
  change, no transaction webhook, recorded FAILED, so ``ON_FAILURE_STOP`` stops the run. It borrows the
  answer of the active fault plan's next failing rule for that bulk (the rule whose selection comes first at
  or after the current sequence; request matching is ignored since later bodies are not at hand); the plan
  itself is unchanged and still fires at its own sequence. Without such a rule the operation gets a
  realistic 409 of its kind (e.g. ``FUNDS_INSUFFICIENT`` for a transfer). At most one forced fault is
  pending: asking again before it fired changes nothing.
* **Hold at operation N** (``POST /_sim/presenter/hold {"bulkId", "operation"}``) pauses the world when that
  bulk's operation N is about to run — a trainee's "your move" moment (pause at 6, cancel at 5). The
  operation is RUNNING meanwhile. It waits until somebody acts: a pause or cancel of that bulk lets the
  operation finish first (§5.3, as without the hold) and the world plays on; un-pausing (or a step) lets it
  run on too. A hold is taken once; ``DELETE /_sim/presenter/hold`` (or a reset) drops those not reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bulkdash.contract.kinds import OperationKind
from bulkdash.contract.presenter import MAX_SPEED, MIN_SPEED
from simulator.settings import SimSettings
from simulator.store.store import BulkRow

if TYPE_CHECKING:
    from simulator.engine.engine import LiveBulk
    from simulator.faults.operations import OperationLayer, OpFault


#: The 409 ``errorCode`` a forced fault answers when no fault plan rule is at hand: a common one per kind.
DEFAULT_CONFLICT: dict[OperationKind, str] = {
    OperationKind.USERS: "EMAIL_NOT_UNIQUE",
    OperationKind.USER_INVITE: "INVITE_ALREADY_CONSUMED",
    OperationKind.CARD_BLOCK: "INSTRUMENT_ALREADY_BLOCKED",
    OperationKind.CARD_UNBLOCK: "INSTRUMENT_NOT_BLOCKED",
    OperationKind.CARD_REMOVE: "INSTRUMENT_ALREADY_REMOVED",
    OperationKind.SPEND_RULES: "SPEND_LIMIT_AMOUNT_INVALID",
    OperationKind.TRANSFERS: "FUNDS_INSUFFICIENT",
    OperationKind.SENDS: "FUNDS_INSUFFICIENT",
    OperationKind.OWT: "FUNDS_INSUFFICIENT",
}


class WorldNotPaused(Exception):
    """``step`` while the world runs: the control API answers ``409 {"errorCode": "WORLD_NOT_PAUSED"}``."""

    code = "WORLD_NOT_PAUSED"


def default_fault(kind: OperationKind) -> OpFault:
    # Imported here: the engine layer does not pull in the fault package (and its HTTP layers) at import.
    from simulator.faults.operations import rule_fault
    from simulator.faults.plan import OperationRule

    rule = OperationRule(outcome="conflict", error_code=DEFAULT_CONFLICT[kind], kinds=[kind])
    return rule_fault(rule, kind)


class Presenter:
    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        self.active = False  # the engine's fast-path test: anything below differs from the defaults
        self.paused = False
        self.speed = 1.0
        self.fault_pending = False
        self.steps = 0  # steps granted while paused and not taken yet
        self.waiting = 0  # operations currently held
        #: Holds not reached yet: bulk id -> the operation that pauses the world when it is about to run.
        self.holds: dict[str, int] = {}
        self.held: tuple[str, int] | None = None  # the hold the world is paused at now, if any
        self._changed = asyncio.Event()  # replaced on every change: set() wakes everyone holding
        #: Called after every change (the server wakes the webhook dispatcher with it).
        self.listeners: list[Callable[[], None]] = []

    # --- controls -----------------------------------------------------------------------------------
    def set(self, *, paused: bool | None = None, speed: float | None = None) -> None:
        if speed is not None:
            if not MIN_SPEED <= speed <= MAX_SPEED:
                raise ValueError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}")
            self.speed = float(speed)
        if paused is not None:
            self.paused = paused
            if not paused:
                self.steps = 0
        self._notify()

    def step(self) -> bool:
        """Let one more operation run; True when one was already waiting to take it."""
        if not self.paused:
            raise WorldNotPaused()
        self.steps += 1
        released = self.waiting >= self.steps
        self._notify()
        return released

    def fault_now(self) -> None:
        self.fault_pending = True
        self._notify()

    def hold_at(self, bulk_id: str, operation: int) -> None:
        """Pause the world when ``bulk_id``'s operation ``operation`` is about to run (one hold per bulk)."""
        if operation < 1:
            raise ValueError("operation must be 1 or more")
        self.holds[str(bulk_id)] = operation
        self._notify()

    def clear_holds(self) -> None:
        """Drop the holds not reached yet (one the world is paused at stays until somebody acts)."""
        self.holds.clear()
        self._notify()

    def forget_pending(self) -> None:
        """A scenario is set up: a fault asked for earlier, steps granted and holds not reached belong to the
        runs before it, not to its own (a trainee's "fault now" pressed after an earlier run failed the next
        pack's first operation). Paused and speed stay: the set-up decides those."""
        self.fault_pending = False
        self.steps = 0
        self.holds.clear()
        self._notify()

    def reset(self) -> None:
        """Running, at speed 1, nothing pending (``POST /_sim/reset``)."""
        self.paused = False
        self.speed = 1.0
        self.fault_pending = False
        self.steps = 0
        self.holds.clear()
        self._notify()

    def wake(self) -> None:
        """Let held operations look again (the engine calls it when a bulk is asked to stop)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        self.active = (
            self.paused or self.speed != 1.0 or self.fault_pending or self.steps > 0 or bool(self.holds)
        )
        self.wake()
        for listener in self.listeners:
            listener()

    # --- the engine's side --------------------------------------------------------------------------
    def scaled_ms(self, ms: float) -> float:
        return ms / self.speed

    async def hold(self, lb: LiveBulk, seq: int = 0) -> bool:
        """Called before operation ``seq`` runs, while ``active``. Returns at once when the world runs; while
        paused waits for a step or the un-pause. False: the bulk was asked to stop meanwhile (do not run).
        At a hold (:meth:`hold_at`) the world pauses here, and a stop of the bulk lets the operation run."""
        if self.holds and self.holds.get(str(lb.row.bulk_id)) == seq:
            return await self._hold_for_move(lb, seq)
        if not self.paused:
            return True
        self.waiting += 1
        try:
            while True:
                if lb.stop_request:
                    return False
                if not self.paused:
                    return True
                if self.steps > 0:
                    self.steps -= 1
                    self._notify()
                    return True
                await self._changed.wait()
        finally:
            self.waiting -= 1

    async def _hold_for_move(self, lb: LiveBulk, seq: int) -> bool:
        bulk_id = str(lb.row.bulk_id)
        del self.holds[bulk_id]
        if lb.stop_request:  # the trainee acted before the hold was reached: nothing to wait for
            self._notify()
            return True
        self.paused, self.held = True, (bulk_id, seq)
        self.waiting += 1
        self._notify()
        try:
            while True:
                if lb.stop_request:
                    # The trainee's move (pause or cancel): the operation finishes first, as it would have
                    # without the hold (§5.3), and the world plays on.
                    self.paused = False
                    return True
                if not self.paused:
                    return True
                if self.steps > 0:
                    self.steps -= 1
                    return True
                await self._changed.wait()
        finally:
            self.waiting -= 1
            self.held = None
            self._notify()

    def take_fault(self, row: BulkRow, seq: int, layer: OperationLayer | None) -> OpFault | None:
        """The forced fault for this operation (and no longer pending), or None when none is pending."""
        if not self.fault_pending:
            return None
        self.fault_pending = False
        self._notify()
        fault = layer.upcoming(row, seq) if layer is not None else None
        return fault if fault is not None else default_fault(OperationKind(row.kind))

    # --- reading ------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        delay = self.settings.op_delay_ms
        return {
            "paused": self.paused,
            "speed": self.speed,
            "opDelayMs": delay,
            "effectiveOpDelayMs": self.scaled_ms(delay),
            "faultPending": self.fault_pending,
            "waiting": self.waiting,
            "stepsPending": self.steps,
            "holds": [{"bulkId": b, "operation": n} for b, n in sorted(self.holds.items())],
            "heldAt": None if self.held is None else {"bulkId": self.held[0], "operation": self.held[1]},
        }


__all__ = ["Presenter", "WorldNotPaused", "default_fault"]
