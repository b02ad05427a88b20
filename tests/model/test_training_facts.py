"""The checklist judges the run that happened (plain Python, no Textual): the run's facts read from the
service's state (``run_facts``, ``Training.take_facts``), questions that do not apply to the run, placeholders
filled from it, the brief's expected actions judged from the API-call log, the presenter's changes, and the
trainee's reply to the customer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bulkdash.contract.models import BulkProcessDetails
from bulkdash.contract.scenarios import Evidence, ExpectedAction, ScenarioSummary
from bulkdash.model.run import OpRow, RunModel
from bulkdash.model.training import ActionTaken, RunFacts, Training, check_action, run_facts

BULK = "1000001"
T0 = 1_000_000  # ms: when the scenario started


@dataclass
class Call:
    """A recorded API call, as ``CallRecord`` has it."""

    at_ms: int
    method: str
    path: str
    status: int | None = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass
class Hook:
    """A received webhook, as ``ReceivedWebhook`` has it."""

    received_at_ms: int
    kind: str
    bulk_id: str | None
    bulk_status: str | None = None
    http_status: int = 200
    duplicate: bool = False


def row(seq: int, status: str, key: str = "", request: str | None = None) -> OpRow:
    return OpRow(seq, str(seq), "POST", "/transfers", status, key, request, None, row_id=seq)


def question(evidence: list[str], choices: list[str] | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "question": kw.get("question", "Which?"),
        "choices": choices or ["a", "b", "c"],
        "correct": kw.get("correct", 2),
        "hint": kw.get("hint", "look"),
        "answer": kw.get("answer", "because"),
        "evidence": evidence,
    }


def summary(questions: list[dict[str, Any]], **kw: Any) -> ScenarioSummary:
    base = {
        "name": "demo",
        "title": "Demo",
        "kind": "transfers",
        "size": 20,
        "mode": "ON_FAILURE_CONTINUE",
        "narrative": "n",
        "byClient": True,
        "questions": questions,
    }
    return ScenarioSummary.model_validate({**base, **kw})


def final_facts(status: str = "PARTIALLY_COMPLETED", completed: int = 19, failed: int = 1) -> RunFacts:
    return run_facts(
        status=status,
        counts={"COMPLETED": completed, "FAILED": failed, "CANCELLED": 0},
        ops=[row(7, "FAILED", "FUNDS_INSUFFICIENT")],
        failed_ops=[row(7, "FAILED", "FUNDS_INSUFFICIENT")],
    )


# --- the run's facts ----------------------------------------------------------------------------------


def test_the_facts_are_read_as_the_screens_show_them() -> None:
    model = RunModel(BULK)
    model.apply_details(
        BulkProcessDetails.model_validate(
            {
                "bulkId": BULK,
                "status": "PARTIALLY_COMPLETED",
                "mode": "ON_FAILURE_STOP",
                "submittedItemsCount": 12,
                "operationStatusCounts": [
                    {"status": "COMPLETED", "count": 4},
                    {"status": "FAILED", "count": 1},
                    {"status": "CANCELLED", "count": 7},
                ],
            }
        )
    )
    model.rows = {5: row(5, "FAILED", "DESTINATION_INSTRUMENT_BLOCKED")}
    training = Training(summary([question(["run.status = COMPLETED"])]), BULK, True, started_ms=T0)
    hooks = [
        Hook(T0 + 1, "bulk", BULK, "COMPLETED"),  # an end event
        Hook(T0 + 2, "bulk", BULK, "RUNNING", duplicate=True),  # progress, a duplicate
        Hook(T0 + 3, "transfer", None, http_status=401),  # a transaction event, rejected
        Hook(T0 + 4, "bulk", "999", "COMPLETED"),  # another bulk's: not this run's
        Hook(T0 - 1, "bulk", None, "COMPLETED"),  # before the scenario started
    ]
    calls = [
        Call(T0 + 5, "GET", "/bulks", 429),
        Call(T0 + 6, "GET", "/bulks", 503),
        Call(T0 - 5, "GET", "/x", 429),
    ]
    facts = training.take_facts(model, webhooks=hooks, calls=calls, fetched=[row(12, "CANCELLED")])
    assert training.facts is facts and facts.final
    assert dict(facts.values) == {
        "run.status": "PARTIALLY_COMPLETED",
        "run.mode": "ON_FAILURE_STOP",
        "run.COMPLETED": "4",
        "run.FAILED": "1",
        "run.CANCELLED": "7",
        "op.5.status": "FAILED",
        "op.5.response": "DESTINATION_INSTRUMENT_BLOCKED",
        "op.12.status": "CANCELLED",
        "op.12.response": "",
        "webhooks.end": "1",
        "webhooks.progress": "1",
        "webhooks.transactions": "1",
        "webhooks.rejected": "1",
        "webhooks.duplicates": "1",
        "api.429": "1",
        "api.5xx": "1",
    }
    failed = training.take_facts(model, failed=[row(5, "FAILED", "DESTINATION_INSTRUMENT_BLOCKED")])
    assert failed.get("failed.response") == "DESTINATION_INSTRUMENT_BLOCKED" and failed.failed == (5,)


@pytest.mark.parametrize(
    ("evidence", "why"),
    [
        ("run.status = COMPLETED", "this run ended PARTIALLY_COMPLETED, not COMPLETED"),
        ("run.COMPLETED = 20", "the COMPLETED count in this run: 19, not 20"),
        ("op.7.status = COMPLETED", "operation 7 is FAILED in this run, not COMPLETED"),
        (
            "failed.response = OTHER",
            "the Response column of every failed operation in this run: FUNDS_INSUFFICIENT, not OTHER",
        ),
        ("api.429 >= 1", "429 Too Many Requests answers in this run: 0, not at least 1"),
        ("webhooks.end = 0", None),  # none arrived, none named: it holds
    ],
)
def test_a_fact_the_run_settled_otherwise_says_why(evidence: str, why: str | None) -> None:
    assert final_facts().contradiction(Evidence.parse(evidence)) == why


def test_facts_that_may_still_change_are_not_held_against_the_question() -> None:
    running = run_facts(
        status="RUNNING", counts={"COMPLETED": 3, "FAILED": 0}, ops=[row(2, "COMPLETED"), row(4, "RUNNING")]
    )
    assert not running.final
    assert running.contradiction(Evidence.parse("run.status = COMPLETED")) is None  # it may yet end so
    assert running.contradiction(Evidence.parse("op.4.status = FAILED")) is None  # still running
    # An operation that ended is settled even while the bulk runs.
    assert running.contradiction(Evidence.parse("op.2.status = FAILED")) == (
        "operation 2 is COMPLETED in this run, not FAILED"
    )
    # Counters only grow: fewer webhooks than named may still come; more never go away.
    hooks = run_facts(status="COMPLETED", counts={}, webhooks=[Hook(1, "bulk", BULK, "COMPLETED")] * 2)
    assert hooks.contradiction(Evidence.parse("webhooks.progress = 3")) is None
    assert hooks.contradiction(Evidence.parse("webhooks.end = 1")) is not None
    # A fact nobody fetched is not known: the question is judged as before.
    assert running.contradiction(Evidence.parse("op.9.status = COMPLETED")) is None


# --- questions that do not apply; placeholders ----------------------------------------------------------


def test_a_question_the_run_contradicts_does_not_apply_and_is_not_scored() -> None:
    """The regression: after a presenter fault the run ended PARTIALLY_COMPLETED, and the checklist still
    marked "✓ Correct … the bulk's status: COMPLETED"."""
    scenario = summary(
        [
            question(["api.429 >= 0", "run.status = COMPLETED"], correct=1),
            question(["run.FAILED = 1"], correct=3),
        ]
    )
    training = Training(scenario, BULK, True, facts=final_facts())
    verdict = training.answer(0, 1)  # the pack's right answer, for a run that did not happen
    assert verdict.not_applicable == "this run ended PARTIALLY_COMPLETED, not COMPLETED"
    assert not verdict.counts and training.score == 0 and training.judged == 0
    judged = training.answer(1, 3)
    assert judged.counts and judged.correct
    assert training.score == 1 and training.progress() == "2/2 answered · 1 correct · 1 not applying"
    # Without facts (the old behaviour) the same answer was judged correct.
    assert Training(scenario, BULK, True).answer(0, 1).not_applicable is None


def test_placeholders_are_filled_from_the_run() -> None:
    scenario = summary(
        [
            question(
                ["run.status = CANCELLED"],
                choices=["Reverse the {run.COMPLETED} that ran", "Resume it", "Nothing: {op.7.response}"],
                correct=1,
                answer="{run.COMPLETED} completed; GET /bulks/{id} shows it",
            )
        ]
    )
    training = Training(scenario, BULK, True)
    assert training.text(scenario.questions[0].choices[0]) == "Reverse the … that ran"  # not known yet
    training.facts = final_facts("CANCELLED", completed=7, failed=1)
    assert training.text(scenario.questions[0].choices[2]) == "Nothing: FUNDS_INSUFFICIENT"
    verdict = training.answer(0, 1)
    assert verdict.right_text == "Reverse the 7 that ran"
    assert verdict.explanation == "7 completed; GET /bulks/{id} shows it"  # {id} is not a fact: kept


# --- what the trainee did -----------------------------------------------------------------------------


def test_actions_are_read_from_the_call_log_with_the_operations_finished_when_answered() -> None:
    training = Training(summary([question(["run.status = COMPLETED"])]), BULK, True, started_ms=T0)
    training.note_run("SUBMITTED", {}, at_ms=T0 + 1)
    training.note_run("RUNNING", {"COMPLETED": 5}, at_ms=T0 + 50)  # polled while operation 6 ran
    # The pause was answered at T0+60, after operation 6 finished; a poll saw PAUSED at 6 later still.
    training.note_run("PAUSED", {"COMPLETED": 6}, at_ms=T0 + 70)
    training.note_run("RUNNING", {"COMPLETED": 9}, at_ms=T0 + 120)
    calls = [
        Call(T0 - 10, "POST", f"/bulks/{BULK}/cancel"),  # before the scenario: not this run's
        Call(T0 + 2, "POST", f"/bulks/{BULK}/execute"),
        Call(T0 + 40, "GET", f"/bulks/{BULK}", 200),
        Call(T0 + 60, "POST", f"/bulks/{BULK}/pause"),
        Call(T0 + 100, "POST", f"/bulks/{BULK}/resume"),
        Call(T0 + 110, "POST", "/bulks/999/cancel"),  # another bulk
        Call(T0 + 130, "POST", f"/bulks/{BULK}/cancel", 409),  # refused: not done
    ]
    taken = training.taken(calls)
    assert [(t.action, t.after) for t in taken] == [("execute", 0), ("pause", 6), ("resume", 6)]


def expected(**kw: Any) -> ExpectedAction:
    return ExpectedAction.model_validate({"says": "Pause while operation 6 runs", "action": "pause", **kw})


def test_the_right_action_at_the_right_time_is_a_tick() -> None:
    check = check_action(expected(after_op=5, before_op=7), [ActionTaken("pause", 1, 6)])
    assert check.done is True
    assert (
        check.sentence == "You paused after operation 6 (the brief: after operation 5 and before operation 7)"
    )


def test_a_cancel_too_late_is_a_cross_with_the_sentence() -> None:
    cancel = expected(action="cancel", before_op=8, says="Cancel before operation 8")
    check = check_action(cancel, [ActionTaken("cancel", 1, 9)])
    assert check.done is False
    assert check.sentence == "You cancelled after operation 9; the brief asked before operation 8"


def test_a_pause_never_made_is_a_cross() -> None:
    check = check_action(expected(after_op=5, before_op=7), [ActionTaken("execute", 1, 0)])
    assert check.done is False
    assert check.sentence == "You did not pause; the brief asked: Pause while operation 6 runs"


def test_times_counts_exactly_and_zero_forbids() -> None:
    never = expected(action="cancel", times=0, says="Do not cancel")
    assert check_action(never, []).done is True
    done = check_action(never, [ActionTaken("cancel", 1, 3)])
    assert (
        done.done is False and done.sentence == "You cancelled after operation 3; the brief asked you not to"
    )
    twice = expected(times=2, says="Pause twice")
    once = check_action(twice, [ActionTaken("pause", 1, 2)])
    assert once.done is False and once.sentence == "You paused 1 time; the brief asked 2: Pause twice"
    assert check_action(twice, [ActionTaken("pause", 1, 2), ActionTaken("pause", 2, 4)]).done is True


def test_a_resubmission_is_checked_for_its_idempotency_ref_and_items() -> None:
    failed = final_facts()
    failed = RunFacts(failed.values, True, (7,), ('{"amount":5}',))
    resubmit = expected(action="submit", idempotency="new", only_failed=True, says="Resubmit the failed one")
    good = ActionTaken("submit", 1, 20, "ref-2", [{"amount": 5}])
    assert check_action(resubmit, [good], failed, first_ref="ref-1").done is True
    same_ref = ActionTaken("submit", 1, 20, "ref-1", [{"amount": 5}])
    check = check_action(resubmit, [same_ref], failed, first_ref="ref-1")
    assert check.done is False and "idempotency-ref already used" in check.sentence
    everything = ActionTaken("submit", 1, 20, "ref-3", [{"amount": 5}, {"amount": 6}])
    check = check_action(resubmit, [everything], failed, first_ref="ref-1")
    assert check.done is False and check.sentence == (
        "You submitted a new bulk of 2 items; the brief asked for only the 1 FAILED one(s)"
    )


def test_a_submission_is_read_from_the_call_log() -> None:
    scenario = summary(
        [question(["run.status = COMPLETED"])],
        expect_actions=[{"action": "submit", "idempotency": "new", "says": "Resubmit"}],
    )
    training = Training(scenario, BULK, True, started_ms=T0, first_ref="ref-1")
    call = Call(T0 + 5, "POST", "/bulks/transfers", 200, {"idempotency-ref": "ref-2"}, '[{"amount":5}]')
    [taken] = training.taken([call])
    assert (taken.action, taken.idempotency_ref, taken.items) == ("submit", "ref-2", [{"amount": 5}])
    [check] = training.check_actions([call])
    assert check.done is True


# --- the presenter, the reply ---------------------------------------------------------------------------


def test_a_presenter_fault_is_named_with_the_questions_it_took_away() -> None:
    scenario = summary(
        [
            question(["run.FAILED = 1"], correct=1),
            question(["run.status = COMPLETED"], correct=1),
            question(["run.COMPLETED = 20"], correct=3),
        ]
    )
    training = Training(scenario, BULK, True)
    assert training.presenter_lines() == []
    training.note_run("RUNNING", {"COMPLETED": 6})
    training.note_presenter("fault")
    training.facts = final_facts()  # operation 7 FAILED: the presenter's
    assert training.presenter_lines() == [
        "The presenter injected a fault at operation 7: questions 2 and 3 no longer apply"
    ]
    training.note_presenter("speed", "2×")
    assert training.presenter_lines()[0].startswith(
        "The presenter injected a fault at operation 7 and changed the speed to 2×: questions 2 and 3"
    )
    for speed in ("4×", "1×", "0.5×", "0.1×"):  # a dozen presses were a dozen phrases: one says them all
        training.note_presenter("speed", speed)
    assert training.presenter_lines()[0].startswith(
        "The presenter injected a fault at operation 7 and changed the speed 5 times, last to 0.1×: questions"
    )


def test_the_reply_is_kept_for_the_report_and_the_model_answer_returned() -> None:
    reply = {"prompt": "Was it lost?", "model": "No: it completed."}
    training = Training(summary([question(["run.status = COMPLETED"])], reply=reply), BULK, True)
    assert training.reply_for(BULK) is None  # nothing drafted yet
    assert training.submit_reply("  Hello, nothing was lost.\n") == "No: it completed."
    assert training.reply_for(BULK) == ("Was it lost?", "Hello, nothing was lost.")
    assert training.reply_for("other") is None
    assert Training(summary([question(["run.status = COMPLETED"])]), BULK, True).submit_reply("x") is None
