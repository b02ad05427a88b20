"""A trainee's run of one scenario pack: the brief, the bulk it set up, and the checklist with its answers.

Plain Python (no Textual, no I/O): the Scenarios and Checklist screens render it. A question is answered
once — the first choice counts for the score, as in a quiz — and its explanation and the dashboard facts
that settle it are shown from then on; hints are counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bulkdash.contract.scenarios import Question, ScenarioSummary


@dataclass(frozen=True, slots=True)
class Verdict:
    correct: bool
    chosen: int  # 1-based
    right: int  # 1-based
    right_text: str
    explanation: str
    where: list[str]  # the evidence in words: what the dashboard shows, and where


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

    @property
    def questions(self) -> list[Question]:
        return self.scenario.questions

    def answer(self, index: int, choice: int) -> Verdict:
        """Answer question ``index`` with the 1-based ``choice``; a repeat returns the first verdict."""
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
