"""Bulk webhooks across the lifecycle (docs/behaviour.md §6.4, §5.3, §5.4): exactly one end event per
executed bulk.

Every final state gets one end event carrying it (COMPLETED, PARTIALLY_COMPLETED, FAILED, CANCELLED from
RUNNING and from PAUSED); cancel from SUBMITTED and pause send nothing; the operation that ends a bulk
never also sends a progress event; and each multiple of I fires exactly once across pauses and resumes.
Pause and cancel points are exact, through the engine's ``before_operation`` hook (a ``Gate``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkdash.webhooks import WebhookReceiver
from simulator.server import Simulator
from simulator.settings import SimSettings
from tests.simulator.helpers import Api, sim_settings, transfer
from tests.simulator.webhook_helpers import (
    Gate,
    act_while_held,
    attempted,
    counts_of,
    dashboard_receiver,
    execute,
    final_bulk,
    outbox,
    received,
    received_bodies,
    run_bulk,
    thresholds_and_ends,
)

OK = transfer(1)
BAD = transfer(1, dest="5003")  # the blocked card: the single endpoint answers 409


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[WebhookReceiver]:
    async with dashboard_receiver(tmp_path / "rx.db") as rx:
        yield rx


@pytest.fixture
def settings(tmp_path: Path, receiver: WebhookReceiver) -> SimSettings:
    # Bulk events only: transaction webhooks are covered in test_webhooks_transactions.
    return sim_settings(tmp_path, transaction_webhooks=False, webhook_base_url_p1=receiver.url)


@pytest.mark.parametrize(
    ("items", "mode", "interval", "status", "progress"),
    [
        pytest.param([OK] * 4, None, None, "COMPLETED", [], id="completed"),
        # I = max(1, ⌈4/4⌉) = 1: A = 1, 2, 3 fire; A = 4 is the end, so only the end event (A18).
        pytest.param(
            [OK, OK, BAD, OK], "ON_FAILURE_CONTINUE", 1, "PARTIALLY_COMPLETED", [1, 2, 3], id="partial"
        ),
        # The STOP failure at A = 3 is a multiple of I = 1, but it ends the bulk: only the end event.
        pytest.param(
            [OK, OK, BAD, OK], "ON_FAILURE_STOP", 1, "PARTIALLY_COMPLETED", [1, 2], id="stop-partial"
        ),
        pytest.param([BAD, OK, OK, OK], "ON_FAILURE_STOP", 1, "FAILED", [], id="stop-on-op-1"),
    ],
)
async def test_end_event_exactly_once_per_final_state(
    alice: Api,
    receiver: WebhookReceiver,
    items: list[dict[str, Any]],
    mode: str | None,
    interval: int | None,
    status: str,
    progress: list[int],
) -> None:
    bulk_id, bulk = await run_bulk(alice, items, mode=mode, interval=interval)
    assert bulk["status"] == status
    bodies = await received_bodies(alice.client, receiver, bulk_id)
    assert thresholds_and_ends(bodies) == (progress, [status])
    end = next(b for b in bodies if b["status"] != "RUNNING")
    # The end event's counts are the bulk's final counts (§6.2: same rules as §3.2).
    assert counts_of(end) == counts_of(bulk)
    assert end == {
        "bulkId": bulk_id,
        "status": status,
        "submittedItemsCount": 4,
        "operationStatusCounts": bulk["operationStatusCounts"],
    }
    if status == "FAILED":
        assert counts_of(end) == {"SUBMITTED": 0, "RUNNING": 0, "COMPLETED": 0, "FAILED": 1, "CANCELLED": 3}


async def test_cancel_while_running_sends_one_cancelled_end_event(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api, receiver: WebhookReceiver
) -> None:
    simulator, client = sim
    gate = Gate(hold_at=2)
    simulator.engine.before_operation = gate
    bulk_id = await alice.submit([OK] * 4)
    await execute(alice, bulk_id)
    assert (await act_while_held(simulator, alice, bulk_id, gate, "cancel")).status_code == 204
    bodies = await received_bodies(client, receiver, bulk_id)
    assert thresholds_and_ends(bodies) == ([], ["CANCELLED"])
    assert counts_of(bodies[0]) == {"SUBMITTED": 0, "RUNNING": 0, "COMPLETED": 2, "FAILED": 0, "CANCELLED": 2}
    assert bodies[0]["operationStatusCounts"] == (await alice.bulk(bulk_id))["operationStatusCounts"]


async def test_pause_sends_nothing_and_cancel_while_paused_sends_one_end_event(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api, receiver: WebhookReceiver
) -> None:
    simulator, client = sim
    gate = Gate(hold_at=2)
    simulator.engine.before_operation = gate
    bulk_id = await alice.submit([OK] * 4)
    await execute(alice, bulk_id)  # no interval: the end event is the only one
    assert (await act_while_held(simulator, alice, bulk_id, gate, "pause")).status_code == 204
    # pause answers after its commit, so any event it had caused would already be in the outbox.
    assert (await alice.bulk(bulk_id))["status"] == "PAUSED"
    assert await outbox(client, bulk_id) == []
    assert (await alice.post(f"/bulks/{bulk_id}/cancel")).status_code == 204
    bodies = await received_bodies(client, receiver, bulk_id)
    assert thresholds_and_ends(bodies) == ([], ["CANCELLED"])
    assert counts_of(bodies[0]) == {"SUBMITTED": 0, "RUNNING": 0, "COMPLETED": 2, "FAILED": 0, "CANCELLED": 2}


async def test_cancel_from_submitted_sends_nothing(alice: Api, receiver: WebhookReceiver) -> None:
    cancelled = await alice.submit([OK] * 3)
    assert (await alice.post(f"/bulks/{cancelled}/cancel")).status_code == 204
    # A later bulk's end event is a fence: events go out in publication order, and once it has arrived
    # (and the outbox is settled) an event of the cancelled bulk would have been published before it.
    later, _ = await run_bulk(alice, [OK])
    await received_bodies(alice.client, receiver, later)
    assert await outbox(alice.client, cancelled) == []
    assert await received(receiver, cancelled) == []


async def test_each_multiple_fires_once_across_pauses_and_resumes(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api, receiver: WebhookReceiver
) -> None:
    simulator, client = sim
    n = 12  # w = 1 → I = max(1, 3) = 3: A = 3, 6, 9 and the end event
    bulk_id = await alice.submit([OK] * n)
    # First pause lands right after op 3, the operation that reaches the first multiple.
    gate = Gate(hold_at=3)
    simulator.engine.before_operation = gate
    await execute(alice, bulk_id, interval=1)
    assert (await act_while_held(simulator, alice, bulk_id, gate, "pause")).status_code == 204
    assert [attempted(e["body"]) for e in await outbox(client, bulk_id)] == [3]
    # Resume; the second pause lands after op 7, between multiples.
    gate = Gate(hold_at=7)
    simulator.engine.before_operation = gate
    assert (await alice.post(f"/bulks/{bulk_id}/resume")).status_code == 204
    assert (await act_while_held(simulator, alice, bulk_id, gate, "pause")).status_code == 204
    assert [attempted(e["body"]) for e in await outbox(client, bulk_id)] == [3, 6]
    # Resume and pause again at once, before another operation finishes the next multiple.
    gate = Gate(hold_at=8)
    simulator.engine.before_operation = gate
    assert (await alice.post(f"/bulks/{bulk_id}/resume")).status_code == 204
    assert (await act_while_held(simulator, alice, bulk_id, gate, "pause")).status_code == 204
    simulator.engine.before_operation = None
    assert (await alice.post(f"/bulks/{bulk_id}/resume")).status_code == 204
    bulk = await final_bulk(alice, bulk_id)
    assert bulk["status"] == "COMPLETED"
    bodies = await received_bodies(client, receiver, bulk_id)
    assert thresholds_and_ends(bodies) == ([3, 6, 9], ["COMPLETED"])
    assert all(b["status"] != "PAUSED" for b in bodies)  # PAUSED is never sent (§6.2)
