"""The pack contract's new parts: ``[[expect_actions]]`` (what the trainee must do), placeholders in a
question's texts (facts of the trainee's run) and ``[reply]`` (a free-text reply to the customer) — validated
when a pack loads, checked by ``bulkdash-sim scenario lint``, and served to the dashboard in the summary."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bulkdash.contract.scenarios import ExpectedAction, Question, ScenarioSummary
from simulator.faults.plan import PlanError
from simulator.scenarios import get_scenario, list_scenarios, parse_scenario
from simulator.scenarios.lint import lint_scenario

PACKS = Path(__file__).parents[2] / "simulator" / "scenarios" / "packs"


def pack(name: str, **changes: Any) -> dict[str, Any]:
    data = tomllib.loads((PACKS / f"{name}.toml").read_text(encoding="utf-8"))
    return {**data, **changes}


def test_expected_actions_validate_their_shape() -> None:
    pause = ExpectedAction(action="pause", after_op=5, before_op=7, says="Pause while operation 6 runs")
    assert (pause.times, pause.idempotency, pause.only_failed) == (None, None, False)
    for bad, problem in [
        ({"action": "pause", "after_op": 7, "before_op": 7}, "must be after"),
        ({"action": "cancel", "idempotency": "new"}, "submit"),
        ({"action": "pause", "only_failed": True}, "submit"),
        ({"action": "rewind"}, "action"),
        ({"action": "pause", "times": -1}, "times"),
        ({"action": "pause", "colour": "red"}, "colour"),
    ]:
        with pytest.raises(ValidationError, match=problem):
            ExpectedAction.model_validate({"says": "x", **bad})


def test_placeholders_must_name_known_facts() -> None:
    base = {"question": "q", "choices": ["a", "b", "c"], "correct": 1, "hint": "h", "answer": "a"}
    base["evidence"] = ["run.status = CANCELLED"]
    ok = Question.model_validate({**base, "choices": ["{run.COMPLETED} ran", "GET /bulks/{id}", "c"]})
    assert ok.placeholders() == ["run.COMPLETED"]  # {id} is not a fact's area: plain text
    with pytest.raises(ValidationError, match=r"placeholder \{run.colour\}: unknown fact"):
        Question.model_validate({**base, "answer": "{run.colour}"})


def test_the_shipped_packs_ask_for_actions_and_replies() -> None:
    pause = get_scenario("pause-then-resume")
    assert pause is not None
    [window] = [e for e in pause.expect_actions if e.action == "pause"]
    assert (window.after_op, window.before_op) == (5, 7)
    cancel = get_scenario("cancel-mid-run")
    assert cancel is not None and any(
        e.action == "cancel" and e.before_op == 6 for e in cancel.expect_actions
    )
    assert "{run.COMPLETED}" in cancel.questions[2].choices[0]
    replies = [s.name for s in list_scenarios() if s.reply is not None]
    assert {"pause-then-resume", "cancel-mid-run", "throttled-polling"} <= set(replies)
    # The dashboard reads them back from the summary it is served.
    served = ScenarioSummary.model_validate(cancel.summary())
    assert served.expect_actions == cancel.expect_actions and served.reply == cancel.reply


def test_the_linter_checks_actions_against_the_pack() -> None:
    def lint(**changes: Any) -> list[str]:
        scenario = parse_scenario(pack("cancel-mid-run", **changes), "cancel-mid-run", "test")
        return [str(e) for e in lint_scenario(scenario)]

    assert lint() == []
    late = [{"action": "cancel", "after_op": 7, "before_op": 9, "says": "Cancel late"}]
    assert lint(expect_actions=late) == [
        "cancel-mid-run: pack: [actions] expect_actions[1]: the pack's own run does cancel while operation 5 "
        "runs, answered after it finished: not after operation 7 and before operation 9"
    ]
    beyond = [{"action": "pause", "before_op": 13, "says": "x"}]
    errors = lint(expect_actions=beyond)
    assert any("before_op = 13 is beyond bulk.size 12" in e for e in errors)
    assert any("does not pause (set run.pause_at)" in e for e in errors)
    forbidden = [{"action": "cancel", "times": 0, "says": "Do not cancel"}]
    assert lint(expect_actions=forbidden) == [
        "cancel-mid-run: pack: [actions] expect_actions[1]: "
        "the pack's own run does cancel (run.cancel_at = 5)"
    ]
    # Doing something needs a bulk the trainee drives; not doing it can be asked of any pack.
    set_up = pack("stop-on-first-failure")
    for actions, expected in [
        ([{"action": "pause", "says": "x"}], ["'pause' is the set-up's, not the trainee's"]),
        ([{"action": "execute", "times": 0, "says": "x"}], []),
    ]:
        scenario = parse_scenario({**set_up, "expect_actions": actions}, "stop-on-first-failure", "test")
        errors = [str(e) for e in lint_scenario(scenario)]
        assert len(errors) == len(expected) and all(w in e for w, e in zip(expected, errors, strict=True))


def test_the_linter_checks_placeholder_operations() -> None:
    data = pack("cancel-mid-run")
    questions = [dict(q) for q in data["questions"]]
    questions[0]["hint"] = "Compare with {op.13.status}."
    scenario = parse_scenario({**data, "questions": questions}, "cancel-mid-run", "test")
    assert [str(e) for e in lint_scenario(scenario)] == [
        "cancel-mid-run: question 1: [placeholder] {op.13.status}: the bulk has 12 operations"
    ]


def test_a_bad_reply_or_action_does_not_load() -> None:
    with pytest.raises(PlanError, match="reply"):
        parse_scenario(pack("cancel-mid-run", reply={"prompt": "?"}), "cancel-mid-run", "test")
    with pytest.raises(PlanError, match="expect_actions"):
        parse_scenario(
            pack("cancel-mid-run", expect_actions=[{"action": "rewind", "says": "x"}]),
            "cancel-mid-run",
            "test",
        )
