"""The run view model without a terminal: what changed, which pages are worth fetching, the poll policy."""

from __future__ import annotations

from typing import Any

import pytest

from bulkdash.contract.models import BulkProcessDetails, BulkProcessOperation, status_counts
from bulkdash.model.run import PAGE_SIZE, PageRequest, RunModel, response_key


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def details(
    status: str, n: int, completed: int = 0, failed: int = 0, cancelled: int = 0, running: int = 0
) -> BulkProcessDetails:
    counts = {
        "SUBMITTED": n - completed - failed - cancelled - running,
        "RUNNING": running,
        "COMPLETED": completed,
        "FAILED": failed,
        "CANCELLED": cancelled,
    }
    return BulkProcessDetails(
        bulkId="1",
        status=status,
        submittedItemsCount=n,
        operation="POST /transfers",
        operationStatusCounts=status_counts(counts),
    )


def ops(first: int, last: int, attempted: int, failed: set[int] | None = None) -> list[BulkProcessOperation]:
    out = []
    for seq in range(first, last + 1):
        if seq <= attempted:
            status = "FAILED" if seq in (failed or set()) else "COMPLETED"
            resp = (
                '{"errorCode":"FUNDS_INSUFFICIENT"}'
                if status == "FAILED"
                else f'{{"id":"{seq}","state":"COMPLETED"}}'
            )
        else:
            status, resp = "SUBMITTED", None
        out.append(
            BulkProcessOperation(
                operationId=str(seq),
                sequence=seq,
                method="POST",
                path="/transfers",
                status=status,
                requestPayload="{}",
                responsePayload=resp,
            )
        )
    return out


def load(model: RunModel, attempted: int, failed: set[int] | None = None) -> list[int]:
    req = model.current_request()
    first = req.offset + 1
    return model.apply_page(req, ops(first, min(first + PAGE_SIZE - 1, model.n), attempted, failed), model.n)


def test_first_poll_fetches_the_page_then_only_when_the_frontier_crosses_it() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("SUBMITTED", 1000))
    assert model.pages_to_fetch() == [PageRequest(0, 100, None)]
    assert len(load(model, 0)) == 100
    assert model.pages_to_fetch() == []  # nothing moved
    model.apply_details(details("RUNNING", 1000, completed=40, running=1))
    assert model.pages_to_fetch() == [PageRequest(0, 100, None)]
    changed = load(model, 40)
    assert changed == list(range(1, 41))  # only the rows that changed
    model.apply_details(details("RUNNING", 1000, completed=400))
    assert model.pages_to_fetch() == [PageRequest(0, 100, None)]
    load(model, 400)
    # Every sequence on page 1 was attempted when it was fetched: it never changes again.
    model.apply_details(details("RUNNING", 1000, completed=900))
    assert model.pages_to_fetch() == []
    model.apply_details(details("COMPLETED", 1000, completed=1000))
    assert model.pages_to_fetch() == []


def test_a_page_ahead_of_the_frontier_waits_until_it_is_reached() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("RUNNING", 1000, completed=10))
    assert model.set_page(500)
    load(model, 10)
    model.apply_details(details("RUNNING", 1000, completed=300))
    assert model.pages_to_fetch() == []
    model.apply_details(details("RUNNING", 1000, completed=499))  # op 500 runs: still not on 501..600
    assert model.pages_to_fetch() == []
    model.apply_details(details("RUNNING", 1000, completed=500))  # op 501 is now running
    assert model.pages_to_fetch() == [PageRequest(500, 100, None)]


def test_a_stop_or_cancel_refetches_the_unfinished_page_once() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("RUNNING", 300, completed=50))
    load(model, 50)
    change = model.apply_details(details("CANCELLED", 300, completed=60, cancelled=240))
    assert change.became_final and change.status_changed
    assert model.pages_to_fetch() == [PageRequest(0, 100, None)]
    load(model, 60)
    assert model.pages_to_fetch() == []


def test_filtered_pages_refetch_when_their_count_moves() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("RUNNING", 1000, completed=100, failed=2))
    model.set_filter("FAILED")
    assert model.pages_to_fetch() == [PageRequest(0, 100, "FAILED")]
    model.apply_page(PageRequest(0, 100, "FAILED"), ops(1, 2, 2, {1, 2}), 2)
    model.apply_details(details("RUNNING", 1000, completed=200, failed=2))
    assert model.pages_to_fetch() == []
    model.apply_details(details("RUNNING", 1000, completed=200, failed=3))
    assert model.pages_to_fetch() == [PageRequest(0, 100, "FAILED")]


