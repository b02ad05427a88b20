"""The brief of a training scenario above its run: title, level, the customer's report and the checklist's
progress, and what the run waits for: "press space to start" while the simulator waits for the trainee, and
"Your move: …" while the world holds at the operation the brief names (``Training.prompt``). Pure rendering of
a ``Training``: no I/O; it redraws itself when the training's phase changes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from bulkdash.model.training import Training
from bulkdash.ui.format import LEVEL_STYLE


class Brief(Static):
    DEFAULT_CLASSES = "brief"

    def __init__(self, training: Training, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.training = training

    def on_mount(self) -> None:
        self.training.listeners.append(self._phase_changed)
        self.show()

    def on_unmount(self) -> None:
        if self._phase_changed in self.training.listeners:
            self.training.listeners.remove(self._phase_changed)

    def _phase_changed(self) -> None:
        # Called by the service's task (same loop): redraw from the app's message queue.
        self.call_later(self.show)

    def show(self) -> None:
        t = self.training
        s = t.scenario
        text = Text()
        text.append("Scenario ", style="dim")
        text.append(s.title, style="bold")
        text.append(f"  {s.difficulty}", style=LEVEL_STYLE.get(s.difficulty, ""))
        text.append("\n" + " ".join(s.narrative.split()) + "\n", style="italic")
        prompt = t.prompt()
        self.set_class(prompt is not None, "-waiting")
        if prompt is not None:
            self.display = True  # folded away (b), it would hide what the run waits for
            text.append(prompt + "\n", style="bold reverse #ffaf5f")
        if s.byClient and not t.executed and t.phase != "ready":
            text.append(
                "Your move: execute the bulk (x) and act on it as the report says.\n", style="#ffaf5f"
            )
        text.append("Checklist ", style="bold")
        text.append(f"{t.progress()} — k to answer, b folds this brief", style="dim")
        self.update(text)
