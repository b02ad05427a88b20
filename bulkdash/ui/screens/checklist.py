"""The checklist of the scenario being trained: its questions (left, marked ✓ ✗ or ·) and the one highlighted
(right) with its choices; a number key or enter answers, ``h`` shows the hint. Once answered, the verdict,
the explanation and where the dashboard shows the facts that settle it.

A screen, not a dialog: escape goes back to investigating, ``k`` comes back with the answers kept (they live
in the app's ``Training``).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from bulkdash.model.training import Training, Verdict
from bulkdash.ui.widgets.footer import CoalescingFooter


def mark(training: Training, index: int) -> Text:
    verdict = training.verdicts.get(index)
    if verdict is None:
        return Text("·", style="dim")
    return Text("✓", style="bold #5fd787") if verdict.correct else Text("✗", style="bold #ff5f5f")


def verdict_text(verdict: Verdict) -> Text:
    text = Text()
    if verdict.correct:
        text.append("✓ Correct", style="bold #5fd787")
    else:
        text.append(f"✗ Not quite: the answer is {verdict.right_shown}", style="bold #ff5f5f")
    text.append(f"\n{verdict.explanation}\n\n")
    text.append("Where the dashboard shows it\n", style="bold underline")
    for line in verdict.where:
        text.append(f"• {line}\n")
    return text


class ChecklistScreen(Screen[None]):
    TITLE = "bulkdash"
    AUTO_FOCUS = "#question-choices"

    BINDINGS = [
        Binding("escape", "back", "Back to the run", id="checklist.back"),
        Binding("h", "hint", "Hint", id="checklist.hint"),
        *(
            Binding(str(n), f"answer({n})", f"Answer {n}", id=f"checklist.answer_{n}", show=False)
            for n in range(1, 6)
        ),
    ]

    def __init__(self, training: Training) -> None:
        super().__init__(id="checklist")
        self.training = training
        self.current = 0
        self.sub_title = f"Checklist · {training.scenario.title}"

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="▤")
        yield Static(id="checklist-progress", markup=False)
        with Horizontal(id="checklist-body"):
            yield OptionList(id="checklist-questions")
            with Vertical(id="checklist-detail"):
                yield Static(id="question-text", markup=False)
                yield OptionList(id="question-choices")
                with VerticalScroll(id="question-feedback"):
                    yield Static(id="question-hint", markup=False)
                    yield Static(id="question-verdict", markup=False)
        yield CoalescingFooter()

    def on_mount(self) -> None:
        questions = self.query_one("#checklist-questions", OptionList)
        for i in range(len(self.training.questions)):
            questions.add_option(Option(self._question_label(i), id=f"q{i}"))
        if self.training.questions:
            questions.highlighted = 0
        self._show(0)

    def _question_label(self, index: int) -> Text:
        label = Text()
        label.append_text(mark(self.training, index))
        label.append(f" {index + 1}. {self.training.questions[index].question}")
        return label

    def _show(self, index: int) -> None:
        training = self.training
        self.query_one("#checklist-progress", Static).update(
            f"{training.scenario.title} — bulk {training.bulk_id} — {training.progress()}"
        )
        if not training.questions:
            self.query_one("#question-text", Static).update("This scenario has no questions.")
            return
        self.current = index
        question = training.questions[index]
        self.query_one("#question-text", Static).update(Text(question.question, style="bold"))
        choices = self.query_one("#question-choices", OptionList)
        choices.clear_options()
        verdict = training.verdicts.get(index)
        # Shown in the trainee's shuffled order; the verdict names choices by their place in the pack.
        for n, choice in enumerate(training.choice_order(index), 1):
            label = Text(f"{n}. {question.choices[choice - 1]}")
            if verdict is not None and choice == verdict.right:
                label.stylize("bold #5fd787")
            elif verdict is not None and choice == verdict.chosen:
                label.stylize("#ff5f5f")
            choices.add_option(Option(label, id=f"c{n}"))
        hint = self.query_one("#question-hint", Static)
        hint.update(Text(f"Hint: {question.hint}", style="italic #ffd75f") if index in training.hints else "")
        self.query_one("#question-verdict", Static).update(verdict_text(verdict) if verdict else "")

    # --- events -------------------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#checklist-questions")
    def _question_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.current:
            self._show(event.option_index)

    @on(OptionList.OptionSelected, "#checklist-questions")
    def _question_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#question-choices", OptionList).focus()

    @on(OptionList.OptionSelected, "#question-choices")
    def _choice_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_answer(event.option_index + 1)

    # --- actions ------------------------------------------------------------------------------------
    def action_answer(self, choice: int) -> None:
        if not self.training.questions:
            return
        question = self.training.questions[self.current]
        if choice > len(question.choices):
            self.notify(f"Choose 1 to {len(question.choices)}", severity="warning", timeout=2)
            return
        already = self.current in self.training.verdicts
        chosen = self.training.shown_choice(self.current, choice)  # ``choice`` is where it is shown
        verdict = self.training.answer(self.current, chosen)
        if already and chosen != verdict.chosen:
            self.notify("Already answered: the first answer counts", timeout=2)
        questions = self.query_one("#checklist-questions", OptionList)
        questions.replace_option_prompt_at_index(self.current, self._question_label(self.current))
        self._show(self.current)
        if self.training.finished and not already:
            t = self.training
            self.notify(f"Checklist done: {t.score}/{len(t.questions)} correct", title=t.scenario.title)

    def action_hint(self) -> None:
        if self.training.questions:
            self.training.hint(self.current)
            self._show(self.current)

    def action_back(self) -> None:
        self.app.pop_screen()
