"""A long run on screen is polled as seldom as its counts allow (issue 16): the next answer lands just before
the counts shown turn ``FRESH_S`` old, rather than every ``MAX_RUNNING_DELAY_S`` — ~100 requests to follow
a 10,000-operation run at 50 ms, not 120 (benchmarks/dash_requests.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bulkdash.api.budget import RequestBudget
from bulkdash.contract.models import BulkProcessDetails, status_counts
from bulkdash.model.follow import FRESH_MARGIN_S, FRESH_S, RunFollower
from bulkdash.model.run import MAX_RUNNING_DELAY_S, RunModel


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class NoClient:
    budget = RequestBudget()


def running(completed: int, n: int = 10_000) -> BulkProcessDetails:
    counts = {"SUBMITTED": n - completed, "COMPLETED": completed}
    return BulkProcessDetails(
        bulkId="7", status="RUNNING", submittedItemsCount=n, operationStatusCounts=status_counts(counts)
    )


@pytest.fixture
def follower() -> tuple[RunFollower, Clock]:
    clock = Clock()
    model = RunModel("7", clock=clock)
    model.apply_details(running(100))
    return RunFollower(NoClient(), model, lambda update: None), clock  # type: ignore[arg-type]


def test_a_long_run_on_screen_waits_until_just_before_its_counts_turn_stale(
    follower: tuple[RunFollower, Clock],
) -> None:
    f, clock = follower
    f.details_rtt_s = 0.02
    clock.now += 0.3  # the page was fetched after the counts: they are 0.3 s old when the wait begins
    delay = f._fresh_delay(MAX_RUNNING_DELAY_S)
    assert delay == pytest.approx(FRESH_S - FRESH_MARGIN_S - 0.3 - 0.02)
    assert delay > MAX_RUNNING_DELAY_S
    # The answer lands at: now + delay + the request's time, with the counts then this old at most:
    assert 0.3 + delay + f.details_rtt_s <= FRESH_S


def test_other_paces_are_the_models(follower: tuple[RunFollower, Clock]) -> None:
    f, clock = follower
    assert f._fresh_delay(0.5) == 0.5  # a short run, or the first polls: its own quicker pace
    assert f._fresh_delay(9.0) == 9.0  # a shrinking budget slows it down
    assert f._fresh_delay(None) is None  # final
    f.on_screen = False
    assert f._fresh_delay(MAX_RUNNING_DELAY_S) == MAX_RUNNING_DELAY_S
    f.on_screen = True
    clock.now += 10  # counts already older than the bound: never a wait shorter than the model's
    assert f._fresh_delay(MAX_RUNNING_DELAY_S) == MAX_RUNNING_DELAY_S


async def test_a_paused_world_rests_the_polls_until_someone_acts() -> None:
    """A trainee reading a brief while the world waits for them: one poll every HELD_POLL_S, not 4 a second
    (at 4 Hz the request budget ran out within two scenarios)."""
    from bulkdash.model.follow import HELD_POLL_S

    class Client:
        budget = RequestBudget()

        async def get_bulk(self, bulk_id: str) -> BulkProcessDetails:
            return running(0, n=20)  # a short run: its own pace is the quickest (0.25 s)

        async def list_operations(self, *args: object) -> object:
            return SimpleNamespace(operations=[], count=0)

    waits: list[float] = []
    model = RunModel("7")
    f = RunFollower(Client(), model, lambda update: None)  # type: ignore[arg-type]

    async def record(delay: float) -> None:
        waits.append(delay)
        if len(waits) == 2:
            raise StopAsyncIteration

    f._wait = record  # type: ignore[method-assign]
    with pytest.raises(StopAsyncIteration):
        model.set_world_paused(False)
        await f.run()
    playing = waits[0]
    waits.clear()
    model.set_world_paused(True)
    with pytest.raises(StopAsyncIteration):
        await f.run()
    assert playing < 1.0 and waits[0] == HELD_POLL_S


async def test_after_a_step_the_polls_keep_the_running_pace_until_the_count_moves() -> None:
    """A trainee stepping a paused world waited ~5 s to see each stepped operation (the held pace), with the
    header and the rows disagreeing meanwhile: after a step the follower polls at the run's own pace until
    this bulk's count moves, then rests again."""
    from bulkdash.model.follow import HELD_POLL_S

    answers = [running(3, n=20), running(3, n=20), running(4, n=20), running(4, n=20)]

    class Client:
        budget = RequestBudget()

        async def get_bulk(self, bulk_id: str) -> BulkProcessDetails:
            return answers.pop(0)

        async def list_operations(self, *args: object) -> object:
            return SimpleNamespace(operations=[], count=0)

    waits: list[float] = []
    f = RunFollower(Client(), RunModel("7"), lambda update: None)  # type: ignore[arg-type]
    f.model.set_world_paused(True)

    async def record(delay: float) -> None:
        waits.append(delay)
        if len(waits) == 1:
            f.expect_step()  # the presenter steps while the follower rests
        if not answers:
            raise StopAsyncIteration

    f._wait = record  # type: ignore[method-assign]
    with pytest.raises(StopAsyncIteration):
        await f.run()
    # Resting; stepped (count 3: not moved yet) → the run's pace; moved to 4 → resting again, twice.
    assert waits[0] == HELD_POLL_S
    assert waits[1] < 1.0
    assert waits[2:] == [HELD_POLL_S, HELD_POLL_S]


async def test_a_step_is_polled_once_its_operation_can_have_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not at once (that poll could only find it running): after the operation's delay."""
    import asyncio

    f = RunFollower(NoClient(), RunModel("7"), lambda update: None)  # type: ignore[arg-type]
    f.model.set_world_paused(True)
    loop = asyncio.get_running_loop()
    scheduled: list[float] = []
    monkeypatch.setattr(loop, "call_later", lambda delay, callback: scheduled.append(delay) or callback())
    f.expect_step(0.2)
    assert scheduled == [0.2] and f._wake.is_set() and not f._resting()
