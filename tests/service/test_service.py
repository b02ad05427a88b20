"""The dashboard service driven without Textual against the embedded simulator: a bulk's life (submit →
execute → pause → resume → final), refusals, reports, training, the presenter controls, the bulk list, and
what it says when connecting fails. Every outcome is both the awaited result and an event with its sentence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bulkdash.api.budget import BudgetExhausted
from bulkdash.api.client import ApiError, LinkState
from bulkdash.contract.kinds import OperationKind
from bulkdash.model.follow import RunFollower
from bulkdash.model.generate import generate
from bulkdash.service import BulkAction, DashboardService
from bulkdash.service import service as service_module
from bulkdash.service.events import (
    ActionDone,
    BulksListed,
    Connected,
    ConnectFailed,
    RunChanged,
    TrainingEnded,
)
from bulkdash.session import Session
from tests.service.helpers import Gate, embedded, eventually


async def submit(service: DashboardService, size: int, fail_share: float = 0.0) -> str:
    submitted = await service.submit(
        OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, size, fail_share)
    )
    assert submitted.bulk_id is not None, submitted.error
    return submitted.bulk_id


async def test_submit_execute_pause_resume_to_the_final_state(service: DashboardService) -> None:
    assert service.session is not None
    async with service.events() as events:
        submitted = await service.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 100, 0.1))
        assert submitted.notice.text == "Bulk 1000001 submitted: 100 operations. Press x to execute."
        bulk = "1000001"
        model = service.follow_run(bulk).model
        await events.until(lambda: model.status == "SUBMITTED")

        gate = Gate(service.session, at=41)
        started = await service.act(bulk, BulkAction.EXECUTE, mode="ON_FAILURE_CONTINUE")
        assert started == ActionDone(bulk, BulkAction.EXECUTE) and started.notice.text == (
            "Execution started: bulk 1000001"
        )
        await eventually(lambda: gate.reached)
        pausing = service.act(bulk, BulkAction.PAUSE)  # answered once the operation in flight is done
        await eventually(lambda: gate.stop_requested(bulk))
        gate.release()
        assert (await pausing).notice.text == "Paused: bulk 1000001"
        await events.until(lambda: model.status == "PAUSED")
        assert model.attempted == 41

        assert (await service.act(bulk, BulkAction.RESUME)).error is None
        await events.until(lambda: model.is_final, timeout=15)
        # The model turns final when the details arrive, its update (and the timeline's entry) once the
        # page that goes with it did: wait for the entry, not just the model.
        await events.until(lambda: service.known_bulks.get(bulk) == "PARTIALLY_COMPLETED")
    assert model.status == "PARTIALLY_COMPLETED"
    assert (model.counts["COMPLETED"], model.counts["FAILED"]) == (90, 10)
    # The service keeps the delivery timeline's state changes (no screen involved).
    states = [e.text for e in service.session.timeline.for_bulk(bulk) if e.source == "state"]
    assert states[0] == "SUBMITTED → RUNNING" and "RUNNING → PAUSED" in states, states
    assert states[-1].endswith("→ PARTIALLY_COMPLETED"), states
    assert service.known_bulks[bulk] == "PARTIALLY_COMPLETED"


async def test_a_refused_action_says_why(service: DashboardService) -> None:
    bulk = await submit(service, 5)
    async with service.events() as events:
        refused = await service.act(bulk, BulkAction.PAUSE)  # a SUBMITTED bulk cannot be paused
        assert await events.next_of(ActionDone) == refused
    assert refused.code == "INVALID_STATE"
    assert refused.notice.text.startswith(f"Cannot pause bulk {bulk}: ")
    assert "needs it RUNNING" in refused.notice.text
    assert refused.notice.text.endswith("[INVALID_STATE]")
    assert refused.notice.severity == "error"


async def test_a_report_is_written(service: DashboardService, tmp_path: Path) -> None:
    bulk = await submit(service, 5)
    service.report_dir = tmp_path
    written = await service.export_report(bulk)
    out = tmp_path / f"bulkdash-report-{bulk}"
    assert written.path == out == service.last_report and written.error is None
    assert (out / "report.md").read_text().startswith(f"# Bulk {bulk}")
    assert len((out / "operations.jsonl").read_text().splitlines()) == 5
    assert written.notice.text == f"Report written to {out}"


async def test_a_report_that_cannot_be_written_says_so(service: DashboardService, tmp_path: Path) -> None:
    bulk = await submit(service, 1)
    (tmp_path / "file").write_text("")
    service.report_dir = tmp_path / "file"  # a file where the report's directory should go
    failed = await service.export_report(bulk)
    assert failed.path is None and failed.notice.text.startswith("Report not written: [Errno")


async def test_training_a_scenario_and_answering(service: DashboardService) -> None:
    listed = await service.list_scenarios()
    assert listed.error is None
    scenario = next(s for s in listed.scenarios if s.name == "all-succeed")
    async with service.events() as events:
        started = await service.start_scenario(scenario)
        assert started.training is not None and service.training is started.training
        training = started.training
        assert started.notice.title == "All succeed" and f"Bulk {training.bulk_id}" in started.notice.text
        model = service.follow_run(training.bulk_id).model
        # The run waits, the world paused, until the trainee starts it (space: ``play_scenario``).
        assert training.phase == "ready" and "press space to start" in started.notice.text
        assert (service.presenter_state or {}).get("paused") is True
        await service.play_scenario()
        assert training.phase == "playing"
        await events.until(lambda: model.is_final, timeout=15)
    assert model.status == "COMPLETED"

    first = training.questions[0]
    verdict = training.answer(0, first.correct)
    assert verdict.correct and training.score == 1 and verdict.where
    wrong = 1 if training.questions[1].correct != 1 else 2
    assert not training.answer(1, wrong).correct
    assert training.progress().startswith(f"2/{len(training.questions)} answered · 1 correct")

    async with service.events() as events:
        assert service.end_scenario() is training and service.training is None
        ended = await events.next_of(TrainingEnded)
    assert ended.notice.text == f"All succeed: 1/{len(training.questions)} correct. Its faults are cleared."


async def test_presenter_controls(service: DashboardService) -> None:
    paused = await service.toggle_world()
    assert paused.state is not None and paused.state["paused"] is True and paused.notice is None
    assert (await service.toggle_world()).state["paused"] is False  # type: ignore[index]
    assert (await service.faster()).state["speed"] == 2.0  # type: ignore[index]
    assert (await service.slower()).state["speed"] == 1.0  # type: ignore[index]
    assert service.session is not None
    service.session.sim_root = None  # as on a real endpoint
    refused = await service.fault_now()
    assert refused.state is None and refused.notice is not None
    assert refused.notice.text == (
        "Presenter: scenarios and presenter controls need the simulator (this is a real endpoint)"
    )


async def test_the_presenter_state_is_read_again_when_the_server_answers_again(
    service: DashboardService,
) -> None:
    """A user's trial: P, then the simulator killed and restarted (its world playing): "⏸ world paused"
    stayed on the status bar while the bulk ran to its end, until P was pressed twice."""
    assert (await service.toggle_world()).state["paused"] is True  # type: ignore[index]
    session = service.session
    assert session is not None and session.simulator is not None
    link = session.client.link
    link.set(LinkState.UNREACHABLE, "connection refused")  # the simulator went away...
    session.simulator.engine.presenter.set(paused=False)  # ... and came back playing
    link.set(LinkState.CONNECTED)  # the next request is answered
    await eventually(lambda: (service.presenter_state or {}).get("paused") is False)


async def test_presenter_keys_cost_no_request_unless_the_world_stops_or_goes_on(
    service: DashboardService,
) -> None:
    """A trainee pressed + and - eighteen times while a run was on screen: each woke its follower for a
    poll, the request budget ran out and the counts froze for ~20 s. Speed and fault keys change nothing a
    poll shows; pausing and letting the world go do (and the run's model learns the world is paused)."""
    bulk = await submit(service, 20)
    follower = service.follow_run(bulk)
    await eventually(lambda: follower.model.status == "SUBMITTED")
    woken: list[str] = []
    wake = follower.wake
    follower.wake = lambda: (woken.append("wake"), wake())[1]  # type: ignore[method-assign]
    for _ in range(4):
        await service.faster()
        await service.slower()
    await service.fault_now()
    assert woken == []
    assert (await service.toggle_world()).state["paused"] is True  # type: ignore[index]
    assert woken == ["wake"] and follower.model.world_paused
    assert (await service.toggle_world()).state["paused"] is False  # type: ignore[index]
    assert woken == ["wake", "wake"] and not follower.model.world_paused


async def test_presenter_controls_before_connecting_say_so() -> None:
    # The first frame comes well before the first poll: a presenter key pressed meanwhile is not refused as
    # if the endpoint were a real one (it is not known yet).
    service = DashboardService(embedded)
    try:
        refused = await service.faster()
        assert refused.state is None and refused.notice is not None
        assert "not connected yet" in refused.notice.text and "real endpoint" not in refused.notice.text
    finally:
        await service.aclose()


async def test_the_bulk_list_is_followed_and_woken(service: DashboardService) -> None:
    async with service.events() as events:
        first = await events.next_of(BulksListed)
        assert first.page.bulks == [] and first.page.error is None
        bulk = await submit(service, 3)  # a submission wakes the list at once
        listed = await events.next_of(BulksListed, lambda e: any(b.bulkId == bulk for b in e.page.bulks))
    assert listed.page.total == 1 and service.known_bulks[bulk] == "SUBMITTED"
    assert service.connection.state == "connected"


@pytest.mark.parametrize(
    ("failure", "sentence"),
    [
        (OSError(98, "Address already in use"), "cannot start: Address already in use"),
        (RuntimeError("boom"), "RuntimeError: boom"),
    ],
)
async def test_a_failed_connect_is_a_sentence(failure: Exception, sentence: str) -> None:
    async def connect() -> Session:
        raise failure

    service = DashboardService(connect)
    async with service.events() as events:
        assert await service.connect() is None
        failed = await events.next_of(ConnectFailed)
    assert failed.error == sentence and failed.notice.title == "Not connected"
    assert service.connection.state == "not connected" and service.connection.error == sentence
    await service.aclose()


async def test_connect_says_connected_and_sets_the_starting_speed() -> None:
    service = DashboardService(embedded, speed=0.25)
    async with service.events() as events:
        await service.connect()
        connected = await events.next_of(Connected)
        await events.until(lambda: service.presenter_state is not None)
    assert connected.label.startswith("embedded simulator http://127.0.0.1:")
    assert service.speed == 0.25
    await service.aclose()


async def test_following_survives_an_unexpected_error(
    service: DashboardService, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk = await submit(service, 2)

    async def broken(self: RunFollower) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(RunFollower, "step", broken)
    async with service.events() as events:
        service.follow_run(bulk)
        changed = await events.next_of(RunChanged, lambda e: e.update.error is not None)
    assert changed.update.error == "Unexpected error: ValueError: boom"
    assert changed.update.retry_in_s(service.clock()) == pytest.approx(5.0, abs=1.0)
    # A bug in following is no news about the server: the connection says what the client's link says.
    assert service.connection.state == "connected"
    service.unfollow_run(bulk)
    assert bulk not in service.runs


async def test_a_poll_waiting_for_the_request_budget_says_so_with_a_deadline(
    service: DashboardService,
) -> None:
    """Issue 13: every poll error made the connection "unreachable"; a spent budget is no lost server."""
    assert service.session is not None
    budget = service.session.client.budget
    while True:  # spend the whole window, as a busy session would
        try:
            budget.check()
        except BudgetExhausted:
            break
        budget.spend()
    async with service.events() as events:
        service.bulks.wake()
        waiting = await events.next_of(BulksListed, lambda e: e.page.error is not None)
    assert waiting.page.error is not None and waiting.page.error.startswith("Waiting: request budget")
    assert service.connection.state == "waiting for the request budget"
    left = service.connection.retry_in_s()
    assert left is not None and 0 < left <= 60
    # The page carries the deadline, so what the screen shows counts down.
    retry = waiting.page.retry_in_s(service.clock())
    assert retry is not None and 0 < retry <= 60.1


async def test_speed_keys_pressed_in_a_burst_all_count_in_order(service: DashboardService) -> None:
    """Six - pressed in one burst from 10x ended at 4x, not 0.1x: each press stepped from the speed last
    answered, and the calls could overtake each other. Each now steps from the speed last asked for."""
    assert (await service.set_speed(10)).state["speed"] == 10.0  # type: ignore[index]
    presses = [service.slower() for _ in range(6)]  # not awaited in between: one burst
    await asyncio.gather(*presses)
    assert service.speed == 0.1 and (await service.faster()).state["speed"] == 0.25  # type: ignore[index]
    ups_and_downs = [service.faster() if n % 2 == 0 else service.slower() for n in range(10)]
    await asyncio.gather(*ups_and_downs)
    assert service.speed == 0.25  # ten +/- pairs from 0.25x: back where they started


@pytest.fixture
async def paced_service() -> AsyncIterator[DashboardService]:
    """A service whose simulator runs one operation per 50 ms: a bulk of 200 stays RUNNING for ~10 s."""
    service = DashboardService(lambda: embedded(op_delay_ms=50))
    assert await service.connect() is not None
    yield service
    await service.aclose()


async def test_lifecycle_keys_pressed_fast_reach_the_server_in_the_order_pressed(
    paced_service: DashboardService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = paced_service
    bulk = await submit(service, 200)
    assert (await service.act(bulk, BulkAction.EXECUTE, mode="ON_FAILURE_CONTINUE")).error is None
    real = service_module.request
    arrived: list[BulkAction] = []
    sent: list[BulkAction] = []
    first_held = asyncio.Event()

    def held_first(client: Any, bulk_id: str, action: BulkAction, mode: Any, interval: Any) -> Any:
        async def go() -> None:
            arrived.append(action)
            if len(arrived) == 1:
                await first_held.wait()  # the first request is slow on the wire
            sent.append(action)
            await real(client, bulk_id, action, mode, interval)

        return go()

    monkeypatch.setattr(service_module, "request", held_first)
    keys = [BulkAction.PAUSE, BulkAction.RESUME, BulkAction.PAUSE, BulkAction.RESUME]
    answers = [service.act(bulk, key) for key in keys]  # p r p r, in one burst
    await eventually(lambda: arrived)
    for _ in range(20):
        await asyncio.sleep(0)  # every other key's task has had its turn
    first_held.set()
    done = await asyncio.gather(*answers)
    assert [d.error for d in done] == [None] * 4
    assert sent == keys
    assert (await service.session.client.get_bulk(bulk)).status == "RUNNING"  # type: ignore[union-attr]
    await service.act(bulk, BulkAction.CANCEL)


async def test_a_refusal_right_after_our_own_action_is_worded_from_it(
    paced_service: DashboardService,
) -> None:
    service = paced_service
    bulk = await submit(service, 200)
    assert (await service.act(bulk, BulkAction.EXECUTE, mode="ON_FAILURE_CONTINUE")).error is None
    assert (await service.act(bulk, BulkAction.PAUSE)).error is None
    again = await service.act(bulk, BulkAction.PAUSE)  # p p: before any poll has seen it PAUSED
    assert again.code == "INVALID_STATE"
    assert f"Bulk {bulk} is PAUSED, and pausing needs it RUNNING" in again.notice.text, again.notice.text
    assert "someone else" not in again.notice.text
    await service.act(bulk, BulkAction.CANCEL)


async def test_a_submission_that_got_no_answer_is_not_called_refused(
    service: DashboardService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's trial: the connection dropped mid-upload and the dashboard said "Submission refused"; the
    bulk may exist, and submitting again would make a second one."""
    client = service.session.client  # type: ignore[union-attr]

    async def dropped(*_: Any, **__: Any) -> None:
        raise ApiError(None, "Cannot reach the server: the connection was closed")

    monkeypatch.setattr(client, "submit", dropped)
    lost = await service.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 3))
    assert lost.unanswered and lost.notice.title == "Submission: no answer"
    assert lost.notice.severity == "warning" and "look for it in the list" in lost.notice.text

    async def refused(*_: Any, **__: Any) -> None:
        raise ApiError(409, "Another bulk is running")

    monkeypatch.setattr(client, "submit", refused)
    answered = await service.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 3))
    assert not answered.unanswered and answered.notice.title == "Submission refused"
