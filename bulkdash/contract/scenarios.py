"""The training contract between the simulator's scenario packs and the dashboard: a pack's checklist
questions and the dashboard facts that answer them, as served by ``GET /_sim/scenarios[/{name}]``.

Defined once here (like the Weavr wire models) and used by both sides: the simulator validates the packs'
TOML with these models, the dashboard reads the same JSON back with them.

A question is multiple choice: ``choices``, the 1-based ``correct`` one, a ``hint`` on demand, and ``answer``,
the explanation shown once answered. ``evidence`` names the facts on the dashboard that settle it, each as
``"FACT = VALUE"`` (or ``>=`` for "at least"), from a small vocabulary of things a screen shows
(:data:`FACT_PATTERN`); the dashboard shows them with the explanation ("where it shows"), and the Pilot test
reads each one off the screens before it answers. The dashboard also checks them against the trainee's own
run: a question whose evidence does not hold there "does not apply to this run" rather than being judged.

A question's texts may hold placeholders naming the same facts, ``{run.COMPLETED}`` or ``{op.5.response}``
(:data:`PLACEHOLDER`), filled from the trainee's run when shown, so an answer that depends on the run is
computed rather than fixed. ``expect_actions`` (:class:`ExpectedAction`) says what the trainee must *do*, and
``reply`` (:class:`Reply`) asks for a free-text answer to the customer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Difficulty = Literal["beginner", "intermediate", "advanced"]

#: The dashboard facts a question's evidence may name. ``op.N.*`` reads operation N's row on the run screen.
FACT_PATTERN = re.compile(
    r"^(?:run\.(?:status|mode|COMPLETED|FAILED|CANCELLED)"
    r"|op\.[1-9][0-9]*\.(?:status|response)|failed\.response"
    r"|webhooks\.(?:end|progress|transactions|rejected|duplicates)"
    r"|api\.(?:429|5xx))$"
)
#: A placeholder in a question's texts: ``{FACT}`` where FACT is in :data:`FACT_PATTERN`'s vocabulary. Only
#: braces opening with a fact's area count, so ``GET /bulks/{id}`` stays plain text.
PLACEHOLDER = re.compile(r"\{((?:run|op|failed|webhooks|api)\.[\w.]+)\}")
_EVIDENCE = re.compile(r"^\s*(?P<fact>[\w.]+)\s*(?P<op>>=|=)\s*(?P<value>\S(?:.*\S)?)\s*$")

_WHERE = {
    "run": "run screen header",
    "failed": "run screen filtered to FAILED (f)",
    "op": "run screen, operations table",
    "webhooks": "webhooks screen (w)",
    "api": "API calls screen (l)",
}
_WHAT = {
    "run.status": "the bulk's status",
    "run.mode": "the execution mode",
    "failed.response": "the Response column of every failed operation",
    "webhooks.end": "bulk end webhooks received",
    "webhooks.progress": "bulk progress webhooks received",
    "webhooks.transactions": "transaction webhooks received",
    "webhooks.rejected": "webhooks rejected (Sig ✗)",
    "webhooks.duplicates": "duplicate deliveries (Dup ⧉)",
    "api.429": "429 Too Many Requests answers",
    "api.5xx": "500/503 answers",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact the dashboard shows: ``fact`` compared with ``value`` (``at_least`` for ``>=``)."""

    fact: str
    value: str
    at_least: bool = False

    @classmethod
    def parse(cls, text: str) -> Evidence:
        match = _EVIDENCE.match(text)
        if match is None:
            raise ValueError(f"evidence {text!r}: expected 'FACT = VALUE' or 'FACT >= NUMBER'")
        fact, op, value = match["fact"], match["op"], match["value"]
        if not FACT_PATTERN.match(fact):
            raise ValueError(
                f"evidence {text!r}: unknown fact {fact!r} (run.status|mode|COMPLETED|FAILED|CANCELLED, "
                "op.N.status|response, failed.response, "
                "webhooks.end|progress|transactions|rejected|duplicates, api.429|5xx)"
            )
        if op == ">=" and not value.isdigit():
            raise ValueError(f"evidence {text!r}: '>=' needs a whole number")
        return cls(fact, value, op == ">=")

    def holds(self, seen: str | int | None) -> bool:
        """Whether the value read off the dashboard satisfies this fact."""
        if seen is None:
            return False
        if self.at_least:
            return str(seen).isdigit() and int(seen) >= int(self.value)
        return str(seen).strip().casefold() == self.value.casefold()

    def what(self) -> str:
        """The fact in words: ``operation 5's status``, ``the bulk's status``, ``the CANCELLED count``."""
        return fact_words(self.fact)

    def describe(self) -> str:
        """The fact in words, with where it shows: ``operation 5's status (run screen…): FAILED``."""
        value = f"at least {self.value}" if self.at_least else self.value
        return f"{self.what()} ({_WHERE[self.fact.split('.', 1)[0]]}): {value}"


def fact_words(fact: str) -> str:
    """A fact of :data:`FACT_PATTERN` in words."""
    area = fact.split(".", 1)[0]
    if area == "op":
        _, seq, column = fact.split(".")
        return f"operation {seq}'s {'Response column' if column == 'response' else 'status'}"
    if area == "run" and fact not in _WHAT:
        return f"the {fact.split('.')[1]} count"
    return _WHAT[fact]


