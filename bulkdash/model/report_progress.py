"""How far a report is, in words and as a share: what the dashboard's report panel and the progress line of
``bulkdash report`` both show, written once (plain Python, no Textual).

A report paces itself within the request budget (``bulkdash.report``): a 10,000-operation bulk takes 101
requests and so more than a minute of Weavr's quota, most of it spent waiting. The wait is said, so a report
that waits never looks stuck.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """What ``bulkdash.report.ReportProgress`` carries (not imported: reports load only when asked for)."""

    @property
    def pages_done(self) -> int: ...
    @property
    def pages_total(self) -> int | None: ...
    @property
    def waited_s(self) -> float: ...
    @property
    def waiting(self) -> bool: ...
    @property
    def wait_s(self) -> float: ...


def share(progress: Progress) -> float | None:
    """Pages done out of pages expected (0..1), None while the total is unknown."""
    total = progress.pages_total
    if not total:
        return None
    return min(1.0, max(0.0, progress.pages_done / total))


def waited(seconds: float) -> str:
    """``45 s``, ``2 min 05 s``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    return f"{minutes} min {secs:02d} s"


def progress_text(progress: Progress) -> str:
    """``12/100 pages · waiting for the request budget · 51 s``, then ``13/100 pages · waited 51 s``: the
    wait starting now, and the time already waited."""
    total = progress.pages_total
    parts = [f"{progress.pages_done:,}/{total:,} pages" if total else f"{progress.pages_done:,} pages"]
    if progress.waiting:
        parts.append(f"waiting for the request budget · {waited(progress.wait_s)}")
    if progress.waited_s > 0:
        parts.append(f"waited {waited(progress.waited_s)}")
    return " · ".join(parts)
