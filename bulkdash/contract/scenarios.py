"""The training contract between the simulator's scenario packs and the dashboard: a pack's checklist
questions and the dashboard facts that answer them, as served by ``GET /_sim/scenarios[/{name}]``.

Defined once here (like the Weavr wire models) and used by both sides: the simulator validates the packs'
TOML with these models, the dashboard reads the same JSON back with them.

A question is multiple choice: ``choices``, the 1-based ``correct`` one, a ``hint`` on demand, and ``answer``,
the explanation shown once answered. ``evidence`` names the facts on the dashboard that settle it, each as
``"FACT = VALUE"`` (or ``>=`` for "at least"), from a small vocabulary of things a screen shows
(:data:`FACT_PATTERN`); the dashboard shows them with the explanation ("where it shows"), and the Pilot test
reads each one off the screens before it answers.
"""

from __future__ import annotations

import re
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

    def describe(self) -> str:
        """The fact in words, with where it shows: ``operation 5's status (run screen…): FAILED``."""
        area = self.fact.split(".", 1)[0]
        if area == "op":
            _, seq, column = self.fact.split(".")
            what = f"operation {seq}'s {'Response column' if column == 'response' else 'status'}"
        elif area == "run" and self.fact not in _WHAT:
            what = f"the {self.fact.split('.')[1]} count"
        else:
            what = _WHAT[self.fact]
        value = f"at least {self.value}" if self.at_least else self.value
        return f"{what} ({_WHERE[area]}): {value}"


class Question(BaseModel):
    """One checklist question of a scenario pack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
        return self

    def facts(self) -> list[Evidence]:
        return [Evidence.parse(text) for text in self.evidence]


class ScenarioSummary(BaseModel):
    """A pack as listed by ``GET /_sim/scenarios`` (and the brief the dashboard shows next to the run)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

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


__all__ = ["FACT_PATTERN", "Difficulty", "Evidence", "Question", "ScenarioSummary"]
