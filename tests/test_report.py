"""Run reports: a golden Markdown file of a known run, the JSON Lines, and no secret in any output."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from bulkdash.contract.kinds import OperationKind
from bulkdash.contract.models import FINAL_BULK_STATUSES
from bulkdash.model.generate import generate
from bulkdash.report import build_report
from bulkdash.session import DEMO_API_KEY, EmbeddedOptions, Session

GOLDEN = Path(__file__).parent / "golden" / "report_transfers.md"
FINAL = {str(s) for s in FINAL_BULK_STATUSES}
SECRETS = (DEMO_API_KEY, "sim-webhooks-key-P1", "Passw0rd!Sim")


async def _known_run() -> tuple[Session, str]:
    """Fresh simulator: 10 transfers, 2 to blocked card 5003, ON_FAILURE_CONTINUE, run to the end."""
    session = await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))
    ended = asyncio.Event()
    session.on_webhook(lambda r: ended.set() if r.bulk_status in FINAL else None)
    items = generate(OperationKind.TRANSFERS, 10, 0.2, token="g")
    created = await session.client.submit(OperationKind.TRANSFERS, items)
    await session.client.execute(created.bulkId, "ON_FAILURE_CONTINUE")
    await asyncio.wait_for(ended.wait(), 10)
    return session, created.bulkId


async def test_report_of_a_known_run(tmp_path: Path) -> None:
    session, bulk_id = await _known_run()
    try:
        assert session.receiver is not None
        hooks = await session.receiver.history(bulk_id=bulk_id)
        report = await build_report(
            session.client, bulk_id, webhooks=hooks, timeline=session.timeline, stable=True, now=lambda: 0
        )
        failed_only = await build_report(session.client, bulk_id, status="FAILED")
        token = session.client.token
    finally:
        await session.close()
    assert bulk_id == "1000001"
    if os.environ.get("BULKDASH_REGEN_GOLDEN"):
        GOLDEN.write_text(report.markdown, encoding="utf-8")
    assert report.markdown == GOLDEN.read_text(encoding="utf-8")

    out = report.write(tmp_path / "r")
    assert sorted(p.name for p in out.iterdir()) == ["operations.jsonl", "report.md", "webhooks.jsonl"]
    ops = [json.loads(line) for line in (out / "operations.jsonl").read_text().splitlines()]
    assert [op["sequence"] for op in ops] == list(range(1, 11))
    failed = [op for op in ops if op["status"] == "FAILED"]
    assert len(failed) == 2 and all("5003" in op["path"] or "5003" in json.dumps(op) for op in failed)
    assert all(op["errorCode"] for op in failed)
    assert [op["sequence"] for op in failed_only.operations] == [op["sequence"] for op in failed]
    webhooks = [json.loads(line) for line in (out / "webhooks.jsonl").read_text().splitlines()]
    assert len(webhooks) == len(hooks) >= 1
    assert webhooks[-1]["bulkStatus"] == "PARTIALLY_COMPLETED" and webhooks[-1]["signatureV2"] == "valid"
    everything = "".join(p.read_text() for p in out.iterdir())
    for secret in (*SECRETS, token):
        assert secret and secret not in everything


def test_redaction() -> None:
    from bulkdash.report import redact

    assert redact({"a": [{"token": "x", "Authorization": "Bearer y", "ok": 1}]}) == {
        "a": [{"token": "***", "Authorization": "***", "ok": 1}]
    }


@pytest.mark.parametrize("stable", [True, False])
async def test_report_without_session_extras(stable: bool) -> None:
    session = await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))
    try:
        created = await session.client.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 3))
        report = await build_report(session.client, created.bulkId, stable=stable, now=lambda: 0)
    finally:
        await session.close()
    assert "No webhooks recorded" in report.markdown and "No timeline" in report.markdown
    assert ("1970-01-01 00:00:00.000 UTC" in report.markdown) is not stable
    assert len(report.operations) == 3 and report.webhooks == []
