"""How values are shown: status colours, times, rates, counts; and the "frozen" display for snapshots.

A ``Display`` is owned by the app. In frozen mode (snapshot tests, screenshots) every value that depends on
the wall clock or on timing (times of day, durations, throughput, request counts, ports) is rendered as a
fixed placeholder, so the same flow always draws the same screen.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

from rich.text import Text

#: Status → Rich style. Unknown values (a newer server) fall back to italic.
STATUS_STYLES: dict[str, str] = {
    "SUBMITTED": "bold #5fafff",
    "RUNNING": "bold #ffd75f",
    "PAUSED": "bold #d787ff",
    "COMPLETED": "bold #5fd787",
    "PARTIALLY_COMPLETED": "bold #ffaf5f",
    "FAILED": "bold #ff5f5f",
    "CANCELLED": "bold #a8a8a8",
}
#: The order counts are shown in.
COUNT_ORDER = ("SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")
BULK_STATUSES = (
    "SUBMITTED",
    "RUNNING",
    "PAUSED",
    "COMPLETED",
    "PARTIALLY_COMPLETED",
    "FAILED",
    "CANCELLED",
)
DASH = "—"
FROZEN_TIME = "12:00:00"


def status_text(status: str | None) -> Text:
    if not status:
        return Text(DASH, style="dim")
    return Text(status, style=STATUS_STYLES.get(status, "italic"))


def counts_text(counts: Mapping[str, int], *, zeros: bool = False) -> Text:
    """``COMPLETED 97  FAILED 3`` with each count in its status colour."""
    out = Text()
    for status in COUNT_ORDER:
        value = counts.get(status, 0)
        if not value and not zeros:
            continue
        if out:
            out.append("  ")
        out.append(f"{status.lower()} ", style="dim")
        out.append(str(value), style=STATUS_STYLES.get(status, ""))
    extra = [k for k in counts if k not in COUNT_ORDER and counts[k]]
    for status in extra:  # an operation status we do not know yet: still shown, never dropped
        out.append(f"  {status.lower()} {counts[status]}", style="italic")
    return out if out else Text("no operations", style="dim")


def short_operation(operation: str | None) -> str:
    """``POST /managed_cards/{id}/block`` → ``POST cards/{id}/block`` (the table column is narrow)."""
    if not operation:
        return DASH
    return operation.replace("/managed_cards", "/cards").replace("/outgoing_wire_transfers", "/owt")


class Display:
    def __init__(self, *, frozen: bool = False) -> None:
        self.frozen = frozen

    def time(self, ms: int | None) -> str:
        """Wall-clock time of day (the date too when it is not today)."""
        if ms is None:
            return DASH
        if self.frozen:
            return FROZEN_TIME
        when = datetime.fromtimestamp(ms / 1000)
        if when.date() == datetime.now().date():
            return when.strftime("%H:%M:%S")
        return when.strftime("%d %b %H:%M")

    def time_ms(self, ms: int | None) -> str:
        """Time of day with milliseconds (webhooks, API calls)."""
        if ms is None:
            return DASH
        if self.frozen:
            return FROZEN_TIME + ".000"
        return datetime.fromtimestamp(ms / 1000).strftime("%H:%M:%S.%f")[:-3]

    def duration(self, start_ms: int | None, end_ms: int | None) -> str:
        if start_ms is None:
            return DASH
        if self.frozen:
            return "1.0 s"
        end = end_ms if end_ms is not None else int(time.time() * 1000)
        return seconds(max(0, end - start_ms) / 1000)

    def rate(self, per_s: float) -> str:
        if self.frozen:
            return DASH
        return f"{per_s:,.1f} ops/s" if per_s else "0 ops/s"

    def eta(self, eta_s: float | None) -> str:
        if eta_s is None or self.frozen:
            return DASH
        return seconds(eta_s)

    def used(self, used: int) -> str:
        return "·" if self.frozen else str(used)

    def url(self, url: str) -> str:
        return "loopback" if self.frozen else url


def seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def presenter_badge(state: dict[str, object]) -> str:
    """``⏸ world paused · 0.25×`` for the status bar."""
    badge = "⏸ world paused" if state.get("paused") else "▶"
    return f"{badge} {float(state.get('speed', 1.0)):g}×"  # type: ignore[arg-type]


def presenter_summary(state: dict[str, object]) -> str:
    """``World paused · speed 0.5× · fault pending`` for toasts and the status bar."""
    parts = ["World paused" if state.get("paused") else "World running"]
    parts.append(f"speed {float(state.get('speed', 1.0)):g}×")  # type: ignore[arg-type]
    if state.get("faultPending"):
        parts.append("fault pending")
    return " · ".join(parts)


#: A training scenario's level, coloured like a traffic light.
LEVEL_STYLE = {"beginner": "#5fd787", "intermediate": "#ffd75f", "advanced": "#ff875f"}
