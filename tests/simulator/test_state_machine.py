"""Hypothesis drives random submit/execute/pause/resume/cancel/get sequences through the engine and checks the
invariants of docs/behaviour.md §5: counts add up to N, final states never change, operations finish in
sequence order, and every action is accepted exactly when the §5.1 matrix allows it."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.models import BulkProcessExecute
from bulkdash.contract.validation import validate_submission
from simulator.engine.engine import Conflict, Engine
from simulator.settings import SimSettings
from simulator.store.store import Store
from tests.simulator.helpers import transfer

# §5.1 "Forbidden calls", written out independently of the engine's table.
ALLOWED = {
    "SUBMITTED": {"execute", "cancel"},
    "RUNNING": {"pause", "cancel"},
    "PAUSED": {"resume", "cancel"},
}
FINAL = {"COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"}
ORDER_OPEN = re.compile(
    r"^[CF]*R?S*$"
)  # not final: a finished prefix, at most one in flight, the rest waiting
ORDER_FINAL = re.compile(r"^[CF]*X*$")
LETTER = {"COMPLETED": "C", "FAILED": "F", "CANCELLED": "X", "SUBMITTED": "S", "RUNNING": "R"}


class BulkLifecycle(RuleBasedStateMachine):
    bulks = Bundle("bulks")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp(prefix="bulkdash-hyp-"))
        cfg = SimSettings(
            db=self.dir / "sim.db", op_delay_ms=0, rate_limits="off", batch_ms=1, max_active_bulks=10
        )
        self.engine = Engine(cfg, Store(cfg.db))
        self.run(self.engine.start())
        token = self.engine.tokens.issue("sim-api-key-P1", "2001", self.engine.clock())
        principal = self.engine.tokens.resolve("sim-api-key-P1", f"Bearer {token}", self.engine.clock())
        assert principal is not None
        self.principal = principal
        self.finals: dict[str, tuple[str, dict[str, int]]] = {}

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.engine.stop())
        self.loop.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @initialize()
    def nothing(self) -> None:
        pass

    @rule(
        target=bulks,
        size=st.integers(1, 6),
        failing=st.sets(st.integers(0, 5)),
        kind=st.sampled_from([OperationKind.TRANSFERS, OperationKind.CARD_BLOCK]),
    )
    def submit(self, size: int, failing: set[int], kind: OperationKind) -> str:
        spec = KINDS[kind]
        if kind == OperationKind.TRANSFERS:
            payload = [transfer(dest="5003" if i in failing else "5002") for i in range(size)]
        else:  # distinct cards; 5005 is destroyed and fails
            cards = ["5001", "5002", "5005", "5101", "5003", "5006"]
            payload = [{"pathParams": {"_id_": cards[i]}} for i in range(size)]
        items = validate_submission(spec, payload)
        result = self.run(self.engine._create_bulk(self.principal, spec, items, None))
        return str(result.body["bulkId"])

    def _act(self, bulk_id: str, action: str, call: Any) -> None:
        before = self.engine.bulks[int(bulk_id)].row.status
        try:
            self.run(call)
        except Conflict as refused:
            if refused.code == "INVALID_STATE":
                after = self.engine.bulks[int(bulk_id)].row.status
                # A pause/cancel may lose the race against the bulk's last operation.
                assert action not in ALLOWED.get(before, set()) or after in FINAL, (action, before)
            else:
                assert refused.code in ("DUPLICATE_OPERATION_TYPE", "TOO_MANY_REQUESTS")
                assert action == "execute"
            return
        assert action in ALLOWED.get(before, set()), (action, before)

    @rule(
        bulk=bulks,
        mode=st.sampled_from(["ON_FAILURE_STOP", "ON_FAILURE_CONTINUE", None]),
        interval=st.one_of(st.none(), st.integers(1, 10)),
    )
    def execute(self, bulk: str, mode: str | None, interval: int | None) -> None:
        body = BulkProcessExecute(mode=mode, webhookInterval=interval)  # type: ignore[arg-type]
        self._act(bulk, "execute", self.engine.execute(self.principal, bulk, body))

    @rule(bulk=bulks)
    def pause(self, bulk: str) -> None:
        self._act(bulk, "pause", self.engine.pause(self.principal, bulk))

    @rule(bulk=bulks)
    def resume(self, bulk: str) -> None:
        self._act(bulk, "resume", self.engine.resume(self.principal, bulk))

    @rule(bulk=bulks)
    def cancel(self, bulk: str) -> None:
        self._act(bulk, "cancel", self.engine.cancel(self.principal, bulk))

    @rule(ticks=st.integers(1, 20))
    def let_time_pass(self, ticks: int) -> None:
        async def spin() -> None:
            for _ in range(ticks):
                await asyncio.sleep(0)

        self.run(spin())

    @rule()
    def commit(self) -> None:
        self.run(self.engine.flush())

    async def _read_all(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        # No commit may land between a bulk's counts and its operations page.
        async with self.engine.commits_held():
            out = []
            for bulk_id in list(self.engine.bulks):
                details = self.engine.get_bulk(self.principal, str(bulk_id))
                page = await self.engine.list_operations(self.principal, str(bulk_id), 0, 100, None, None)
                out.append((details, page))
            return out

    @invariant()
    def reads_are_consistent(self) -> None:
        for details, page in self.run(self._read_all()):
            counts = {c["status"]: c["count"] for c in details["operationStatusCounts"]}
            assert sum(counts.values()) == details["submittedItemsCount"]
            assert all(v >= 0 for v in counts.values())
            status = details["status"]
            if status in FINAL:
                seen = self.finals.setdefault(details["bulkId"], (status, counts))
                assert seen == (status, counts), "a final state changed"
                assert counts["SUBMITTED"] == counts["RUNNING"] == 0
            letters = "".join(LETTER[o["status"]] for o in page["operations"])
            pattern = ORDER_FINAL if status in FINAL else ORDER_OPEN
            assert pattern.match(letters), (status, letters)
            file_counts = {s: letters.count(LETTER[s]) for s in LETTER}
            assert file_counts == counts, (file_counts, counts)


TestBulkLifecycle = BulkLifecycle.TestCase
TestBulkLifecycle.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_the_dashboards_table_is_the_simulators() -> None:
    """The client's ``ALLOWED_FROM`` (bulkdash/contract/refusals.py: the keys offered, the refusals' words)
    is exactly the projection of the simulator's ``BULK_TRANSITIONS`` onto the client's actions: the two
    sides cannot import each other, so this test is what keeps them one table."""
    from bulkdash.contract.refusals import ALLOWED_FROM
    from simulator.engine.states import BULK_TRANSITIONS, BulkAction

    projected: dict[str, set[str]] = {}
    for (state, action), _ in BULK_TRANSITIONS.items():
        if action is not BulkAction.FINISH:
            projected.setdefault(action.value, set()).add(state.value)
    assert projected == {action: set(states) for action, states in ALLOWED_FROM.items()}
