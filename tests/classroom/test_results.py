"""Class results: kept as they happen (a ``kill -9`` of the classroom loses no answer already given), and
exported as CSV and a Markdown summary whose per-question table puts the most-missed question first
(golden files)."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bulkdash.classroom.export import CSV_COLUMNS, build_export
from bulkdash.classroom.store import ClassError, ClassStore, clean_name
from bulkdash.cli import main

GOLDEN = Path(__file__).parent.parent / "golden"
ROOT = Path(__file__).resolve().parents[2]

QUESTIONS = {
    "all-succeed": ["What is the bulk's final state?", "How many webhooks arrived?", "Which one | is odd?"],
    "cancel-mid-run": ["What happened to operation 8?", "Can cancel be undone?", "What now?"],
}


class Clock:
    def __init__(self) -> None:
        self.ms = 1_780_000_000_000

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


async def _class(path: Path, clock: Clock) -> ClassStore:
    """Two trainees through two scenarios: Bob gets the 'what now' question wrong, both miss question 2."""
    store = await ClassStore(path, clock).open()
    ada, _ = await store.join("Ada")
    bob, _ = await store.join("Bob")
    na = "not applicable"
    for trainee, answers in (
        (ada, {"all-succeed": ["right", "wrong", "right"], "cancel-mid-run": ["right", "wrong", "right"]}),
        (bob, {"all-succeed": ["right", "wrong", na], "cancel-mid-run": ["right", "right", "wrong"]}),
    ):
        for scenario, verdicts in answers.items():
            await store.record(trainee, {"type": "started", "scenario": scenario, "total": 8})
            for n, verdict in enumerate(verdicts, 1):
                clock.advance(20)
                if n == 2:
                    await store.record(trainee, {"type": "hint", "scenario": scenario, "question": n})
                await store.record(
                    trainee,
                    {"type": "answer", "scenario": scenario, "question": n, "choice": n, "verdict": verdict},
                )
            reply = f"Dear customer,\n{trainee.name} here."
            await store.record(trainee, {"type": "reply", "scenario": scenario, "text": reply})
            clock.advance(5)
            await store.record(trainee, {"type": "ended", "scenario": scenario})
    return store


async def test_export_golden_files(tmp_path: Path) -> None:
    store = await _class(tmp_path / "class.db", Clock())
    try:
        export = await build_export(store, lambda name: QUESTIONS.get(name, []))
    finally:
        await store.close()
    assert export.csv.splitlines()[0] == ",".join(CSV_COLUMNS)
    if os.environ.get("BULKDASH_REGEN_GOLDEN"):
        (GOLDEN / "classroom_results.csv").write_text(export.csv, encoding="utf-8", newline="")
        (GOLDEN / "classroom_summary.md").write_text(export.markdown, encoding="utf-8")
    assert export.csv == (GOLDEN / "classroom_results.csv").read_text(encoding="utf-8")
    assert export.markdown == (GOLDEN / "classroom_summary.md").read_text(encoding="utf-8")
    # The point of the exercise: the question the class got wrong most comes first.
    per_question = export.markdown.split("## Per question, most missed first")[1]
    first_row = next(line for line in per_question.splitlines() if line.startswith(("| all-", "| cancel-")))
    assert "How many webhooks arrived?" in first_row


def test_export_command_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def fill() -> None:
        await (await _class(tmp_path / "data" / "class.db", Clock())).close()

    asyncio.run(fill())
    out = ["--out", str(tmp_path / "out")]
    assert main(["classroom", "--data", str(tmp_path / "data"), "export", *out]) == 0
    assert (tmp_path / "out" / "results.csv").read_text().count("\n") == 1 + 12
    assert "# Class results" in (tmp_path / "out" / "summary.md").read_text()
    for name in ("results.csv", "summary.md"):  # every trainee's name and answers: the owner's only
        assert oct(os.stat(tmp_path / "out" / name).st_mode & 0o777) == "0o600"
    assert main(["classroom", "export", "--data", str(tmp_path / "nothing")]) == 2
    assert "no class results" in capsys.readouterr().err


async def test_first_answer_counts_and_names_are_cleaned(tmp_path: Path) -> None:
    store = await ClassStore(tmp_path / "class.db").open()
    try:
        ada, secret = await store.join("  Ada\t Lovelace\x07 ")
        assert ada.name == "Ada Lovelace"
        assert await store.trainee(secret) == ada
        assert await store.trainee("not-a-secret") is None
        answer = {"type": "answer", "scenario": "s", "question": 1, "choice": 2, "verdict": "wrong"}
        await store.record(ada, answer)
        await store.record(ada, {**answer, "choice": 1, "verdict": "right"})
        rows = await store.rows("SELECT choice, verdict FROM answers")
        assert rows == [(2, "wrong")]
        assert oct(os.stat(tmp_path / "class.db").st_mode & 0o777) == "0o600"
        secrets_kept = await store.rows("SELECT secret_sha256 FROM trainees")
        assert secret not in str(secrets_kept)  # only its hash
    finally:
        await store.close()
    for bad in ("", "   ", "x" * 41):
        with pytest.raises(ClassError):
            clean_name(bad)


WRITER = """
import asyncio, sys
from pathlib import Path
from bulkdash.classroom.store import ClassStore

async def main():
    store = await ClassStore(Path(sys.argv[1])).open()
    ada, _ = await store.join("Ada")
    await store.record(ada, {"type": "started", "scenario": "all-succeed", "total": 8})
    for n in range(1, 4):
        await store.record(ada, {"type": "answer", "scenario": "all-succeed", "question": n, "choice": 1,
                                 "verdict": "right"})
    print("answered", flush=True)
    await asyncio.Event().wait()  # the classroom keeps running until it is killed

asyncio.run(main())
"""


def test_answers_survive_a_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "class.db"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, cwd=ROOT, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "answered"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    async def read() -> tuple[list[tuple], list[dict]]:
        store = await ClassStore(db).open()
        try:
            rows = await store.rows("SELECT question, verdict FROM answers ORDER BY question")
            return rows, await store.overview()
        finally:
            await store.close()

    rows, overview = asyncio.run(read())
    assert rows == [(1, "right"), (2, "right"), (3, "right")]
    assert overview[0]["name"] == "Ada" and overview[0]["right"] == 3


async def test_a_name_that_a_spreadsheet_would_run_is_exported_as_text(tmp_path: Path) -> None:
    store = await ClassStore(tmp_path / "class.db").open()
    try:
        for name in ('=HYPERLINK("http://evil")', "+1", "@SUM(A1)", "-2", "Ada"):
            trainee, _ = await store.join(name)
            answer = {"type": "answer", "scenario": "s", "question": 1, "choice": 1, "verdict": "right"}
            await store.record(trainee, answer)
        export = await build_export(store, lambda name: [])
    finally:
        await store.close()
    names = {row[0] for row in csv.reader(io.StringIO(export.csv))} - {"trainee"}
    assert names == {"'=HYPERLINK(\"http://evil\")", "'+1", "'@SUM(A1)", "'-2", "Ada"}