def placeholders(text: str) -> list[str]:
    """The facts named by ``{FACT}`` placeholders in ``text``, in order."""
    return PLACEHOLDER.findall(text)


def fill(text: str, value: Callable[[str], str | None], unknown: str = "…") -> str:
    """``text`` with each placeholder replaced by ``value(fact)`` (``unknown`` when that is None)."""

    def one(match: re.Match[str]) -> str:
        seen = value(match[1])
        return unknown if seen is None else seen

    return PLACEHOLDER.sub(one, text)


class Question(BaseModel):
    """One checklist question of a scenario pack."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    question: str
    choices: Annotated[list[str], Field(min_length=2, max_length=5)]
    correct: Annotated[int, Field(ge=1)]  # 1-based, as shown
    hint: str
    answer: str  # the explanation, shown once answered
    evidence: Annotated[list[str], Field(min_length=1)]

    @field_validator("evidence")
    @classmethod
    def _evidence(cls, value: list[str]) -> list[str]:
        for text in value:
            Evidence.parse(text)  # raises ValueError with the offending text
        return value

    @model_validator(mode="after")
    def _correct_in_range(self) -> Question:
        if self.correct > len(self.choices):
            raise ValueError(f"correct = {self.correct} but there are {len(self.choices)} choices")
        for fact in self.placeholders():
            if not FACT_PATTERN.match(fact):
                raise ValueError(f"placeholder {{{fact}}}: unknown fact {fact!r}")
        return self

    def facts(self) -> list[Evidence]:
        return [Evidence.parse(text) for text in self.evidence]

    def texts(self) -> list[str]:
        """Every text of the question that may hold placeholders."""
        return [self.question, *self.choices, self.hint, self.answer]

    def placeholders(self) -> list[str]:
        """The facts the question's texts are filled with (each once, in order)."""
        return list(dict.fromkeys(f for text in self.texts() for f in placeholders(text)))


ActionName = Literal["execute", "pause", "resume", "cancel", "submit"]


class ExpectedAction(BaseModel):
    """Something the brief asks the trainee to *do*, judged from the dashboard's API-call log.

    ``after_op``/``before_op`` bound *when*, by the bulk's count of finished operations when the action's call
    was answered: at least ``after_op``, below ``before_op``. A pause or cancel is answered once the operation
    in flight finished (docs/behaviour.md §3.9, A13), so "pause while operation 6 runs" is ``after_op = 5,
    before_op = 7``. ``times`` is the exact number of such calls (0 = must not be done); ``None`` = at least
    once. A ``submit`` is a new bulk submitted by the trainee (``idempotency``, ``only_failed``: how).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    action: ActionName
    after_op: Annotated[int, Field(ge=0)] | None = None  # the action must come after operation N finished
    before_op: Annotated[int, Field(ge=1)] | None = None  # ... and before operation N started
    times: Annotated[int, Field(ge=0)] | None = None  # exactly N times (0 = must NOT be done); None: 1+
    idempotency: Literal["new", "same"] | None = None  # for submit: new idempotency-ref vs the first one's
    only_failed: bool = False  # for submit: the new bulk holds only the previously FAILED items
    says: Annotated[str, Field(min_length=1)]  # what is shown to the trainee ("Pause while operation 6 runs")

    @model_validator(mode="after")
    def _consistent(self) -> ExpectedAction:
        if self.after_op is not None and self.before_op is not None and self.before_op <= self.after_op:
            raise ValueError(f"before_op = {self.before_op} must be after after_op = {self.after_op}")
        if (self.idempotency is not None or self.only_failed) and self.action != "submit":
            raise ValueError("idempotency/only_failed apply to action = 'submit' only")
        return self


class Reply(BaseModel):
    """A free-text reply to the customer: what they asked, and the model answer shown after drafting."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    prompt: Annotated[str, Field(min_length=1)]
    model: Annotated[str, Field(min_length=1)]


class ScenarioSummary(BaseModel):
    """A pack as listed by ``GET /_sim/scenarios`` (and the brief the dashboard shows next to the run)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    name: str
    title: str
    difficulty: Difficulty = "intermediate"
    kind: str
    size: int
    mode: str
    webhookInterval: int | None = None  # the execute options the scenario uses (or suggests, byClient)
    narrative: str
    #: The trainee executes (and pauses or cancels) the bulk; otherwise set-up executes it.
    byClient: bool = False
    questions: list[Question] = Field(default_factory=list)
    #: What the brief asks the trainee to do (byClient packs), checked against the API-call log.
    expect_actions: list[ExpectedAction] = Field(default_factory=list)
    #: A customer's question the trainee answers in free text; the model answer is shown after.
    reply: Reply | None = None


__all__ = [
    "FACT_PATTERN",
    "PLACEHOLDER",
    "ActionName",
    "Difficulty",
    "Evidence",
    "ExpectedAction",
    "Question",
    "Reply",
    "ScenarioSummary",
    "fact_words",
    "fill",
    "placeholders",
]
