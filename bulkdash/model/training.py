"""A trainee's run of one scenario pack: the brief, the bulk it set up, and the checklist with its answers.

Plain Python (no Textual, no I/O): the Scenarios and Checklist screens render it. A question is answered
once — the first choice counts for the score, as in a quiz — and its explanation and the dashboard facts
that settle it are shown from then on; hints are counted.

Choices are shown in an order shuffled per trainee (:meth:`Training.choice_order`, deterministic for one
``seed``, by default the bulk's id), so "it is always choice 2" cannot be learnt; a choice is identified by
its 1-based place in the pack (``Question.correct``), never by where it is shown.

The checklist judges the run that happened: :class:`RunFacts` is a snapshot of the facts the screens show
(built from the service's state by :func:`run_facts`), a question whose evidence they contradict "does not
apply to this run" (with the fact that differs) instead of being judged, and placeholders in a question's
texts are filled from them. What the trainee did is judged from the API-call log (:meth:`Training.taken`,
:meth:`Training.check_actions`); what the presenter changed is noted (:meth:`Training.note_presenter`).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import unquote

from bulkdash.contract.kinds import KINDS
from bulkdash.contract.scenarios import Evidence, ExpectedAction, Question, ScenarioSummary, fill
from bulkdash.model.run import OpRow, RunModel


@dataclass(frozen=True, slots=True)
class Verdict:
    correct: bool
    chosen: int  # 1-based, the choice's place in the pack
    right: int  # 1-based, the choice's place in the pack
    right_text: str
    explanation: str
    where: list[str]  # the evidence in words: what the dashboard shows, and where
    right_shown: int = 0  # 1-based, where the right choice is shown to this trainee
    #: Why the question does not apply to this run (a fact of its evidence differs), or None: judged.
    not_applicable: str | None = None

    @property
    def counts(self) -> bool:
        """Whether the answer is judged (the question applies to the run that happened)."""
        return self.not_applicable is None


#: Where the run stands for the trainee: "ready" — set up, the world paused until they start it (space);
#: "your move" — the world holds at the operation the brief names, until they act (p, c) or let it go on
#: (space); "playing" otherwise.
Phase = Literal["ready", "playing", "your move"]


@dataclass(frozen=True, slots=True)
class Move:
    """What the brief asks the trainee to do while operation ``operation`` runs (the world holds there)."""

    action: Literal["pause", "cancel"]
    operation: int

    @property
    def key(self) -> str:
        return "p" if self.action == "pause" else "c"


@dataclass(slots=True)
class Training:
    scenario: ScenarioSummary
    bulk_id: str
    executed: bool
    #: The identity the scenario's fault plan is scoped to (ending the scenario clears that plan).
    identity: str = "1001"
    #: Why the simulator could not execute the bulk at set-up (e.g. another transfers bulk is running).
    execute_refused: str | None = None
    verdicts: dict[int, Verdict] = field(default_factory=dict)  # question index (0-based) -> verdict
    hints: set[int] = field(default_factory=set)
    #: Seeds the order the choices are shown in; None: the bulk's id (so one run always shows one order).
    seed: str | int | None = None
    #: When the scenario was started (ms since the epoch): calls and webhooks before it are not this run's.
    started_ms: int = field(default_factory=lambda: _now_ms())
    #: The facts of the run as last seen (``run_facts``): answers are checked against them.
    facts: RunFacts | None = None
    #: (ms, status, operations finished) of the trainee's bulk, each time the dashboard learnt them.
    history: list[tuple[int, str | None, int]] = field(default_factory=list)
    presenter: list[PresenterNote] = field(default_factory=list)
    #: The idempotency-ref of the scenario's own submission, when known (set-up submits it).
    first_ref: str | None = None
    #: The trainee's reply to the customer (``scenario.reply``), once submitted.
    reply_draft: str | None = None
    #: The run waits for the trainee (``Phase``): the simulator's world is paused until they start it, and
    #: holds at ``move``'s operation until they act. "playing" when the simulator was not asked to wait.
    phase: Phase = "playing"
    move: Move | None = None
    moved: bool = False  # the trainee acted at the move's hold (or let it go on)
    #: Called after each change of ``phase`` (the brief redraws itself).
    listeners: list[Callable[[], None]] = field(default_factory=list, repr=False, compare=False)

    @property
    def questions(self) -> list[Question]:
        return self.scenario.questions

    # --- waiting for the trainee --------------------------------------------------------------------
    @property
    def waiting(self) -> bool:
        """The world waits for the trainee: to be started, or to see their move."""
        return self.phase != "playing"

    @property
    def awaits_hold(self) -> bool:
        """Playing towards the move's hold: whether the world holds there yet is worth asking."""
        return self.phase == "playing" and self.move is not None and not self.moved

    def _set_phase(self, phase: Phase) -> bool:
        if phase == self.phase:
            return False
        self.phase = phase
        for listener in list(self.listeners):
            listener()
        return True

    def start(self) -> bool:
        """The trainee started the run (space, or their first action on the bulk), or let it go on past the
        move (space); True if it was waiting."""
        if self.phase == "your move":
            self.moved = True  # the hold is taken once: the world plays on
            return self._set_phase("playing")
        return self.phase == "ready" and self._set_phase("playing")

    def observe(self, presenter: Mapping[str, Any]) -> bool:
        """Follow the simulator's presenter state (``GET /_sim/presenter``); True when the phase changed."""
        held = presenter.get("heldAt")
        move = self.move
        at_move = (
            move is not None
            and isinstance(held, Mapping)
            and str(held.get("bulkId")) == self.bulk_id
            and held.get("operation") == move.operation
        )
        if at_move and not self.moved:
            return self._set_phase("your move")
        if self.phase == "your move" and not at_move:
            self.moved = True  # let go on (space, or a step): the hold is taken once
            return self._set_phase("playing")
        if self.phase == "ready" and presenter.get("paused") is False:
            return self._set_phase("playing")
        return False

    def acted(self, action: str) -> bool:
        """The trainee's ``action`` on the bulk was accepted (execute, pause, resume, cancel)."""
        if self.phase == "your move":
            if action not in ("pause", "cancel"):
                return False
            self.moved = True  # the simulator lets the held operation finish and plays on
            return self._set_phase("playing")
        return self.start()

    def prompt(self) -> str | None:
        """What the brief asks of the trainee right now, or None."""
        if self.phase == "ready":
            if not self.executed:
                # Set-up left the bulk SUBMITTED (the trainee's to execute, or refused): only an execute
                # starts it; space would play the world while the bulk stays SUBMITTED.
                return "▶ Execute the bulk (x) to start: the simulator waits for you."
            return "▶ Press space to start: the simulator waits for you."
        if self.phase == "your move" and self.move is not None:
            m = self.move
            return (
                f"Your move: {m.action} the bulk now ({m.key}). The world holds at operation "
                f"{m.operation} until you act (space lets it run on)."
            )
        return None

    def choice_order(self, index: int) -> list[int]:
        """The choices of question ``index`` as shown: their 1-based places in the pack, shuffled."""
        order = list(range(1, len(self.questions[index].choices) + 1))
        seed = self.bulk_id if self.seed is None else self.seed
        # A string seed is hashed stably by random (not by hash(), which varies per process).
        random.Random(f"{seed}:{self.scenario.name}:{index}").shuffle(order)
        return order

    def shown_choice(self, index: int, position: int) -> int:
        """The choice (its place in the pack) shown at 1-based ``position`` of question ``index``."""
        order = self.choice_order(index)
        if not 1 <= position <= len(order):
            raise ValueError(f"choose 1 to {len(order)}")
        return order[position - 1]

    def answer(self, index: int, choice: int) -> Verdict:
        """Answer question ``index`` with ``choice``, the choice's 1-based place in the pack (not where it is
        shown: see :meth:`shown_choice`); a repeat returns the first verdict."""
        question = self.questions[index]
        if not 1 <= choice <= len(question.choices):
            raise ValueError(f"choose 1 to {len(question.choices)}")
        if index in self.verdicts:
            return self.verdicts[index]
        verdict = Verdict(
            correct=choice == question.correct,
            chosen=choice,
            right=question.correct,
            right_text=self.text(question.choices[question.correct - 1]),
            explanation=self.text(question.answer),
            where=[fact.describe() for fact in question.facts()],
            right_shown=self.choice_order(index).index(question.correct) + 1,
            not_applicable=self.not_applicable(index),
        )
        self.verdicts[index] = verdict
        return verdict

    def hint(self, index: int) -> str:
        self.hints.add(index)
        return self.questions[index].hint

    # --- the run that happened ------------------------------------------------------------------------
    def text(self, text: str) -> str:
        """A pack text with its placeholders filled from the run's facts (``…`` for one not known yet)."""
        facts = self.facts
        return fill(text, (lambda _fact: None) if facts is None else facts.get)

    def needed_ops(self) -> list[int]:
        """The operations whose rows the checklist reads (evidence and placeholders name them)."""
        facts = [e.fact for q in self.questions for e in q.facts()]
        facts += [f for q in self.questions for f in q.placeholders()]
        return sorted({int(f.split(".")[1]) for f in facts if f.startswith("op.")})

    def take_facts(
        self,
        model: RunModel | None,
        *,
        webhooks: Iterable[WebhookLike] = (),
        calls: Iterable[CallLike] = (),
        fetched: Iterable[OpRow] = (),
        failed: Iterable[OpRow] | None = None,
    ) -> RunFacts:
        """Take the run's facts from the service's state — the bulk's run model (its page of rows), the
        webhooks received, the API-call log — plus operations fetched for the checklist (``fetched``;
        ``failed``: every FAILED one); they become :attr:`facts`, which answers are checked against."""
        details = None if model is None else model.details
        self.facts = run_facts(
            status=None if model is None else model.status,
            counts={} if model is None or details is None else model.counts,
            mode=None if details is None or details.mode is None else str(details.mode),
            ops=[*([] if model is None else model.rows.values()), *fetched],
            failed_ops=failed,
            webhooks=webhooks,
            calls=calls,
            bulk_id=self.bulk_id,
            since_ms=self.started_ms,
        )
        return self.facts

    def not_applicable(self, index: int, facts: RunFacts | None = None) -> str | None:
        """Why question ``index`` does not apply to the run (``facts``, by default the last seen): each fact
        of its evidence the run settled otherwise. None: it applies (or cannot be told yet)."""
        facts = facts or self.facts
        if facts is None:
            return None
        whys = [why for e in self.questions[index].facts() if (why := facts.contradiction(e)) is not None]
        return "; ".join(whys) or None

    def note_run(self, status: str | None, counts: Mapping[str, int], at_ms: int | None = None) -> None:
        """The dashboard learnt the bulk's status and counts (a poll or a webhook): kept to tell, later, how
        many operations had finished when an action was answered."""
        done = counts.get("COMPLETED", 0) + counts.get("FAILED", 0)
        entry = (_now_ms() if at_ms is None else at_ms, status, done)
        if not self.history or self.history[-1][1:] != entry[1:]:
            self.history.append(entry)

    def note_presenter(self, what: str, detail: str = "", at_ms: int | None = None) -> None:
        """A presenter control that can change the run was used during it (``fault``, ``step``, ``speed``)."""
        after = self.history[-1][2] if self.history else None
        self.presenter.append(PresenterNote(what, _now_ms() if at_ms is None else at_ms, after, detail))

    def taken(self, calls: Iterable[CallLike]) -> list[ActionTaken]:
        """The lifecycle actions on the trainee's bulk and the new bulks submitted, from the API-call log
        (answered 2xx, since the scenario started), each with the operations finished when it was answered."""
        found: list[tuple[str, Any]] = []
        for call in calls:
            if call.at_ms < self.started_ms or call.status is None or not 200 <= call.status < 300:
                continue
            if call.method == "POST" and (m := _ACTION_PATH.match(call.path)):
                if unquote(m["id"]) == self.bulk_id:
                    found.append((m["action"], call))
            elif call.method in ("POST", "PATCH") and call.path in _SUBMIT_PATHS:
                found.append(("submit", call))
        out = []
        for n, (action, call) in enumerate(found):
            since = found[n - 1][1].at_ms if n else self.started_ms
            until = found[n + 1][1].at_ms if n + 1 < len(found) else None
            out.append(
                ActionTaken(
                    action,
                    call.at_ms,
                    self._finished_at(action, call.at_ms, since, until),
                    call.headers.get("idempotency-ref") if action == "submit" else None,
                    _items(call.body) if action == "submit" else None,
                )
            )
        return out

    def _finished_at(self, action: str, at_ms: int, since: int, until: int | None) -> int | None:
        """Operations finished when ``action`` was answered at ``at_ms``.

        A pause or cancel is answered once the operation in flight finished and the new state is stored
        (docs/behaviour.md §3.9): the count the bulk first shows PAUSED (CANCELLED, or final) with after the
        previous action is exact, however late a poll saw it. Otherwise: the last count seen by then."""
        if action in ("pause", "cancel"):
            target = {"PAUSED"} if action == "pause" else {"CANCELLED"}
            for t, status, done in self.history:
                if t > since and (until is None or t <= until) and (status in target or status in FINAL_BULK):
                    return done
        seen = [done for t, _status, done in self.history if t <= at_ms]
        if seen:
            return seen[-1]
        return 0 if action == "execute" else None

    def check_actions(self, calls: Iterable[CallLike]) -> list[ActionCheck]:
        """Each of the brief's ``expect_actions``, judged from the API-call log."""
        taken = self.taken(calls)
        return [check_action(e, taken, self.facts, self.first_ref) for e in self.scenario.expect_actions]

    def presenter_lines(self) -> list[str]:
        """What the presenter changed in the run, and which questions that left not applying."""
        off = [n + 1 for n in range(len(self.questions)) if self.not_applicable(n) is not None]
        which = _numbers(off) if off else ""
        if not self.presenter:
            if not off:
                return []
            verb = "does" if len(off) == 1 else "do"
            return [f"This run went otherwise than the brief's: {which} {verb} not apply"]
        did = _presenter_words(self.presenter, self.facts)
        if not off:
            return [f"The presenter {did}; every question still applies"]
        return [f"The presenter {did}: {which} no longer appl{'ies' if len(off) == 1 else 'y'}"]

    def submit_reply(self, text: str) -> str | None:
        """Keep the trainee's reply to the customer; returns the model answer to show (None: none asked)."""
        reply = self.scenario.reply
        if reply is None:
            return None
        self.reply_draft = text.strip()
        return reply.model

    def reply_for(self, bulk_id: str) -> tuple[str, str] | None:
        """(what the customer asked, the trainee's reply) for the report of ``bulk_id``, once drafted."""
        reply = self.scenario.reply
        if bulk_id != self.bulk_id or reply is None or self.reply_draft is None:
            return None
        return reply.prompt, self.reply_draft

    @property
    def answered(self) -> int:
        return len(self.verdicts)

    @property
    def score(self) -> int:
        return sum(v.correct for v in self.verdicts.values() if v.counts)

    @property
    def judged(self) -> int:
        """Questions answered that apply to this run (those the score is out of)."""
        return sum(v.counts for v in self.verdicts.values())

    @property
    def finished(self) -> bool:
        return self.answered == len(self.questions)

    def progress(self) -> str:
        """``2/3 answered · 1 correct · 1 hint`` for the brief."""
        total = len(self.questions)
        if not total:
            return "no questions"
        text = f"{self.answered}/{total} answered · {self.score} correct"
        if skipped := self.answered - self.judged:
            text += f" · {skipped} not applying"
        if self.hints:
            text += f" · {len(self.hints)} hint{'s' if len(self.hints) > 1 else ''}"
        return text