def test_a_page_that_arrives_after_the_user_moved_on_is_ignored() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("RUNNING", 1000, completed=10))
    stale = model.current_request()
    model.set_page(200)
    assert model.apply_page(stale, ops(1, 100, 10), 1000) == []
    assert model.rows == {}


def test_set_page_is_clamped_to_the_last_page() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("SUBMITTED", 250))
    assert model.set_page(10_000)
    assert model.page_offset == 200
    assert not model.set_page(200)
    assert model.set_page(-5) and model.page_offset == 0


def test_throughput_eta_and_progress() -> None:
    clock = Clock()
    model = RunModel("1", clock=clock)
    model.apply_details(details("RUNNING", 1000, completed=0))
    for step in range(1, 11):
        clock.t += 1
        model.apply_details(details("RUNNING", 1000, completed=step * 20))
    assert model.throughput() == 20.0
    assert model.eta_s() == (1000 - 200) / 20
    assert model.progress() == 0.2
    assert list(model.rates)[-1] == 20.0


def test_webhook_stands_in_for_a_poll_only_when_newer() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("RUNNING", 100, completed=50))
    old = {"SUBMITTED": 75, "RUNNING": 0, "COMPLETED": 25, "FAILED": 0, "CANCELLED": 0}
    assert model.apply_progress_event("RUNNING", old) is None  # out of order: older than what we know
    end = {"SUBMITTED": 0, "RUNNING": 0, "COMPLETED": 99, "FAILED": 1, "CANCELLED": 0}
    change = model.apply_progress_event("PARTIALLY_COMPLETED", end)
    assert change is not None and change.became_final
    assert model.is_final and model.counts["FAILED"] == 1


def test_a_late_progress_event_does_not_unpause_a_paused_bulk() -> None:
    # Operation 6 finished (progress event at 6 published), then the pause took effect; the poll saw PAUSED
    # at 6 before the event arrived. Found by the training test of the pause-then-resume pack.
    model = RunModel("1", clock=Clock())
    model.apply_details(details("PAUSED", 12, completed=6))
    at_six = {"SUBMITTED": 6, "RUNNING": 0, "COMPLETED": 6, "FAILED": 0, "CANCELLED": 0}
    assert model.apply_progress_event("RUNNING", at_six) is None
    assert model.status == "PAUSED"
    # An end event at the same count is news (cancelled while paused: the cancelled count moves).
    change = model.apply_progress_event("CANCELLED", {**at_six, "SUBMITTED": 0, "CANCELLED": 6})
    assert change is not None and change.became_final and model.status == "CANCELLED"


def test_poll_policy() -> None:
    clock = Clock()
    model = RunModel("1", clock=clock)
    model.apply_details(details("SUBMITTED", 10_000))
    assert model.next_poll_delay(on_screen=True, headroom=1) == 10.0
    model.apply_details(details("RUNNING", 10_000, completed=0))
    assert model.next_poll_delay(on_screen=True, headroom=1) == 0.5  # no rate yet
    clock.t += 5
    model.apply_details(details("RUNNING", 10_000, completed=100))  # 20 ops/s: ~8 minutes in all
    assert model.next_poll_delay(on_screen=True, headroom=1) == 4.5
    assert model.next_poll_delay(on_screen=True, headroom=0.4) == 9.0
    assert model.next_poll_delay(on_screen=False, headroom=1) == 15.0
    clock.t += 490
    model.apply_details(details("RUNNING", 10_000, completed=9_900))  # a long run near its end stays calm
    assert model.next_poll_delay(on_screen=True, headroom=1) == 4.5
    short = RunModel("2", clock=clock)
    short.apply_details(details("RUNNING", 10_000, completed=0))
    clock.t += 0.2
    short.apply_details(details("RUNNING", 10_000, completed=4_000))  # a sub-second run: poll at 4 Hz
    assert short.next_poll_delay(on_screen=True, headroom=1) == 0.25
    model.apply_details(details("COMPLETED", 10_000, completed=10_000))
    assert model.next_poll_delay(on_screen=True, headroom=1) is None


def test_search_and_response_key() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("RUNNING", 10, completed=5, failed=0))
    load(model, 5, failed={3})
    assert [r.sequence for r in model.visible_rows()] == list(range(1, 11))
    model.search = "funds"
    assert [r.sequence for r in model.visible_rows()] == [3]
    cases: dict[Any, str] = {
        None: "",
        "": "",
        '{"errorCode":"X"}': "X",
        '{"id":"7","state":"COMPLETED"}': "7 COMPLETED",
        '{"code":"INTERNAL_SERVER_ERROR","message":"m"}': "INTERNAL_SERVER_ERROR",
        '{"message":"bad","syntaxErrors":{"invalidFields":'
        '[{"fieldName":"description","error":"REQUIRED"}]}}': "REQUIRED description",
        "not json": "not json",
    }
    for payload, key in cases.items():
        assert response_key(payload) == key


