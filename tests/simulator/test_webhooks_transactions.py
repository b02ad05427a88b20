"""Transaction webhooks (docs/behaviour.md §6.6) and the path switches (§6.1, Appendix B), over real HTTP.

Transfers, sends and outgoing wire transfers run in bulks; the receiver gets one event per transfer or
send and SUBMITTED then COMPLETED per wire, on their own paths, in the legacy shapes, with
``publishedTimestamp`` repeating the header, and without ``webhooks-key``. Failed operations send none.
``transaction_webhooks=False`` silences them; ``SIM_PROGRESS_WEBHOOK_PATH`` moves RUNNING events only.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.server import start_embedded
from simulator.settings import SimSettings
from tests.conftest import wait_for
from tests.operations.helpers import owt, send
from tests.simulator.helpers import Api, login, sim_settings, transfer
from tests.simulator.webhook_helpers import (
    BULK_END_PATH,
    PROGRESS_PATH,
    Hit,
    ScriptedReceiver,
    attempted,
    run_bulk,
    settled,
)


@pytest.fixture
async def receiver() -> AsyncIterator[ScriptedReceiver]:
    async with ScriptedReceiver() as rx:
        yield rx


@pytest.fixture
def settings(tmp_path: Path, receiver: ScriptedReceiver, request: pytest.FixtureRequest) -> SimSettings:
    # Indirect parameter: extra settings for the simulator under test.
    overrides: dict[str, Any] = getattr(request, "param", {})
    return sim_settings(tmp_path, webhook_base_url_p1=receiver.url, **overrides)


def item(body: dict[str, Any]) -> dict[str, Any]:
    return {"pathParams": {}, "requestBody": body}


async def all_hits(client: httpx.AsyncClient, receiver: ScriptedReceiver) -> list[Hit]:
    """Every request of the run, once the outbox has settled with everything delivered, in publication
    order (the receiver may see concurrent deliveries in another order)."""
    events = await settled(client)
    assert all(e["deliveryStatus"] == "DELIVERED" for e in events), events
    hits = await wait_for(lambda: _copy(receiver), lambda hs: len(hs) >= len(events))
    assert len(hits) == len(events)
    order = {e["eventId"]: i for i, e in enumerate(events)}
    return sorted(hits, key=lambda h: order[h.call_ref])


async def _copy(receiver: ScriptedReceiver) -> list[Hit]:
    return list(receiver.hits)


async def responses(api: Api, bulk_id: str) -> list[dict[str, Any] | None]:
    """The single endpoint's response of each operation, in sequence order (None for a failed one)."""
    page = (await api.get(f"/bulks/{bulk_id}/operations")).json()["operations"]
    return [json.loads(o["responsePayload"]) if o["status"] == "COMPLETED" else None for o in page]


def tx_hits(hits: list[Hit]) -> list[Hit]:
    return [h for h in hits if h.path not in (BULK_END_PATH, PROGRESS_PATH)]


def check_transaction_headers(hit: Hit) -> None:
    assert "webhooks-key" not in hit.headers  # bulk webhooks only (§6.6, A15)
    assert hit.json["publishedTimestamp"] == hit.headers["published-timestamp"]


async def test_transfer_webhooks(alice: Api, client: httpx.AsyncClient, receiver: ScriptedReceiver) -> None:
    future = "4102444800000"  # 2100-01-01: a scheduled transfer
    items = [
        transfer(1500, dest="5001", tag="payroll_jan"),
        transfer(1, dest="5003"),  # blocked card: fails, so no transaction and no webhook
        {"pathParams": {}, "requestBody": {**transfer(20)["requestBody"], "scheduledTimestamp": future}},
    ]
    bulk_id, bulk = await run_bulk(alice, items)
    assert bulk["status"] == "PARTIALLY_COMPLETED"
    hits = tx_hits(await all_hits(client, receiver))
    done, _failed, scheduled = await responses(alice, bulk_id)
    assert done is not None and scheduled is not None
    assert [h.path for h in hits] == ["/transfers/watch"] * 2
    for hit in hits:
        check_transaction_headers(hit)
    assert hits[0].json == {
        "eventType": "COMPLETED",
        "publishedTimestamp": hits[0].headers["published-timestamp"],
        "transfer": {
            "id": {"type": "transfers", "id": done["id"]},
            "profileId": "3001",
            "tag": "payroll_jan",
            "source": {"type": "managed_accounts", "id": "4001"},
            "destination": {"type": "managed_cards", "id": "5001"},
            "destinationAmount": {"currency": "GBP", "amount": "1500"},
            "state": "COMPLETED",
            "creationTimestamp": str(done["creationTimestamp"]),
            "executionTimestamp": done["executionTimestamp"],
        },
    }
    assert hits[1].json["eventType"] == "SCHEDULED"
    assert hits[1].json["transfer"]["state"] == "SCHEDULED"
    assert hits[1].json["transfer"]["scheduledTimestamp"] == future
    assert "executionTimestamp" not in hits[1].json["transfer"]


