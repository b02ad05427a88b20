"""Yesterday's incident as today's exercise: a run is recorded as a report (as the dashboard's ``e`` writes
it), ``scenario from-report`` turns the folder into a pack, and the pack replays on a fresh simulator to the
same final state, counts and failure sequence (``scenario run`` → MATCH), with nothing of the original items
in it unless kept."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkdash.contract.kinds import OperationKind
from bulkdash.contract.models import FINAL_BULK_STATUSES
from bulkdash.model.generate import generate
from bulkdash.report import build_report
from bulkdash.session import EmbeddedOptions, Session
from simulator.cli import main
from simulator.scenarios import reload_packs
from simulator.scenarios.authoring import validate_file
from simulator.scenarios.sources import ENV

FINAL = {str(s) for s in FINAL_BULK_STATUSES}


@pytest.fixture(autouse=True)
def own_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # setenv, not delenv: monkeypatch records (and so restores) only a variable it found or set, and the
    # commands under test add folders to it (--packs).
    monkeypatch.setenv(ENV, "")
    reload_packs()
    yield
    reload_packs()


async def _record(folder: Path, mode: str) -> list[tuple[int, str, str]]:
    """Run 10 transfers (2 to a blocked card) on a fresh simulator, write its report to ``folder``; the
    operations as (sequence, status, response) from the simulator's own view."""
    session = await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))
    try:
        ended = asyncio.Event()
        session.on_webhook(lambda r: ended.set() if r.bulk_status in FINAL else None)
        items = generate(OperationKind.TRANSFERS, 10, 0.2, token="g")
        created = await session.client.submit(OperationKind.TRANSFERS, items)
        await session.client.execute(created.bulkId, mode, webhook_interval=5)
        await asyncio.wait_for(ended.wait(), 10)
        assert session.receiver is not None
        hooks = await session.receiver.history(bulk_id=created.bulkId)
        report = await build_report(session.client, created.bulkId, webhooks=hooks, timeline=session.timeline)
        report.write(folder)
        return [(op["sequence"], op["status"], op["errorCode"] or "") for op in report.operations]
    finally:
        await session.close()


def _replayed(db: Path) -> list[tuple[int, str, str]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT sequence, status, response_payload FROM operations ORDER BY sequence"
        ).fetchall()
    finally:
        con.close()
    out = []
    for sequence, status, response in rows:
        code = ""
        if status == "FAILED":
            code = json.loads(response).get("errorCode", "") if response else ""
        out.append((sequence, status, code))
    return out


@pytest.mark.parametrize("mode", ["ON_FAILURE_CONTINUE", "ON_FAILURE_STOP"])
def test_a_recorded_run_replays_to_the_same_end_and_failures(
    tmp_path: Path, mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    original = asyncio.run(_record(tmp_path / "report", mode))
    assert any(status == "FAILED" for _, status, _ in original)
    packs = ["--dir", str(tmp_path / "packs")]
    assert main(["scenario", "from-report", str(tmp_path / "report"), "--name", "yesterday", *packs]) == 0
    out = capsys.readouterr().out
    assert "to fix:" not in out, out  # valid and lint-clean as generated
    pack = tmp_path / "packs" / "yesterday.toml"
    assert validate_file(pack) == []
    text = pack.read_text()
    assert f'mode = "{mode}"' in text
    if mode == "ON_FAILURE_CONTINUE":  # a progress event arrived: the interval is read from its counts
        assert "webhook_interval = 5" in text
    assert "5003" not in text and "5002" not in text  # no instrument of the original run (anonymised)

    db = tmp_path / "replay.db"
    assert main(["scenario", "--packs", str(tmp_path / "packs"), "run", "yesterday", "--db", str(db)]) == 0
    assert "MATCH" in capsys.readouterr().out
    replay = _replayed(db)
    assert [(s, st) for s, st, _ in replay] == [(s, st) for s, st, _ in original]
    assert [c for *_, c in replay] == [c for *_, c in original]


def test_keep_amount_keeps_the_range_and_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_record(tmp_path / "report", "ON_FAILURE_CONTINUE"))
    args = ["scenario", "from-report", str(tmp_path / "report"), "--dir", str(tmp_path / "packs")]
    assert main([*args, "--keep", "amount,iban"]) == 2
    assert "only amount, description, tag can be kept" in capsys.readouterr().err
    assert main([*args, "--keep", "amount", "--name", "kept"]) == 0
    assert "params = { amount = " in (tmp_path / "packs" / "kept.toml").read_text()
    assert main([*args, "--name", "kept"]) == 2  # never over an existing pack
    assert "exists already" in capsys.readouterr().err
    assert main(["scenario", "from-report", str(tmp_path / "nowhere"), "--dir", str(tmp_path)]) == 2
    assert "holds no report.md" in capsys.readouterr().err
    (tmp_path / "report" / "operations.jsonl").write_text("{not json\n")
    assert main([*args, "--name", "broken"]) == 2
    assert "operations.jsonl:1: not JSON" in capsys.readouterr().err
