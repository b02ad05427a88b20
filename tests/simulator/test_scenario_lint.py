"""The pack linter (``bulkdash-sim scenario lint``): every shipped pack passes it, and a pack made guessable
on purpose (``scenario_packs/guessable.toml``) fails with each rule named, by pack and question."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator import cli
from simulator.scenarios import list_scenarios
from simulator.scenarios.lint import LintError, lint_files, lint_scenario, load_pack

GUESSABLE = Path(__file__).parent / "scenario_packs" / "guessable.toml"


@pytest.mark.parametrize("scenario", list_scenarios(), ids=lambda s: s.name)
def test_every_shipped_pack_passes_the_linter(scenario: object) -> None:
    assert lint_scenario(scenario) == []  # type: ignore[arg-type]


def test_the_cli_lints_every_shipped_pack_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scenario", "lint"]) == 0
    assert capsys.readouterr().out.strip() == f"{len(list_scenarios())} packs OK"


def test_a_guessable_pack_fails_every_rule_by_name() -> None:
    count, errors = lint_files([GUESSABLE])
    assert count == 1
    found = {(e.question, e.rule) for e in errors}
    assert found == {
        (None, "position"),  # choice 2 in all three questions
        (None, "longest"),  # and the longest each time
        (1, "choices"),  # two choices
        (1, "giveaway"),  # the hint repeats the right choice
        (1, "evidence"),  # op.9 of a 4-operation bulk
        (2, "giveaway"),  # the question names the code only the right choice has
        (2, "evidence"),  # run.status FAILED, run.COMPLETED 3 and a 429 the pack never expects
    }
    assert all(e.pack == "guessable" for e in errors)
    by_rule = {(e.question, e.rule): str(e) for e in errors}
    assert by_rule[(None, "position")] == (
        "guessable: pack: [position] choice 2 is correct in 3 of 3 questions (at most 40%)"
    )
    assert by_rule[(1, "choices")] == "guessable: question 1: [choices] 2 choices, at least 3 needed"
    evidence_2 = [str(e) for e in errors if (e.question, e.rule) == (2, "evidence")]
    assert len(evidence_2) == 3 and any(
        "run.status = FAILED" in e and "ends COMPLETED" in e for e in evidence_2
    )


def test_the_cli_fails_a_guessable_pack(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scenario", "lint", str(GUESSABLE)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "guessable: question 1: [choices] 2 choices, at least 3 needed" in out
    assert out[-1] == "9 problems in 1 of 1 packs"


def test_an_unreadable_pack_is_a_lint_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "t"\n', encoding="utf-8")
    _, errors = lint_files([broken])
    assert [(e.pack, e.rule) for e in errors] == [("broken", "invalid")]
    assert "narrative: Field required" in errors[0].message


def test_ties_for_the_longest_choice_count_as_longest() -> None:
    pack = load_pack(GUESSABLE)
    q = pack.questions[2].model_copy(update={"choices": ["abcd", "wxyz", "ab"], "correct": 2})
    tied = pack.model_copy(update={"questions": [q, q, q]})
    assert any(e.rule == "longest" for e in lint_scenario(tied))
    assert isinstance(lint_scenario(tied)[0], LintError)