def test_a_repeated_or_missing_sequence_is_still_its_own_row() -> None:
    """A server may repeat a sequence (or leave it out where another operation has its position): each
    operation keeps its row, under a key no other row of the page has (the table's row key)."""
    model = RunModel("1", clock=Clock())
    model.apply_details(details("COMPLETED", 3, completed=3))
    page = [
        BulkProcessOperation(operationId="a", sequence=1, status="COMPLETED"),
        BulkProcessOperation(operationId="b", sequence=1, status="FAILED"),
        BulkProcessOperation(operationId="c", status="COMPLETED"),  # no sequence: its position, 3
        BulkProcessOperation(operationId="d", sequence=3, status="COMPLETED"),
    ]
    changed = model.apply_page(model.current_request(), page, 4)
    rows = model.visible_rows()
    assert [r.operation_id for r in rows] == ["a", "b", "c", "d"]
    assert [r.cells()[0] for r in rows] == ["1", "1", "3", "3"]  # shown as sent
    assert len({r.row_id for r in rows}) == 4 and sorted(changed) == sorted(r.row_id for r in rows)
    assert rows[0].row_id == 1 and rows[2].row_id == 3  # the first of each keeps its sequence as its key
    # The same page again changes nothing: the keys are stable from poll to poll.
    assert model.apply_page(model.current_request(), page, 4) == []


def test_the_search_says_what_matched_and_among_what() -> None:
    model = RunModel("1", clock=Clock())
    model.apply_details(details("RUNNING", 10, completed=5, failed=0))
    load(model, 5, failed={3})
    model.search = "funds"
    assert model.search_summary() == "1 of 10 on this page match “funds”"  # was "1 match"
    model.search = "x" * 40
    assert model.search_summary() == f"0 of 10 on this page match “{'x' * 29}…”"


def _running_details(completed: int, n: int) -> BulkProcessDetails:
    counts = {"SUBMITTED": n - completed, "COMPLETED": completed}
    return BulkProcessDetails(
        bulkId="7", status="RUNNING", submittedItemsCount=n, operationStatusCounts=status_counts(counts)
    )


def test_a_webhook_just_after_a_poll_makes_no_throughput_sample() -> None:
    """A trainee read "peak 115,622,979 ops/s": a progress webhook 2,500 operations on, microseconds after a
    poll, was divided by those microseconds. Observations closer than MIN_SAMPLE_GAP_S join the next one."""
    from bulkdash.model.run import MIN_SAMPLE_GAP_S

    now = [0.0]
    model = RunModel("7", clock=lambda: now[0])
    model.apply_details(_running_details(0, 10_000))
    now[0] = 1.0
    model.apply_details(_running_details(2_000, 10_000))
    now[0] = 1.00002
    assert model.apply_progress_event("RUNNING", {"COMPLETED": 2_500, "SUBMITTED": 7_500}) is not None
    assert model.counts["COMPLETED"] == 2_500  # the counts are taken at once all the same
    now[0] = 1.0 + MIN_SAMPLE_GAP_S + 0.3
    model.apply_details(_running_details(3_000, 10_000))
    assert max(model.rates) < 5_000, list(model.rates)  # 2,000/s, then 1,000 over 0.5 s: 2,000/s


def test_a_paused_world_shows_no_rate_or_eta_and_its_time_is_not_running_time() -> None:
    """The presenter paused the world under a RUNNING bulk: "6.9 ops/s ETA 17.3 s" decayed to "1.0 ops/s ETA
    1 min 58 s" with nothing running. Paused, the rate and ETA are unknown; after it, the minute paused does
    not drag the rate down."""
    now = [0.0]
    model = RunModel("7", clock=lambda: now[0])
    done = 0
    for _ in range(20):  # 10 ops/s for 10 s, polled every 0.5 s
        model.apply_details(_running_details(done, 1_000))
        now[0] += 0.5
        done += 5
    assert model.rate().per_s == pytest.approx(10, rel=0.05) and model.eta_s() is not None
    model.set_world_paused(True)
    for _ in range(12):  # a minute paused, polled every 5 s: nothing moves
        now[0] += 5
        model.apply_details(_running_details(done, 1_000))
        assert model.rate().per_s is None and model.eta_s() is None
    model.set_world_paused(False)
    for _ in range(6):  # running again for 3 s
        now[0] += 0.5
        done += 5
        model.apply_details(_running_details(done, 1_000))
    assert model.rate().per_s == pytest.approx(10, rel=0.05)
