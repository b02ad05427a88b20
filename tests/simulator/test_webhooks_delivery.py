"""Webhook delivery (docs/behaviour.md §6.5, Appendix B): retries, a receiver that is down, redelivery,
config, load.

Real receivers on loopback that fail on cue. Retry delays are Weavr's 10 s × 6ⁿ schedule multiplied by
``webhook_retry_scale``; the tests use tiny scales and check the gaps between the recorded attempts.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkdash.webhooks import SignatureVerdict
from simulator.server import Simulator
from simulator.settings import SimSettings
from simulator.webhooks.dispatcher import RETRY_DELAYS_S, next_state
from tests.conftest import wait_for
from tests.simulator.helpers import Api, free_port, sim_settings, transfer
from tests.simulator.webhook_helpers import (
    SIGNED_HEADERS,
    Gate,
    ScriptedReceiver,
    always,
    dashboard_receiver,
    execute,
    final_bulk,
    outbox,
    received,
    run_bulk,
    set_base_url,
    settled,
)


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> SimSettings:
    # Indirect parameter: extra settings. No base URL by default: each test points P1 at its receiver.
    overrides: dict[str, Any] = {"transaction_webhooks": False, **getattr(request, "param", {})}
    return sim_settings(tmp_path, **overrides)


async def configure(client: httpx.AsyncClient, url: str | None, *, scale: float | None = None) -> None:
    await set_base_url(client, url)
    if scale is not None:
        resp = await client.put("/_sim/config", json={"webhookRetryScale": scale})
        assert resp.status_code == 204, resp.text


async def one_event(client: httpx.AsyncClient, api: Api) -> dict[str, Any]:
    """Run a one-transfer bulk (no interval, transaction webhooks off: one end event); its settled event."""
    bulk_id, _ = await run_bulk(api, [transfer(1)])
    (event,) = await settled(client, bulk_id)
    return event


def gaps(event: dict[str, Any]) -> list[int]:
    at = [a["at"] for a in event["attempts"]]
    return [b - a for a, b in itertools.pairwise(at)]


# --- the policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 0.001])
def test_retry_schedule_times_scale(scale: float) -> None:
    assert RETRY_DELAYS_S == (10, 60, 360, 2160, 12960)  # 10 s × 6ⁿ
    at = 1_000_000
    for attempt, delay_s in enumerate(RETRY_DELAYS_S, start=1):
        assert next_state(attempt, 503, at, scale) == ("PENDING", at + round(delay_s * 1000 * scale))
    assert next_state(6, 503, at, scale) == ("FAILED", None)  # the fifth retry was the last
    for retryable in (408, 409, 425, 500, 502, 503, 504, None):  # None: timeout or connection error
        assert next_state(1, retryable, at, scale)[0] == "PENDING", retryable
    for final in (400, 401, 403, 404, 410, 422):
        assert next_state(1, final, at, scale) == ("FAILED", None), final
    for ok in (200, 201, 202, 204, 299):
        assert next_state(3, ok, at, scale) == ("DELIVERED", None), ok


# --- retries over HTTP -----------------------------------------------------------------------------


async def test_503_twice_then_204_is_delivered_on_attempt_3(alice: Api, client: httpx.AsyncClient) -> None:
    async with ScriptedReceiver(lambda n: 503 if n <= 2 else 204) as rx:
        await configure(client, rx.url, scale=0.001)
        event = await one_event(client, alice)
        assert event["deliveryStatus"] == "DELIVERED"
        assert [a["status"] for a in event["attempts"]] == [503, 503, 204]
        assert [h.answered for h in rx.for_ref(event["eventId"])] == [503, 503, 204]
        # 10 s and 60 s at scale 0.001: each retry waits at least its delay, and not much more.
        first, second = gaps(event)
        assert 10 <= first < 10 + 400
        assert 60 <= second < 60 + 400


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_other_4xx_fails_at_once(alice: Api, client: httpx.AsyncClient, status: int) -> None:
    async with ScriptedReceiver(always(status)) as rx:
        await configure(client, rx.url, scale=0.0)  # a retry, if any, would be immediate
        event = await one_event(client, alice)
        assert event["deliveryStatus"] == "FAILED"
        assert [a["status"] for a in event["attempts"]] == [status]
        assert len(rx.for_ref(event["eventId"])) == 1


@pytest.mark.parametrize("status", [408, 409, 425, 500])
async def test_retryable_statuses_are_retried(alice: Api, client: httpx.AsyncClient, status: int) -> None:
    async with ScriptedReceiver(lambda n: status if n == 1 else 204) as rx:
        await configure(client, rx.url, scale=0.0)
        event = await one_event(client, alice)
        assert [a["status"] for a in event["attempts"]] == [status, 204]
        assert event["deliveryStatus"] == "DELIVERED"


@pytest.mark.parametrize("settings", [{"webhook_timeout_s": 0.2}], indirect=True)
async def test_a_timeout_is_retried(alice: Api, client: httpx.AsyncClient) -> None:
    async with ScriptedReceiver(hold=lambda n: 2.0 if n == 1 else 0.0) as rx:
        await configure(client, rx.url, scale=0.001)
        event = await one_event(client, alice)
        assert event["deliveryStatus"] == "DELIVERED"
        assert [a.get("status") for a in event["attempts"]] == [None, 204]
        assert event["attempts"][0]["error"] == "timeout"


async def test_five_retries_then_failed(alice: Api, client: httpx.AsyncClient) -> None:
    scale = 0.0001  # 1, 6, 36, 216, 1296 ms
    async with ScriptedReceiver(always(503)) as rx:
        await configure(client, rx.url, scale=scale)
        bulk_id, _ = await run_bulk(alice, [transfer(1)])
        (event,) = await settled(client, bulk_id, timeout=15)
        assert event["deliveryStatus"] == "FAILED"
        assert [a["status"] for a in event["attempts"]] == [503] * 6  # the first try and five retries
        assert len(rx.for_ref(event["eventId"])) == 6
        delays = [round(d * 1000 * scale) for d in RETRY_DELAYS_S]
        for gap, delay in zip(gaps(event), delays, strict=True):
            assert delay <= gap < delay + 400, (gaps(event), delays)
        # The schedule grows: the last wait dwarfs the first four together.
        assert gaps(event)[-1] > sum(gaps(event)[:-1])


# --- a receiver that is down, then up ------------------------------------------------------------


async def test_receiver_down_during_the_whole_bulk_then_up(
    alice: Api, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there yet: every first try is a connection error
    # 5, 30, 180, 1080 ms ...: a few failures during the bulk, then the receiver comes up.
    await configure(client, f"http://127.0.0.1:{port}", scale=0.0005)
    bulk_id = await alice.submit([transfer(1)] * 20)
    await execute(alice, bulk_id, interval=1)  # I = 5: A = 5, 10, 15 + the end event
    assert (await final_bulk(alice, bulk_id))["status"] == "COMPLETED"
    down = await wait_for(
        lambda: outbox(client, bulk_id),
        lambda evs: len(evs) == 4 and all(len(e["attempts"]) >= 2 for e in evs),
    )
    assert all(e["deliveryStatus"] == "PENDING" for e in down)
    assert all("error" in a and "status" not in a for e in down for a in e["attempts"])
    async with dashboard_receiver(tmp_path / "rx.db", port=port) as rx:
        events = await settled(client, bulk_id)
        assert all(e["deliveryStatus"] == "DELIVERED" for e in events)
        assert all(e["attempts"][-1].get("status") == 204 for e in events)
        records = await wait_for(lambda: received(rx, bulk_id), lambda rs: len(rs) >= 4)
    # Every event arrived, verified; a call-ref seen twice would have to be marked as a duplicate.
    assert {r.call_ref for r in records} == {e["eventId"] for e in events}
    firsts = [r for r in records if not r.duplicate]
    assert sorted(r.call_ref or "" for r in firsts) == sorted(e["eventId"] for e in events)
    first_id = {r.call_ref: r.id for r in firsts}
    assert all(r.duplicate_of == first_id[r.call_ref] for r in records if r.duplicate)
    assert all(r.accepted and r.signature_v2 is SignatureVerdict.VALID for r in records)


# --- exactly one attempt per event under a burst -----------------------------------------------------


@pytest.mark.parametrize("settings", [{"transaction_webhooks": True}], indirect=True)
async def test_a_burst_is_delivered_once_each(alice: Api, client: httpx.AsyncClient) -> None:
    async with ScriptedReceiver() as rx:
        await configure(client, rx.url)
        await run_bulk(alice, [transfer(1)] * 200, interval=1)
        events = await settled(client, timeout=20)
        assert len(events) == 200 + 4  # a transfer event per op; A = 50, 100, 150 and the end
        # A receiver answering 204 at once is sent each event exactly once: an event whose result is
        # not yet recorded must never be picked up again as still PENDING.
        assert all(e["deliveryStatus"] == "DELIVERED" and len(e["attempts"]) == 1 for e in events)
        assert sorted(h.call_ref for h in rx.hits) == sorted(e["eventId"] for e in events)


# --- redelivery and configuration ----------------------------------------------------------------


async def test_redeliver_resends_the_same_event(alice: Api, client: httpx.AsyncClient) -> None:
    async with ScriptedReceiver(lambda n: 400 if n == 1 else 204) as rx:
        await configure(client, rx.url, scale=0.001)
        event = await one_event(client, alice)
        assert event["deliveryStatus"] == "FAILED"  # 400: no retry; redelivery is the way out
        resp = await client.post(f"/_sim/webhooks/{event['eventId']}/redeliver")
        assert resp.status_code == 202
        again = await wait_for(
            lambda: outbox(client, event["bulkId"]),
            lambda evs: evs[0]["deliveryStatus"] == "DELIVERED",
        )
        assert [a["status"] for a in again[0]["attempts"]] == [400, 204]
        first, second = rx.for_ref(event["eventId"])
        assert second.body == first.body
        assert {k: second.headers[k] for k in SIGNED_HEADERS} == {k: first.headers[k] for k in SIGNED_HEADERS}
        assert second.headers["webhooks-key"] == first.headers["webhooks-key"]
        # Once more, on a delivered event: sent again, same call-ref.
        assert (await client.post(f"/_sim/webhooks/{event['eventId']}/redeliver")).status_code == 202
        await wait_for(lambda: asyncio.sleep(0, len(rx.for_ref(event["eventId"]))), lambda n: n == 3)
        assert rx.for_ref(event["eventId"])[2].body == first.body
    unknown = await client.post("/_sim/webhooks/00000000-0000-4000-8000-000000000000/redeliver")
    assert unknown.status_code == 404


async def test_config_base_url_takes_effect_for_new_events(alice: Api, client: httpx.AsyncClient) -> None:
    skipped = await one_event(client, alice)  # no base URL yet
    assert skipped["deliveryStatus"] == "SKIPPED" and skipped["attempts"] == []
    async with ScriptedReceiver() as first, ScriptedReceiver() as second:
        await configure(client, first.url)
        assert (await client.get("/_sim/config")).json()["webhookBaseUrl"] == {"P1": first.url}
        to_first = await one_event(client, alice)
        await configure(client, second.url)
        to_second = await one_event(client, alice)
        await configure(client, None)
        skipped_again = await one_event(client, alice)
        assert [h.call_ref for h in first.hits] == [to_first["eventId"]]
        assert [h.call_ref for h in second.hits] == [to_second["eventId"]]
    assert to_first["url"] == first.url + "/bulk_process_end/watch"
    assert to_first["deliveryStatus"] == to_second["deliveryStatus"] == "DELIVERED"
    assert skipped_again["deliveryStatus"] == "SKIPPED"
    # The earlier event keeps its state: SKIPPED is final, and the new URL is not applied retroactively.
    assert (await outbox(client))[0] == skipped
    bad = await client.put("/_sim/config", json={"webhookBaseUrl": {"P9": "http://127.0.0.1:1"}})
    assert bad.status_code == 400


# --- a slow receiver never slows a bulk down -------------------------------------------------------


@pytest.mark.parametrize("settings", [{"transaction_webhooks": True}], indirect=True)
async def test_slow_receiver_does_not_slow_the_bulk(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, client = sim
    async with ScriptedReceiver(hold_s=2.0) as rx:
        await configure(client, rx.url)
        # Hold the bulk at op 2 until the receiver is busy holding op 1's transfer webhook, so the rest
        # of the bulk runs while deliveries are stuck (up to 64 of them in flight).
        gate = Gate(hold_at=2)
        simulator.engine.before_operation = gate
        bulk_id = await alice.submit([transfer(1)] * 200)
        await execute(alice, bulk_id, interval=1)
        await gate.reached.wait()
        await wait_for(lambda: asyncio.sleep(0, rx.started), lambda n: n >= 1)
        started = time.monotonic()
        gate.release.set()
        bulk = await final_bulk(alice, bulk_id)
        elapsed = time.monotonic() - started
        assert bulk["status"] == "COMPLETED"
        assert rx.hits == []  # not one webhook answered yet: the whole bulk ran meanwhile
        assert elapsed < 1.0, elapsed  # a receiver taking 2 s per request
        assert rx.started >= 1
