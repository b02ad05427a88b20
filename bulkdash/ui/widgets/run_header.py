"""The header of a bulk run: status (colour-coded), mode, operation, counts, progress, throughput and ETA,
a throughput sparkline, start and finish times. Pure rendering of a ``RunModel``: no I/O.

Every value may be missing or odd (Weavr's schemas require none): ids and texts are cut, counts that do not
add up are marked and never push the progress bar past either end."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static

from bulkdash.model.run import RateFigure, RunModel
from bulkdash.ui.format import (
    DASH,
    MAX_STATUS,
    Display,
    clip,
    count,
    counts_text,
    percent,
    status_text,
)
from bulkdash.ui.guard import Guarded

BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 60


def sparkline(rates: list[float], width: int = SPARK_WIDTH) -> Text:
    """Throughput samples (ops/s, newest last) as block characters scaled to the peak; flat when idle."""
    values = rates[-width:]
    peak = max(values, default=0.0)
    out = Text()
    if peak <= 0:
        out.append(BLOCKS[0] * max(1, len(values) or width), style="dim")
        return out
    for value in values:
        level = round(value / peak * (len(BLOCKS) - 1))
        out.append(BLOCKS[level], style="#5fafff")
    out.append(f"  peak {peak:,.0f} ops/s", style="dim")
    return out


def rate_text(figure: RateFigure, display: Display) -> str:
    """``20.3 ops/s`` while running, ``mean 20.3 ops/s`` once ended, ``— ops/s`` until it is known (the
    model decides which: ``RunModel.rate``)."""
    if display.frozen:
        shown = DASH  # snapshots: whatever the timing of the polls made of the rate
    elif figure.per_s is None:
        shown = f"{DASH} ops/s"
    else:
        shown = display.rate(figure.per_s)
    return f"mean {shown}" if figure.kind == "mean" else shown


#: The longest bulk id shown whole in the title.
MAX_ID = 40


def bar_position(done: int, total: int) -> tuple[int, int]:
    """(total, progress) for the progress bar: at least 1, and progress within 0..total whatever the counts
    say (the percentage beside it shows them as they are, marked)."""
    total = max(1, total)
    return total, min(max(0, done), total)


class RunHeader(Guarded, Vertical):
    DEFAULT_CLASSES = "run-header"

    def compose(self) -> ComposeResult:
        yield Static(id="run-title", markup=False)
        yield Static(id="run-counts", markup=False)
        with Horizontal(id="run-progress-row"):
            yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="run-progress")
            yield Static(id="run-rates", markup=False)
        with Horizontal(id="run-spark-row"):
            yield Static("throughput", id="run-spark-label", markup=False)
            yield Static(sparkline([]), id="run-spark", markup=False)
        yield Static(id="run-times", markup=False)

    def _line(self, selector: str, content: Text | str) -> None:
        """Replace one line's text. Every line has a fixed size (``run.tcss``: one row, the header's width),
        so new text moves nothing: a repaint of that line, not a layout of the whole screen, which is what
        ``Static.update`` asks by default — ~20 ms at 120×36 on every poll of a running bulk, the longest
        stalls of the keys while it ran (issue 16, ``benchmarks/dash_live``)."""
        self.query_one(selector, Static).update(content, layout=False)

    def show(self, model: RunModel, display: Display) -> None:
        details = model.details
        title = Text()
        title.append(f"Bulk {clip(model.bulk_id, MAX_ID)}  ", style="bold")
        if details is None:
            title.append("loading…", style="dim")
            self._line("#run-title", title)
            return
        title.append_text(status_text(model.status))
        if details.mode:
            mode = clip(str(details.mode), MAX_STATUS)
        elif model.status in (None, "SUBMITTED"):
            mode = "not executed"
        else:
            # Executed, and its mode not seen yet: the state came by webhook while polls waited (a 429), and
            # "COMPLETED not executed" contradicted itself for ~20 s (a user's trial).
            mode = "mode not seen yet"
        title.append(f"  {mode}", style="italic" if details.mode else "dim")
        title.append(f"  {clip(details.operation) if details.operation else DASH}")
        title.append(f"  {count(details.submittedItemsCount)} operations", style="dim")
        self._line("#run-title", title)
        self._line("#run-counts", counts_text(model.counts, zeros=True))

        bar = self.query_one("#run-progress", ProgressBar)
        done = model.attempted + model.counts.get("CANCELLED", 0)
        total, progress = bar_position(done, model.n)
        bar.update(total=total, progress=progress)
        rates = Text()
        rates.append(f"{percent(model.progress()):>4}", style="bold")
        rates.append(f"  {count(done)}/{count(details.submittedItemsCount)}", style="dim")
        rates.append(f"  {rate_text(model.rate(), display)}")
        if not model.is_final:  # an ended bulk has no ETA worth a column
            rates.append(f"  ETA {display.eta(model.eta_s())}", style="dim")
        self._line("#run-rates", rates)

        data = [] if display.frozen else list(model.rates)
        self._line("#run-spark", sparkline(data))

        times = Text()
        times.append("started ", style="dim")
        times.append(display.time(details.executionStart))
        times.append("   finished ", style="dim")
        times.append(display.time(details.executionFinish))
        if details.executionStart is not None:
            times.append("   elapsed ", style="dim")
            times.append(display.duration(details.executionStart, details.executionFinish))
        self._line("#run-times", times)