async def test_send_webhooks(alice: Api, client: httpx.AsyncClient, receiver: ScriptedReceiver) -> None:
    items = [item(send(dst="4101", tag="s1")), item(send(dst={"beneficiaryId": "7003"}, amount=300))]
    bulk_id, bulk = await run_bulk(alice, items, path="/bulks/sends")
    assert bulk["status"] == "COMPLETED"
    hits = tx_hits(await all_hits(client, receiver))
    direct, via_beneficiary = await responses(alice, bulk_id)
    assert direct is not None and via_beneficiary is not None
    assert [h.path for h in hits] == ["/send/watch"] * 2  # singular "send"
    for hit in hits:
        check_transaction_headers(hit)
    assert hits[0].json == {
        "eventType": "COMPLETED",
        "publishedTimestamp": hits[0].headers["published-timestamp"],
        "send": {
            "id": {"type": "sends", "id": direct["id"]},
            "profileId": "3101",
            "tag": "s1",
            "source": {"type": "managed_accounts", "id": "4001"},
            "destination": {"type": "managed_accounts", "id": "4101"},
            "destinationAmount": {"currency": "GBP", "amount": "500"},
            "transactionAmount": {"currency": "GBP", "amount": "500"},
            "state": "COMPLETED",
            "creationTimestamp": str(direct["creationTimestamp"]),
            "executionTimestamp": direct["executionTimestamp"],
        },
    }
    # Through a beneficiary: the destination is the resolved instrument, plus beneficiaryId.
    second = hits[1].json["send"]
    assert second["id"] == {"type": "sends", "id": via_beneficiary["id"]}
    assert second["destination"] == {"type": "managed_accounts", "id": "4101"}
    assert second["beneficiaryId"] == "7003"
    assert second["transactionAmount"] == {"currency": "GBP", "amount": "300"}


async def test_wire_transfer_webhooks(
    alice: Api, client: httpx.AsyncClient, receiver: ScriptedReceiver
) -> None:
    bulk_id, bulk = await run_bulk(alice, [item(owt(tag="wire1"))], path="/bulks/outgoing_wire_transfers")
    assert bulk["status"] == "COMPLETED"
    hits = tx_hits(await all_hits(client, receiver))
    (wire,) = await responses(alice, bulk_id)
    assert wire is not None
    assert [(h.path, h.json["eventType"]) for h in hits] == [
        ("/outgoing_wire_transfers/watch", "SUBMITTED"),
        ("/outgoing_wire_transfers/watch", "COMPLETED"),
    ]
    for hit in hits:
        check_transaction_headers(hit)
    submitted, completed = (h.json for h in hits)
    assert submitted == {
        "owner": {"type": "corporates", "id": "1001"},
        "eventType": "SUBMITTED",
        "publishedTimestamp": hits[0].headers["published-timestamp"],
        "transfer": {
            "id": {"type": "outgoing_wire_transfers", "id": wire["id"]},
            "profileId": "3201",
            "tag": "wire1",
            "source": {"type": "managed_accounts", "id": "4002"},
            "transferAmount": {"currency": "EUR", "amount": "10000"},
            "transactionAmount": {"currency": "EUR", "amount": "10000"},
            "description": "INV-2026-001",
            "type": "SEPA",
            "destination": {
                "beneficiaryName": "Hans Muster",
                "sepa": {"iban": "DE89370400440532013000", "bankIdentifierCode": "COBADEFFXXX"},
            },
            "beneficiaryId": "7001",
            "state": "SUBMITTED",
            "creationTimestamp": str(wire["creationTimestamp"]),
        },
    }
    assert completed["transfer"]["state"] == "COMPLETED"
    assert completed["transfer"]["executionTimestamp"].isdecimal()
    assert {k: v for k, v in completed["transfer"].items() if k not in ("state", "executionTimestamp")} == {
        k: v for k, v in submitted["transfer"].items() if k != "state"
    }


@pytest.mark.parametrize("settings", [{"transaction_webhooks": False}], indirect=True)
async def test_transaction_webhooks_can_be_switched_off(
    alice: Api, client: httpx.AsyncClient, receiver: ScriptedReceiver
) -> None:
    bulk_id, _ = await run_bulk(alice, [transfer(1)] * 3, interval=1)
    sends_id, _ = await run_bulk(alice, [item(send())], path="/bulks/sends")
    wires_id, _ = await run_bulk(alice, [item(owt())], path="/bulks/outgoing_wire_transfers")
    hits = await all_hits(client, receiver)
    # Only bulk events: the transfers bulk's progress (A = 1, 2) and end, and the other two ends.
    assert {h.path for h in hits} == {BULK_END_PATH}
    assert sorted(h.json["bulkId"] for h in hits) == sorted([bulk_id] * 3 + [sends_id, wires_id])


async def test_progress_path_moves_running_events_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, receiver: ScriptedReceiver
) -> None:
    # Through the real environment variable of Appendix B, read by SimSettings.
    monkeypatch.setenv("SIM_PROGRESS_WEBHOOK_PATH", PROGRESS_PATH)
    simulator, server = await start_embedded(
        sim_settings(tmp_path, webhook_base_url_p1=receiver.url, transaction_webhooks=False)
    )
    try:
        assert simulator.settings.progress_webhook_path == PROGRESS_PATH
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
            api = await login(client)
            await run_bulk(api, [transfer(1)] * 8, interval=2)  # I = 2: A = 2, 4, 6 + E
            hits = await all_hits(client, receiver)
    finally:
        await server.stop()
    routed = sorted((attempted(h.json), h.json["status"], h.path) for h in hits)
    assert routed == [
        (2, "RUNNING", PROGRESS_PATH),
        (4, "RUNNING", PROGRESS_PATH),
        (6, "RUNNING", PROGRESS_PATH),
        (8, "COMPLETED", BULK_END_PATH),  # end events always go to /bulk_process_end/watch
    ]
    # Both paths carry the bulk webhook's webhooks-key.
    assert all(h.headers["webhooks-key"] == "sim-webhooks-key-P1" for h in hits)
