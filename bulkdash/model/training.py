"""A trainee's run of one scenario pack: the brief, the bulk it set up, and the checklist with its answers.

Plain Python (no Textual, no I/O): the Scenarios and Checklist screens render it. A question is answered
once — the first choice counts for the score, as in a quiz — and its explanation and the dashboard facts
that settle it are shown from then on; hints are counted.

Choices are shown in an order shuffled per trainee (:meth:`Training.choice_order`, deterministic for one
``seed``, by default the bulk's id), so "it is always choice 2" cannot be learnt; a choice is identified by
its 1-based place in the pack (``Question.correct``), never by where it is shown.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bulkdash.contract.scenarios import Question, ScenarioSummary


@dataclass(frozen=True, slots=True)
class Verdict:
    correct: bool
    chosen: int  # 1-based, the choice's place in the pack
    right: int  # 1-based, the choice's place in the pack
    right_text: str
    explanation: str
    where: list[str]  # the evidence in words: what the dashboard shows, and where
    right_shown: int = 0  # 1-based, where the right choice is shown to this trainee


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

    @property
    def questions(self) -> list[Question]:
        return self.scenario.questions

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
            right_text=question.choices[question.correct - 1],
            explanation=question.answer,
            where=[fact.describe() for fact in question.facts()],
            right_shown=self.choice_order(index).index(question.correct) + 1,
        )
        self.verdicts[index] = verdict
        return verdict

    def hint(self, index: int) -> str:
        self.hints.add(index)
        return self.questions[index].hint

    @property
    def answered(self) -> int:
        return len(self.verdicts)

    @property
    def score(self) -> int:
        return sum(v.correct for v in self.verdicts.values())

    @property
    def finished(self) -> bool:
        return self.answered == len(self.questions)

    def progress(self) -> str:
        """``2/3 answered · 1 correct · 1 hint`` for the brief."""
        total = len(self.questions)
        if not total:
            return "no questions"
        text = f"{self.answered}/{total} answered · {self.score} correct"
        if self.hints:
            text += f" · {len(self.hints)} hint{'s' if len(self.hints) > 1 else ''}"
        return text


__all__ = ["Training", "Verdict"]
