"""At-least-once across a crash (docs/behaviour.md §6.5): kill -9 after an end event's commit, before its
delivery.

``bulkdash-sim serve --webhook-url URL`` (as ``python -m simulator serve``) points P1 at a port where nothing
listens yet, so every first try fails and the retry stays pending. The process is killed, a receiver comes
up on that port, the simulator restarts on the same file, and the pending events, end event included,
are delivered with the call-ref, timestamp and bytes they were committed with.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from bulkdash.contract.signatures import verify_v2
from bulkdash.webhooks import SignatureVerdict
from tests.conftest import wait_for
from tests.simulator.helpers import (
    KEY1,
    free_port,
    login,
    sim_is_up,
    start_sim_process,
    stop_process,
    transfer,
)
from tests.simulator.webhook_helpers import (
    BULK_END_PATH,
    dashboard_receiver,
    execute,
    final_bulk,
    outbox,
    received,
)

pytestmark = pytest.mark.slow


def start_sim(db: Path, port: int, webhook_url: str) -> subprocess.Popen[bytes]:
    # Retry scale 0.2: a failed first try is retried 2 s later, long enough to kill the process first.
    env = {"SIM_BATCH_MS": "5", "SIM_WEBHOOK_RETRY_SCALE": "0.2"}
    return start_sim_process(db, port, "--op-delay-ms", "0", "--webhook-url", webhook_url, env=env)


async def test_end_event_pending_at_kill_9_is_delivered_after_restart(tmp_path: Path) -> None:
    db, port, hook_port = tmp_path / "sim.db", free_port(), free_port()
    hook_url = f"http://127.0.0.1:{hook_port}"
    proc = start_sim(db, port, hook_url)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            await wait_for(lambda: sim_is_up(client), bool, timeout=20)
            assert (await client.get("/_sim/config")).json()["webhookBaseUrl"] == {"P1": hook_url}
            api = await login(client)
            bulk_id = await api.submit([transfer(1)] * 3)
            await execute(api, bulk_id, interval=1)  # I = 1: A = 1, 2, then the end event
            assert (await final_bulk(api, bulk_id))["status"] == "COMPLETED"

            def end_tried(events: list[dict]) -> bool:
                ends = [e for e in events if e["body"].get("status") == "COMPLETED"]
                return len(ends) == 1 and len(ends[0]["attempts"]) >= 1

            before = await wait_for(lambda: outbox(client), end_tried)
            (end,) = [e for e in before if e["body"].get("status") == "COMPLETED"]
            assert end["deliveryStatus"] == "PENDING" and "error" in end["attempts"][0]
            assert len(before) == 3 + 3  # A = 1, 2, the end, and a transfer event per operation
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

            async with dashboard_receiver(tmp_path / "rx.db", port=hook_port) as rx:
                proc = start_sim(db, port, hook_url)
                await wait_for(lambda: sim_is_up(client), bool, timeout=20)
                records = await wait_for(
                    lambda: received(rx),
                    lambda rs: {e["eventId"] for e in before} <= {r.call_ref for r in rs},
                )
                after = await wait_for(
                    lambda: outbox(client), lambda evs: all(e["deliveryStatus"] == "DELIVERED" for e in evs)
                )
    finally:
        stop_process(proc)
    # Delivered after the restart: once each (a duplicate would be marked), all verified.
    assert sorted(r.call_ref or "" for r in records if not r.duplicate) == sorted(
        e["eventId"] for e in before
    )
    assert all(r.accepted and r.signature_v2 is SignatureVerdict.VALID for r in records)
    (got,) = [r for r in records if r.call_ref == end["eventId"] and not r.duplicate]
    assert got.path == BULK_END_PATH
    assert got.headers["published-timestamp"] == end["headers"]["published-timestamp"]
    assert got.headers["signature-v2"] == end["headers"]["signature-v2"]
    assert json.loads(got.body) == end["body"]
    assert verify_v2(
        KEY1, end["eventId"], got.body, end["headers"]["published-timestamp"], got.headers["signature-v2"]
    )
    # The outbox kept the failed tries from before the crash and added the delivery after it.
    (end_after,) = [e for e in after if e["eventId"] == end["eventId"]]
    assert end_after["attempts"][: len(end["attempts"])] == end["attempts"]
    assert end_after["attempts"][-1]["status"] == 204
    assert [e["eventId"] for e in after] == [e["eventId"] for e in before]  # nothing new, nothing lost
