"""The checklist of the scenario being trained: its questions (left, marked ✓ ✗ – or ·) and the one
highlighted (right) with its choices; a number key or enter answers, ``h`` shows the hint, ``]`` / ``[`` move
to the next / previous question. Once answered, the verdict, the explanation and where the dashboard shows the
facts that settle it.

It judges the run that happened (``Training.take_facts``, refreshed each second and once the run is final):
a question whose evidence the run contradicts is marked "does not apply to this run" (–) with the fact that
differs, a line says what the presenter changed, the brief's expected actions are checked (✓/✗) against the
API-call log, and a pack with a ``reply`` ends with a text area for the trainee's reply to the customer
(kept in the run's report; the model answer is shown once it is sent).

A screen, not a dialog: escape goes back to investigating, ``k`` comes back with the answers kept (they live
in the app's ``Training``).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from bulkdash.model.run import OpRow, row_from
from bulkdash.model.training import ActionCheck, RunFacts, Training, Verdict
from bulkdash.ui import sheets
from bulkdash.ui.widgets.footer import CoalescingFooter

#: How often the run's facts are read again while the checklist is open (they are in memory: no request).
FACTS_EVERY_S = 1.0
#: The most FAILED operations fetched to know them all (the pages of 100 a ``failed.response`` needs).
MAX_FAILED_FETCHED = 1000
GREEN, RED, AMBER = "bold #5fd787", "bold #ff5f5f", "bold #ffd75f"


def mark(training: Training, index: int) -> Text:
    verdict = training.verdicts.get(index)
    if verdict is None:
        return Text("·", style="dim")
    if not verdict.counts:
        return Text("–", style=AMBER)
    return Text("✓", style=GREEN) if verdict.correct else Text("✗", style=RED)


def verdict_text(verdict: Verdict) -> Text:
    text = Text()
    if not verdict.counts:
        # The run went otherwise than the pack's: judging the answer against it would contradict the screen.
        text.append(f"– Does not apply to this run: {verdict.not_applicable}", style=AMBER)
        text.append(f"\nFor the run the brief describes, the answer is {verdict.right_shown}: ")
        text.append(verdict.right_text, style="italic")
    elif verdict.correct:
        text.append("✓ Correct", style=GREEN)
    else:
        text.append(f"✗ Not quite: the answer is {verdict.right_shown}", style=RED)
    text.append(f"\n{verdict.explanation}\n\n")
    text.append("Where the dashboard shows it\n", style="bold underline")
    for line in verdict.where:
        text.append(f"• {line}\n")
    return text


class ChecklistScreen(Screen[None]):
    CSS_PATH = sheets.LATER
    TITLE = "bulkdash"
    AUTO_FOCUS = "#question-choices"
    # At 80×24 the question list kept 50 columns and the choices, text and verdict were squeezed into the rest
    # (the verdict below the fold): a narrow or short terminal gets a tighter layout (``training.tcss``).
    HORIZONTAL_BREAKPOINTS = sheets.NARROW_TERMINAL
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL

    BINDINGS = [
        Binding("escape", "back", "Back to the run", id="checklist.back"),
        Binding("h", "hint", "Hint", id="checklist.hint"),
        # Once answered, the arrows stay in the choices: these move on without a shift+tab to the list first.
        Binding("right_square_bracket", "question(1)", "Next question", id="checklist.next"),
        # (listed in help: with it the footer no longer fits its full labels at 120 columns)
        Binding("left_square_bracket", "question(-1)", "Previous question", id="checklist.prev", show=False),
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
        #: Operations fetched for the checklist (evidence and placeholders name them), by sequence.
        self._fetched: dict[int, OpRow] = {}
        self._failed: list[OpRow] | None = None  # every FAILED operation, once fetched after the end
        self._fetched_final = False  # fetched since the run was final: nothing changes any more
        self._shown: tuple[Any, ...] | None = None  # what the facts drew last (redraw only on change)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="▤")
        yield Static(id="checklist-progress", markup=False)
        yield Static(id="checklist-presenter", markup=False)
        with Horizontal(id="checklist-body"):
            yield OptionList(id="checklist-questions")
            with Vertical(id="checklist-detail"):
                yield Static(id="question-text", markup=False)
                yield OptionList(id="question-choices")
                with VerticalScroll(id="question-feedback"):
                    yield Static(id="question-hint", markup=False)
                    yield Static(id="question-verdict", markup=False)
        yield Static(id="checklist-actions", markup=False)
        reply = self.training.scenario.reply
        if reply is not None:
            with Vertical(id="checklist-reply"):
                yield Static(Text.assemble(("The customer asks: ", "bold"), reply.prompt), id="reply-prompt")
                with Horizontal(id="reply-row"):
                    yield TextArea(self.training.reply_draft or "", id="reply-draft", soft_wrap=True)
                    yield Button("Send reply", id="reply-send", variant="primary")
                yield Static(id="reply-model", markup=False)
        yield CoalescingFooter()

    def on_mount(self) -> None:
        self._take_facts()
        questions = self.query_one("#checklist-questions", OptionList)
        for i in range(len(self.training.questions)):
            questions.add_option(Option(self._question_label(i), id=f"q{i}"))
        if self.training.questions:
            questions.highlighted = 0
        self._show(0)
        self._draw_facts()
        if self.training.reply_draft is not None:
            self._show_model_reply()
        self._fetch_facts()
        self.set_interval(FACTS_EVERY_S, self._tick)

    def _question_label(self, index: int) -> Text:
        label = Text()
        label.append_text(mark(self.training, index))
        label.append(f" {index + 1}. {self.training.text(self.training.questions[index].question)}")
        return label

    # --- the run that happened --------------------------------------------------------------------------
    def _take_facts(self) -> RunFacts:
        """The run's facts from the service's state (in memory), with the operations fetched for it."""
        service = self.app.service  # type: ignore[attr-defined]
        follower = service.runs.get(self.training.bulk_id)
        session = service.session
        return self.training.take_facts(
            None if follower is None else follower.model,
            webhooks=list(service.webhooks),
            calls=[] if session is None else list(session.calls),
            fetched=self._fetched.values(),
            failed=self._failed,
        )

    def _tick(self) -> None:
        facts = self._take_facts()
        self._draw_facts()
        if facts.final and not self._fetched_final:
            self._fetch_facts()

    def _fetch_facts(self) -> None:
        session = self.app.service.session  # type: ignore[attr-defined]
        if session is not None and self.training.questions:
            self.run_worker(self._fetch(session.client), group="checklist-facts", exclusive=True)

    async def _fetch(self, client: Any) -> None:
        """Fetch the operations the checklist reads that the run screen's page does not hold, and — once the
        run is final — every FAILED one. A request that fails leaves its facts unknown (judged as before)."""
        from bulkdash.api.budget import BudgetExhausted
        from bulkdash.api.client import ApiError

        training = self.training
        final = training.facts is not None and training.facts.final
        self._fetched_final = final  # once after the end, whatever comes of it (no retry loop on a 429)
        follower = self.app.service.runs.get(training.bulk_id)  # type: ignore[attr-defined]
        on_page = {} if follower is None else {r.sequence: r for r in follower.model.rows.values()}
        try:
            for seq in training.needed_ops():
                row = self._fetched.get(seq) or on_page.get(seq)
                if row is not None and row.status in ("COMPLETED", "FAILED", "CANCELLED"):
                    continue  # an operation that ended does not change: no request
                page = await client.list_operations(training.bulk_id, sequence=seq, limit=1)
                for op in page.operations:
                    if op.sequence == seq:
                        self._fetched[seq] = row_from(op, seq)
            if final:
                failed: list[OpRow] = []
                while len(failed) < MAX_FAILED_FETCHED:
                    page = await client.list_operations(
                        training.bulk_id, offset=len(failed), limit=100, status="FAILED"
                    )
                    failed += [row_from(op) for op in page.operations]
                    if len(page.operations) < 100:
                        self._failed = failed
                        break
        except (ApiError, BudgetExhausted):
            return
        self._take_facts()
        self._draw_facts()

    def _draw_facts(self) -> None:
        """Redraw what depends on the run's facts, when they changed: the presenter's line, the expected
        actions, the question list's texts and the question shown (its placeholders)."""
        training = self.training
        service = self.app.service  # type: ignore[attr-defined]
        calls = [] if service.session is None else list(service.session.calls)
        checks = training.check_actions(calls)
        lines = training.presenter_lines()
        facts = training.facts
        shown = (
            None if facts is None else tuple(sorted(facts.values.items())),
            tuple(lines),
            tuple((c.done, c.sentence) for c in checks),
        )
        if shown == self._shown:
            return
        self._shown = shown
        presenter = self.query_one("#checklist-presenter", Static)
        presenter.update(Text("\n".join(lines), style=AMBER))
        presenter.display = bool(lines)
        actions = self.query_one("#checklist-actions", Static)
        actions.update(actions_text(checks))
        actions.display = bool(checks)
        questions = self.query_one("#checklist-questions", OptionList)
        for i in range(len(training.questions)):
            questions.replace_option_prompt_at_index(i, self._question_label(i))
        if training.questions:
            self._show(self.current)

    def _show(self, index: int) -> None:
        training = self.training
        self.query_one("#checklist-progress", Static).update(
            f"{training.scenario.title} — bulk {training.bulk_id} — {training.progress()}"
        )
        if not training.questions:
            self.query_one("#question-text", Static).update("This scenario has no questions.")
            return
        same = index == self.current
        self.current = index
        question = training.questions[index]
        self.query_one("#question-text", Static).update(Text(training.text(question.question), style="bold"))
        choices = self.query_one("#question-choices", OptionList)
        highlighted = choices.highlighted
        choices.clear_options()
        verdict = training.verdicts.get(index)
        # Shown in the trainee's shuffled order; the verdict names choices by their place in the pack.
        for n, choice in enumerate(training.choice_order(index), 1):
            label = Text(f"{n}. {training.text(question.choices[choice - 1])}")
            if verdict is not None and choice == verdict.right:
                label.stylize("bold #5fd787")
            elif verdict is not None and choice == verdict.chosen:
                label.stylize("#ff5f5f")
            choices.add_option(Option(label, id=f"c{n}"))
        if same and highlighted is not None and highlighted < choices.option_count:
            choices.highlighted = highlighted  # a redraw (new facts) keeps the trainee's place
        hint = self.query_one("#question-hint", Static)
        shown_hint = training.text(question.hint)
        hint.update(Text(f"Hint: {shown_hint}", style="italic #ffd75f") if index in training.hints else "")
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
            skipped = len(t.questions) - t.judged
            also = f" ({skipped} not applying to this run)" if skipped else ""
            self.notify(f"Checklist done: {t.score}/{t.judged} correct{also}", title=t.scenario.title)

    def action_question(self, step: int) -> None:
        """The next (``step`` 1) or previous (-1) question, its choices focused to answer it."""
        if not self.training.questions:
            return
        index = min(max(self.current + step, 0), len(self.training.questions) - 1)
        self.query_one("#checklist-questions", OptionList).highlighted = index
        self._show(index)
        self.query_one("#question-choices", OptionList).focus()

    def action_hint(self) -> None:
        if self.training.questions:
            self.training.hint(self.current)
            self._show(self.current)

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#reply-send")
    def _send_reply(self) -> None:
        draft = self.query_one("#reply-draft", TextArea).text
        if not draft.strip():
            self.notify("Write your reply to the customer first", severity="warning", timeout=3)
            return
        self.training.submit_reply(draft)
        self._show_model_reply()
        self.notify("Reply kept: it goes into the run's report", timeout=3)

    def _show_model_reply(self) -> None:
        reply = self.training.scenario.reply
        if reply is None:
            return
        model = self.query_one("#reply-model", Static)
        model.update(Text.assemble(("A model answer: ", "bold #5fd787"), reply.model))
        model.display = True


def actions_text(checks: list[ActionCheck]) -> Text:
    """The brief's expected actions, each ✓/✗ (· when it cannot be told) with its sentence."""
    text = Text("What the brief asked you to do\n", style="bold underline")
    for check in checks:
        if check.done is None:
            text.append("· ", style="dim")
        else:
            text.append("✓ " if check.done else "✗ ", style=GREEN if check.done else RED)
        text.append(f"{check.expected.says}: {check.sentence}\n")
    text.rstrip()
    return text
