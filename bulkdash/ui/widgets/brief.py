"""The brief of a training scenario above its run: title, level, the customer's report and the checklist's
progress. Pure rendering of a ``Training``: no I/O."""

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
        self.show()

    def show(self) -> None:
        t = self.training
        s = t.scenario
        text = Text()
        text.append("Scenario ", style="dim")
        text.append(s.title, style="bold")
        text.append(f"  {s.difficulty}", style=LEVEL_STYLE.get(s.difficulty, ""))
        text.append("\n" + " ".join(s.narrative.split()) + "\n", style="italic")
        if s.byClient and not t.executed:
            text.append(
                "Your move: execute the bulk (x) and act on it as the report says.\n", style="#ffaf5f"
            )
        text.append("Checklist ", style="bold")
        text.append(f"{t.progress()} — k to answer, b folds this brief", style="dim")
        self.update(text)
