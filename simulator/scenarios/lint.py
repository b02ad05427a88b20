"""The pack linter behind ``bulkdash-sim scenario lint [FILE...]``: a checklist a trainee cannot guess.

A pack can be valid (it loads, its run matches) and still teach nothing, if its questions can be answered
without looking at the dashboard. The rules, each reported with the pack, the question and the rule's name:

* ``choices`` — every question offers at least :data:`MIN_CHOICES` choices (two is a coin toss);
* ``position`` — no choice position is correct in more than :data:`MAX_SAME_POSITION` of a pack's questions;
* ``longest`` — the correct choice is not the longest one (ties count) in more than half of them;
* ``evidence`` — every fact a question names can be produced by the pack's run: an operation the bulk has,
  and the values the pack's ``[expect]`` table promises (the fact vocabulary itself is checked when the
  pack loads, :class:`bulkdash.contract.scenarios.Evidence`);
* ``giveaway`` — neither the hint nor the question contains the correct choice's text, nor an error code
  (``SOURCE_INSTRUMENT_BLOCKED``…) that only the correct choice names;
* ``placeholder`` — a ``{op.N.…}`` placeholder in a question's texts names an operation the bulk has;
* ``actions`` — an expected lifecycle action (``[[expect_actions]]``, unless ``times = 0``) is the trainee's
  to take (``by_client``), its ``after_op``/``before_op`` lie within the bulk, and the pack's own run
  (``run.pause_at``/``cancel_at``, what the headless runner does) satisfies it: a pause or cancel while
  operation N runs is answered after operation N finished (docs/behaviour.md §3.9).
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bulkdash.contract.scenarios import Evidence, Question
from simulator.faults.plan import PlanError
from simulator.scenarios import Scenario, list_scenarios, parse_scenario

MIN_CHOICES = 3
MAX_SAME_POSITION = 0.4  # share of a pack's questions
MAX_LONGEST_CORRECT = 0.5
#: An error code as the dashboard shows it: capitals with at least one underscore.
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


@dataclass(frozen=True, slots=True)
class LintError:
    pack: str
    question: int | None  # 1-based; None for a rule about the whole pack
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"question {self.question}" if self.question is not None else "pack"
        return f"{self.pack}: {where}: [{self.rule}] {self.message}"


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _choices(name: str, n: int, q: Question) -> list[LintError]:
    if len(q.choices) >= MIN_CHOICES:
        return []
    return [LintError(name, n, "choices", f"{len(q.choices)} choices, at least {MIN_CHOICES} needed")]


def _giveaway(name: str, n: int, q: Question) -> list[LintError]:
    right = q.choices[q.correct - 1]
    wrong_codes = {code for i, c in enumerate(q.choices, 1) if i != q.correct for code in _CODE.findall(c)}
    codes = set(_CODE.findall(right)) - wrong_codes
    errors = []
    for part, text in (("hint", q.hint), ("question", q.question)):
        if _norm(right) in _norm(text):
            errors.append(LintError(name, n, "giveaway", f"the {part} contains the correct choice {right!r}"))
        for code in sorted(c for c in codes if c in text):
            errors.append(
                LintError(name, n, "giveaway", f"the {part} names {code}, which only the correct choice has")
            )
    return errors


def _evidence_error(scenario: Scenario, fact: Evidence) -> str | None:
    """Why the pack's run cannot show ``fact``, or None."""
    exp, area, name = scenario.expect, fact.fact.split(".")[0], fact.fact.split(".")[-1]
    if area == "op":
        seq = int(fact.fact.split(".")[1])
        return f"the bulk has {scenario.bulk.size} operations" if seq > scenario.bulk.size else None
    if fact.fact == "run.status" and not fact.at_least:
        return None if fact.holds(exp.status) else f"the run ends {exp.status}"
    if area == "run" and name in exp.counts:
        return None if fact.holds(exp.counts[name]) else f"the run expects {name} = {exp.counts[name]}"  # type: ignore[index]
    if area == "webhooks" and name in ("rejected", "duplicates") and exp.webhooks is not None:
        promised = getattr(exp.webhooks, name)
        if promised is not None and not fact.holds(promised):
            return f"the run expects {promised} {name} webhooks"
    if fact.fact == "api.429" and (exp.client is None or exp.client.throttled_min is None):
        return "the pack does not expect a 429 (expect.client.throttled_min)"
    if fact.fact == "api.5xx" and (exp.client is None or exp.client.server_errors_min is None):
        return "the pack does not expect a 5xx (expect.client.server_errors_min)"
    return None


