"""``bulkdash classroom export``: a class's results as CSV (one row per answer) and a Markdown summary — per
trainee, and per question with the ones the class got wrong most first (the point of the exercise).

Plain Python over :class:`bulkdash.classroom.store.ClassStore`; deterministic for the same database (sorted,
times in UTC), so a golden file can hold it. ``questions`` maps a scenario's name to its questions' texts
(the classroom passes the packs'; a pack since removed shows its questions by number).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bulkdash.classroom.store import ClassStore

CSV_COLUMNS = (
    "trainee",
    "scenario",
    "question",
    "question_text",
    "choice",
    "verdict",
    "hints",
    "answered_at_utc",
    "seconds_into_scenario",
)


@dataclass(frozen=True, slots=True)
class Export:
    csv: str
    markdown: str

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Both files, the owner's only (0600, as the class's database): they name every trainee."""
        folder.mkdir(parents=True, exist_ok=True)
        results, summary = folder / "results.csv", folder / "summary.md"
        _write_private(results, self.csv)
        _write_private(summary, self.markdown)
        return results, summary


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
        os.fchmod(file.fileno(), 0o600)  # also when an earlier export left it readable
        file.write(text)


#: A cell starting with one of these is a formula to a spreadsheet: a trainee named =HYPERLINK("…") reached
#: the instructor's spreadsheet as one (a user's trial). Such a name gets a leading ' (OWASP's advice).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _not_a_formula(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


async def build_export(store: ClassStore, questions: Callable[[str], list[str]]) -> Export:
    answers = await store.answers_for_export()
    texts: dict[str, list[str]] = {}

    def text(scenario: str, number: int) -> str:
        if scenario not in texts:
            texts[scenario] = questions(scenario)
        known = texts[scenario]
        return known[number - 1] if 0 < number <= len(known) else f"question {number}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, scenario, number, choice, verdict, answered, hints, started, _ in answers:
        since = "" if started is None else f"{(answered - started) / 1000:.1f}"
        writer.writerow(
            (
                _not_a_formula(name),
                scenario,
                number,
                text(scenario, number),
                choice,
                verdict,
                hints,
                _utc(answered),
                since,
            )
        )
    return Export(out.getvalue(), await _markdown(store, answers, text))


async def _markdown(
    store: ClassStore, answers: list[tuple], text: Callable[[str, int], str]
) -> str:
    lines = ["# Class results", ""]
    trainees = [(t.id, t.name) for t in sorted(await store.trainees(), key=lambda t: (t.name, t.id))]
    runs = await store.runs()
    hints_of = await store.hints_per_trainee()
    lines += [
        f"{len(trainees)} trainees, {len(answers)} answers.",
        "",
        "## Per trainee",
        "",
        "| Trainee | Scenarios | Right | Wrong | Not applicable | Hints | Time in scenarios |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for tid, name in trainees:
        mine = [a for a in answers if a[8] == tid]
        spent = sum((end - start) for t, _, start, end in runs if t == tid and end is not None)
        scenarios = len({s for t, s, *_ in runs if t == tid})
        lines.append(
            f"| {_cell(name)} | {scenarios} | {sum(a[4] == 'right' for a in mine)} | "
            f"{sum(a[4] == 'wrong' for a in mine)} | {sum(a[4] == 'not applicable' for a in mine)} | "
            f"{hints_of.get(tid, 0)} | {spent / 1000:.0f} s |"
        )
    per_question: dict[tuple[str, int], list[tuple]] = {}
    for a in answers:
        per_question.setdefault((a[1], a[2]), []).append(a)

    def missed(item: tuple[tuple[str, int], list[tuple]]) -> tuple[float, str, int]:
        (scenario, number), given = item
        judged = [a for a in given if a[4] != "not applicable"]
        share = sum(a[4] == "wrong" for a in judged) / len(judged) if judged else 0.0
        return (-share, scenario, number)

    lines += [
        "",
        "## Per question, most missed first",
        "",
        "| Scenario | # | Question | Answered | Wrong | Wrong % | Hints |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for (scenario, number), given in sorted(per_question.items(), key=missed):
        judged = [a for a in given if a[4] != "not applicable"]
        wrong = sum(a[4] == "wrong" for a in judged)
        share = f"{100 * wrong / len(judged):.0f} %" if judged else "—"
        lines.append(
            f"| {_cell(scenario)} | {number} | {_cell(text(scenario, number))} | {len(given)} | {wrong} | "
            f"{share} | {sum(a[6] for a in given)} |"
        )
    replies = await store.replies()
    if replies:
        lines += ["", "## Replies to the customer", ""]
        for name, scenario, reply in replies:
            lines += [f"### {name} — {scenario}", "", *(f"> {line}" for line in reply.splitlines()), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


__all__ = ["CSV_COLUMNS", "Export", "build_export"]