# --- the run's facts ------------------------------------------------------------------------------------

FINAL_BULK = frozenset({"COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"})
_FINAL_OP = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
_SERVER_ERRORS = frozenset({500, 502, 503, 504})
_ACTION_PATH = re.compile(r"^/bulks/(?P<id>[^/?]+)/(?P<action>execute|pause|resume|cancel)$")
_SUBMIT_PATHS = frozenset(spec.bulk_path for spec in KINDS.values())


def _now_ms() -> int:
    # Wall-clock ms, the clock of the API-call log (``CallRecord.at_ms``) and of received webhooks.
    return int(time.time() * 1000)


class CallLike(Protocol):
    """A recorded API call (``bulkdash.api.client.CallRecord``; not imported: the model stays off httpx)."""

    at_ms: int
    method: str
    path: str
    status: int | None
    headers: dict[str, str]
    body: str | None


class WebhookLike(Protocol):
    """A received webhook (``bulkdash.webhooks.ReceivedWebhook``), as far as the facts go."""

    received_at_ms: int
    http_status: int

    @property
    def kind(self) -> Any: ...  # EventKind: "bulk", "transfer", …
    @property
    def bulk_id(self) -> str | None: ...
    @property
    def bulk_status(self) -> str | None: ...
    @property
    def duplicate(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class RunFacts:
    """The facts of the trainee's run as the screens show them, in the evidence's vocabulary
    (``run.status``, ``op.5.response``, ``webhooks.end``, ``api.429``…): a value as its screen shows it, or
    absent when not known (an operation not fetched). ``final``: the bulk reached a final status."""

    values: Mapping[str, str]
    final: bool = False
    #: Sequences of the FAILED operations, when all are known.
    failed: tuple[int, ...] | None = None
    #: The request payloads of the FAILED operations (canonical JSON), when all are known.
    failed_items: tuple[str, ...] | None = None

    def get(self, fact: str) -> str | None:
        return self.values.get(fact)

    def failed_seen(self) -> tuple[int, ...]:
        """The FAILED operations among those known (the page on screen, those fetched), by sequence."""
        seqs = (f.split(".")[1] for f, v in self.values.items() if f.endswith(".status") and v == "FAILED")
        return tuple(sorted(int(s) for s in seqs if s.isdigit()))

    def contradiction(self, evidence: Evidence) -> str | None:
        """Why ``evidence`` does not hold in this run — it settled otherwise — or None: it holds, or it
        cannot be told yet (a running bulk's facts still change; counters only grow)."""
        seen = self.values.get(evidence.fact)
        if seen is None or evidence.holds(seen):
            return None
        area = evidence.fact.split(".", 1)[0]
        if area in ("webhooks", "api"):
            if not (seen.isdigit() and evidence.value.isdigit()):
                return None
            fewer = evidence.at_least or int(seen) < int(evidence.value)
            # Fewer than named may still arrive — webhooks at any time (retries), API answers while the bulk
            # is followed — but a count past an exact value never comes back.
            if fewer and not (area == "api" and self.final):
                return None
        elif not self.final and not (
            area == "op" and self.values.get(evidence.fact.rsplit(".", 1)[0] + ".status") in _FINAL_OP
        ):
            return None  # the run is still going: this may yet come true
        return _differs(evidence, seen)


def _differs(evidence: Evidence, seen: str) -> str:
    wanted = f"at least {evidence.value}" if evidence.at_least else evidence.value
    fact = evidence.fact
    if fact == "run.status":
        return f"this run ended {seen}, not {wanted}"
    if fact.startswith("op.") and fact.endswith(".status"):
        return f"operation {fact.split('.')[1]} is {seen} in this run, not {wanted}"
    return f"{evidence.what()} in this run: {seen or 'none'}, not {wanted}"


def _canonical(payload: Any) -> str:
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return payload
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def run_facts(
    *,
    status: str | None,
    counts: Mapping[str, int],
    mode: str | None = None,
    ops: Iterable[OpRow] = (),
    failed_ops: Iterable[OpRow] | None = None,
    webhooks: Iterable[WebhookLike] = (),
    calls: Iterable[CallLike] = (),
    bulk_id: str | None = None,
    since_ms: int = 0,
) -> RunFacts:
    """The facts of a run from the service's state: the bulk's ``status``, ``counts`` and ``mode`` (its run
    model), the operations known (``ops``: rows of the page on screen and any fetched; ``failed_ops``: every
    FAILED one, when all are known), the webhooks received and the API calls made since ``since_ms``.

    Read as the screens show them (tests/ui/test_training.py reads the same facts off the widgets): a
    row's Response column is its key fact (``OpRow.key``); a bulk webhook is an end one when its status is
    final; a webhook is rejected when the receiver did not answer 2xx. Webhooks of another bulk are left out.
    """
    values: dict[str, str] = {}
    if status is not None:
        values["run.status"] = status
    if mode is not None:
        values["run.mode"] = mode
    for name in ("COMPLETED", "FAILED", "CANCELLED"):
        if name in counts:
            values[f"run.{name}"] = str(counts[name])
    for row in ops:
        values[f"op.{row.sequence}.status"] = row.status
        values[f"op.{row.sequence}.response"] = row.key
    failed: tuple[int, ...] | None = None
    failed_items: tuple[str, ...] | None = None
    if failed_ops is not None:
        rows = [r for r in failed_ops if r.status == "FAILED"]
        values["failed.response"] = "/".join(sorted({r.key for r in rows}))
        failed = tuple(sorted(r.sequence for r in rows))
        if all(r.request_payload is not None for r in rows):
            failed_items = tuple(sorted(_canonical(r.request_payload) for r in rows))
        for row in rows:
            values[f"op.{row.sequence}.status"] = row.status
            values[f"op.{row.sequence}.response"] = row.key
    hooks = dict.fromkeys(("end", "progress", "transactions", "rejected", "duplicates"), 0)
    for record in webhooks:
        if record.received_at_ms < since_ms or (bulk_id and record.bulk_id not in (None, bulk_id)):
            continue
        if str(record.kind) == "bulk":
            hooks["end" if record.bulk_status in FINAL_BULK else "progress"] += 1
        else:
            hooks["transactions"] += 1
        hooks["rejected"] += not 200 <= record.http_status < 300
        hooks["duplicates"] += bool(record.duplicate)
    values.update({f"webhooks.{k}": str(v) for k, v in hooks.items()})
    statuses = [c.status for c in calls if c.at_ms >= since_ms]
    values["api.429"] = str(sum(s == 429 for s in statuses))
    values["api.5xx"] = str(sum(s in _SERVER_ERRORS for s in statuses))
    return RunFacts(values, status in FINAL_BULK, failed, failed_items)


# --- what the trainee did, what the presenter did -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PresenterNote:
    """A presenter control used during the run: ``fault``, ``step`` or ``speed``."""

    what: str
    at_ms: int
    after: int | None  # the trainee's bulk's operations finished when it was used (None: not known)
    detail: str = ""  # "2×" for a speed


def _presenter_words(notes: list[PresenterNote], facts: RunFacts | None) -> str:
    parts: list[str] = []
    speeds = [note.detail for note in notes if note.what == "speed"]
    for note in notes:
        if note.what == "fault":
            at = None
            if facts is not None:
                # The next operation to run fails: the first FAILED one after those finished when asked.
                failed = facts.failed if facts.failed is not None else facts.failed_seen()
                at = next((s for s in failed if note.after is None or s > note.after), None)
            parts.append(f"injected a fault at operation {at}" if at else "injected a fault")
        elif note.what == "speed":
            # One phrase for all of them, where the first was: a presenter who pressed + and - a dozen times
            # got a dozen phrases, four lines of the checklist at 80x24.
            many = f"changed the speed {len(speeds)} times, last to {speeds[-1]}"
            parts.append(f"changed the speed to {speeds[0]}" if len(speeds) == 1 else many)
        else:
            parts.append("stepped the world one operation at a time")
    unique = list(dict.fromkeys(parts))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


def _numbers(ns: list[int]) -> str:
    if len(ns) == 1:
        return f"question {ns[0]}"
    return "questions " + ", ".join(map(str, ns[:-1])) + f" and {ns[-1]}"


@dataclass(frozen=True, slots=True)
class ActionTaken:
    """An action of the trainee, as the API-call log shows it (answered 2xx)."""

    action: str  # execute, pause, resume, cancel, submit
    at_ms: int
    after: int | None  # operations of the bulk finished when it was answered (None: not known)
    idempotency_ref: str | None = None  # a submission's
    items: list[Any] | None = None  # a submission's items, when its body was small enough to be kept


@dataclass(frozen=True, slots=True)
class ActionCheck:
    """One of the brief's expected actions, judged: ``done`` (None: cannot be told) and why, in a sentence."""

    expected: ExpectedAction
    done: bool | None
    sentence: str


def _items(body: str | None) -> list[Any] | None:
    if not body or body.startswith("<"):
        return None  # not kept (too large): see bulkdash.api.client.MAX_RECORDED_BODY
    try:
        items = json.loads(body)
    except ValueError:
        return None
    return items if isinstance(items, list) else None


_PAST = {
    "execute": "executed",
    "pause": "paused",
    "resume": "resumed",
    "cancel": "cancelled",
    "submit": "submitted a new bulk",
}


_DO = {"submit": "submit a new bulk"}


def _when(after: int | None) -> str:
    if after is None:
        return "(when, the dashboard could not tell)"
    return "before any operation finished" if after == 0 else f"after operation {after}"


def _window(e: ExpectedAction) -> str:
    parts = []
    if e.after_op is not None:
        parts.append(f"after operation {e.after_op}")
    if e.before_op is not None:
        parts.append(f"before operation {e.before_op}")
    return " and ".join(parts)


def _in_window(e: ExpectedAction, t: ActionTaken) -> bool | None:
    if e.after_op is None and e.before_op is None:
        return True
    if t.after is None:
        return None
    return (e.after_op is None or t.after >= e.after_op) and (e.before_op is None or t.after < e.before_op)


def _submit_problem(
    e: ExpectedAction, t: ActionTaken, earlier: list[str], facts: RunFacts | None, first_ref: str | None
) -> str | None:
    """Why submission ``t`` is not the one expected (None: it is); ``earlier``: refs submitted before it."""
    first = first_ref or (earlier[0] if earlier else None)
    if e.idempotency == "new" and t.idempotency_ref in {first, *earlier} - {None}:
        return "with an idempotency-ref already used; the brief asked for a new one"
    if e.idempotency == "same" and (first is None or t.idempotency_ref != first):
        return "with a new idempotency-ref; the brief asked for the first submission's"
    if e.only_failed:
        wanted = None if facts is None else facts.failed_items
        if t.items is None or wanted is None:
            return "whose items the dashboard could not compare with the FAILED operations"
        if sorted(_canonical(i) for i in t.items) != list(wanted):
            return f"of {len(t.items)} items; the brief asked for only the {len(wanted)} FAILED one(s)"
    return None


def check_action(
    e: ExpectedAction, taken: list[ActionTaken], facts: RunFacts | None = None, first_ref: str | None = None
) -> ActionCheck:
    """Judge expected action ``e`` against the actions ``taken``: a ✓/✗ with a sentence."""
    did = _PAST[e.action]
    mine = [t for t in taken if t.action == e.action]
    problems: list[str | None] = []
    refs: list[str] = []
    for t in mine:
        problem = _submit_problem(e, t, refs, facts, first_ref) if e.action == "submit" else None
        problems.append(problem)
        if t.idempotency_ref:
            refs.append(t.idempotency_ref)
    fits = [_in_window(e, t) if p is None else False for t, p in zip(mine, problems, strict=True)]
    fitting = [t for t, ok in zip(mine, fits, strict=True) if ok]
    window = _window(e)
    if e.times is not None:
        n = len(fitting)
        times = f"{n} time{'s' if n != 1 else ''}"
        if e.times == 0:
            if fitting:
                return ActionCheck(
                    e, False, f"You {did} {_when(fitting[0].after)}; the brief asked you not to"
                )
            where = f" {window}" if window else ""
            done = None if None in fits else True
            return ActionCheck(
                e, done, f"You did not {_DO.get(e.action, e.action)}{where}, as the brief asked"
            )
        ok = n == e.times
        sentence = f"You {did} {times}" + (f" {window}" if window else "")
        sentence += ", as the brief asked" if ok else f"; the brief asked {e.times}: {e.says}"
        return ActionCheck(e, ok if None not in fits else None, sentence)
    if fitting:
        t = fitting[0]
        return ActionCheck(
            e, True, f"You {did} {_when(t.after)}" + (f" (the brief: {window})" if window else "")
        )
    if None in fits:
        return ActionCheck(e, None, f"You {did}, but when could not be told; the brief asked {window}")
    for problem in problems:
        if problem is not None:
            return ActionCheck(e, False, f"You {did} {problem}")
    if mine:
        return ActionCheck(e, False, f"You {did} {_when(mine[0].after)}; the brief asked {window}")
    return ActionCheck(e, False, f"You did not {_DO.get(e.action, e.action)}; the brief asked: {e.says}")


__all__ = [
    "FINAL_BULK",
    "ActionCheck",
    "ActionTaken",
    "Move",
    "Phase",
    "PresenterNote",
    "RunFacts",
    "Training",
    "Verdict",
    "check_action",
    "run_facts",
]
