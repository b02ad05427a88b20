"""When bulk webhooks fire (docs/behaviour.md §6.4): the worked-example table, N ∈ {1, 3, 10, 100, 10,000} ×
w.

For N ≤ 100 the events are delivered to the dashboard's real receiver over loopback and the thresholds
are read from the bodies it recorded (values of A = COMPLETED + FAILED in the RUNNING events). For
N = 10,000 no base URL is configured, so the same events are read from ``GET /_sim/webhooks``, where they
must be recorded as ``SKIPPED`` with no attempt (§6.5, Appendix B).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulkdash.webhooks import EventKind, SignatureVerdict, WebhookReceiver
from simulator.settings import SimSettings
from tests.conftest import wait_for
from tests.simulator.helpers import Api, sim_settings, transfer
from tests.simulator.webhook_helpers import (
    BULK_END_PATH,
    attempted,
    dashboard_receiver,
    outbox,
    received,
    run_bulk,
    settled,
    thresholds_and_ends,
)

WS = (None, 1, 10, 5000)

# Expected progress thresholds (values of A) per N and w; every bulk also gets exactly one end event.
# N = 10, 100 and 10,000 are §6.4's table verbatim; N = 1 and 3 follow the same rule, I = max(w, ⌈N/4⌉).
TABLE: dict[int, dict[int | None, list[int]]] = {
    1: {None: [], 1: [], 10: [], 5000: []},  # I ≥ 1 = N: the only multiple is A = N, the end event
    3: {None: [], 1: [1, 2], 10: [], 5000: []},  # ⌈3/4⌉ = 1
    10: {None: [], 1: [3, 6, 9], 10: [], 5000: []},
    100: {None: [], 1: [25, 50, 75], 10: [25, 50, 75], 5000: []},
    10_000: {None: [], 1: [2500, 5000, 7500], 10: [2500, 5000, 7500], 5000: [5000]},
}


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[WebhookReceiver]:
    async with dashboard_receiver(tmp_path / "rx.db") as rx:
        yield rx


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> SimSettings:
    # Transaction webhooks are switched off here: this module is about bulk events only, and N = 10,000
    # would otherwise add 10,000 transfer events per bulk to the outbox.
    base_url = None
    if "receiver" in request.fixturenames:
        base_url = request.getfixturevalue("receiver").url
    return sim_settings(tmp_path, transaction_webhooks=False, webhook_base_url_p1=base_url)


@pytest.mark.parametrize("n", [1, 3, 10, 100])
async def test_interval_table_delivered(receiver: WebhookReceiver, alice: Api, n: int) -> None:
    for w in WS:
        bulk_id, bulk = await run_bulk(alice, [transfer(1)] * n, interval=w)
        assert bulk["status"] == "COMPLETED"
        # Settled first: the receiver records a webhook before answering it, the simulator its attempt after.
        events = await settled(alice.client, bulk_id)
        assert len(events) == len(TABLE[n][w]) + 1, (n, w)
        assert all(e["deliveryStatus"] == "DELIVERED" and len(e["attempts"]) == 1 for e in events)
        expected = len(events)
        records = await wait_for(
            lambda bulk_id=bulk_id: received(receiver, bulk_id), lambda rs, k=expected: len(rs) >= k
        )
        assert sorted(r.call_ref or "" for r in records) == sorted(e["eventId"] for e in events)
        assert all(r.kind is EventKind.BULK and r.path == BULK_END_PATH for r in records)
        assert all(r.accepted and r.signature_v2 is SignatureVerdict.VALID for r in records)
        assert not any(r.duplicate for r in records)
        progress, ends = thresholds_and_ends([r.json for r in records])
        assert progress == TABLE[n][w], (n, w)
        assert ends == ["COMPLETED"], (n, w)
        end = next(r for r in records if r.bulk_status == "COMPLETED")
        assert attempted(end.json) == n and end.json["submittedItemsCount"] == n
    assert len(await received(receiver)) == sum(len(TABLE[n][w]) + 1 for w in WS)


async def test_interval_table_ten_thousand_recorded_as_skipped(alice: Api) -> None:
    n = 10_000
    for w in WS:
        bulk_id, bulk = await run_bulk(alice, [transfer(1)] * n, interval=w)
        assert bulk["status"] == "COMPLETED"
        events = await outbox(alice.client, bulk_id)
        # No base URL configured: every event is on record, SKIPPED, never attempted.
        assert all(e["deliveryStatus"] == "SKIPPED" and e["attempts"] == [] for e in events)
        assert all(e["url"] is None and e["path"] == BULK_END_PATH for e in events)
        progress, ends = thresholds_and_ends([e["body"] for e in events])
        assert progress == TABLE[n][w], w
        assert ends == ["COMPLETED"], w
        # Publication order follows the counts, and the end event comes last.
        assert [attempted(e["body"]) for e in events] == [*TABLE[n][w], n]