def _placeholders(scenario: Scenario, n: int, q: Question) -> list[LintError]:
    errors = []
    for fact in q.placeholders():
        if fact.startswith("op.") and int(fact.split(".")[1]) > scenario.bulk.size:
            errors.append(
                LintError(
                    scenario.name,
                    n,
                    "placeholder",
                    f"{{{fact}}}: the bulk has {scenario.bulk.size} operations",
                )
            )
    return errors


def _actions(scenario: Scenario) -> list[LintError]:
    errors = []
    run, size = scenario.run, scenario.bulk.size
    for n, e in enumerate(scenario.expect_actions, 1):
        problems: list[str] = []
        error = problems.append
        # Not doing something (times = 0) can be asked of any pack; doing it needs a bulk the trainee drives.
        if e.action != "submit" and e.times != 0 and not scenario.execute.by_client:
            error(f"{e.action!r} is the set-up's, not the trainee's (set execute.by_client = true)")
        for name in ("after_op", "before_op"):
            at = getattr(e, name)
            if at is not None and at > size:
                error(f"{name} = {at} is beyond bulk.size {size}")
        at = {"pause": run.pause_at, "cancel": run.cancel_at}.get(e.action)
        if e.times == 0 and at is not None:
            error(f"the pack's own run does {e.action} (run.{e.action}_at = {at})")
        elif e.action in ("pause", "cancel") and e.times != 0 and (e.after_op, e.before_op) != (None, None):
            if at is None:
                error(f"the pack's own run does not {e.action} (set run.{e.action}_at)")
            elif not ((e.after_op or 0) <= at and (e.before_op is None or at < e.before_op)):
                error(
                    f"the pack's own run does {e.action} while operation {at} runs, answered after it "
                    f"finished: not after operation {e.after_op} and before operation {e.before_op}"
                )
        errors += [LintError(scenario.name, None, "actions", f"expect_actions[{n}]: {p}") for p in problems]
    return errors


def _evidence(scenario: Scenario, n: int, q: Question) -> list[LintError]:
    errors = []
    for fact in q.facts():
        why = _evidence_error(scenario, fact)
        if why is not None:
            text = f"{fact.fact} {'>=' if fact.at_least else '='} {fact.value}"
            errors.append(LintError(scenario.name, n, "evidence", f"{text!r} cannot show: {why}"))
    return errors


def _pack_rules(scenario: Scenario) -> list[LintError]:
    questions, name = scenario.questions, scenario.name
    if not questions:
        return [LintError(name, None, "choices", "the pack has no questions")]
    errors = []
    for position, count in sorted(Counter(q.correct for q in questions).items()):
        if count / len(questions) > MAX_SAME_POSITION:
            errors.append(
                LintError(
                    name,
                    None,
                    "position",
                    f"choice {position} is correct in {count} of {len(questions)} questions "
                    f"(at most {MAX_SAME_POSITION:.0%})",
                )
            )
    longest = [n for n, q in enumerate(questions, 1) if _correct_is_longest(q)]
    if len(longest) / len(questions) > MAX_LONGEST_CORRECT:
        errors.append(
            LintError(
                name,
                None,
                "longest",
                f"the correct choice is the longest in {len(longest)} of {len(questions)} questions "
                f"({', '.join(map(str, longest))}; at most half)",
            )
        )
    return errors


def _correct_is_longest(q: Question) -> bool:
    right = len(q.choices[q.correct - 1])
    return all(right >= len(c) for i, c in enumerate(q.choices, 1) if i != q.correct)


def lint_scenario(scenario: Scenario) -> list[LintError]:
    """Every rule broken by one (loaded, valid) pack."""
    errors = _pack_rules(scenario) + _actions(scenario)
    for n, q in enumerate(scenario.questions, 1):
        errors += _choices(scenario.name, n, q) + _evidence(scenario, n, q) + _giveaway(scenario.name, n, q)
        errors += _placeholders(scenario, n, q)
    return errors


def load_pack(path: Path) -> Scenario:
    """A pack file as ``scenario lint FILE`` reads it (its name is its file stem); raises PlanError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PlanError(str(path), [("", f"cannot read: {exc}")]) from None
    return parse_scenario(data, path.stem, str(path))


def lint_files(paths: Iterable[Path]) -> tuple[int, list[LintError]]:
    """Lint the given pack files (none: every shipped pack); the number of packs and the errors."""
    paths = list(paths)
    if not paths:
        packs = list_scenarios()
        return len(packs), [e for s in packs for e in lint_scenario(s)]
    errors: list[LintError] = []
    for path in paths:
        try:
            scenario = load_pack(path)
        except PlanError as exc:
            errors.append(LintError(path.stem, None, "invalid", str(exc)))
            continue
        errors += lint_scenario(scenario)
    return len(paths), errors


__all__ = ["LintError", "lint_files", "lint_scenario", "load_pack"]
