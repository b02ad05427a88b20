"""How values are shown: status colours, times, rates, counts; and the "frozen" display for snapshots.

A ``Display`` is owned by the app. In frozen mode (snapshot tests, screenshots) every value that depends on
the wall clock or on timing (times of day, durations, throughput, request counts, ports) is rendered as a
fixed placeholder, so the same flow always draws the same screen.

Every formatter is total over its input's type: whatever a server sends that its schema allows (an int64
timestamp past year 9999, a negative count, a 10,000-character string, a status no release knew) is shown
with a visible ``⚠`` marker or cut with an ellipsis, never raised as an exception.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import datetime

from rich.text import Text

from bulkdash.epoch import in_range, to_datetime

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
#: An unknown status is a short word in a narrow column: cut it sooner than free text.
MAX_STATUS = 40
DASH = "—"
FROZEN_TIME = "12:00:00"
#: Prefix of every value shown although it is outside what it should be (a marker, not an error).
WARN = "⚠"
#: A timestamp before 1970 or after year 9999: shown instead of a date.
OUT_OF_RANGE = f"{WARN} out of range"
#: The longest server string shown whole in a cell or a line; longer ones end with an ellipsis.
MAX_TEXT = 200
ELLIPSIS = "…"


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + ELLIPSIS


def marked(value: str) -> str:
    """A value shown as it came but flagged as unexpected (unknown status, negative count)."""
    return f"{WARN} {value}"


def count(value: int | None) -> str:
    """``1,234``; a negative count (the schema's ``integer`` allows it) is shown marked."""
    if value is None:
        return DASH
    return f"{value:,}" if value >= 0 else marked(f"{value:,}")


def status_text(status: str | None) -> Text:
    """A status in its colour; one no release knew is kept, cut if huge, italic and marked."""
    if not status:
        return Text(DASH, style="dim")
    if status in STATUS_STYLES:
        return Text(status, style=STATUS_STYLES[status])
    return Text(marked(clip(status, MAX_STATUS)), style="italic")


def counts_text(counts: Mapping[str, int | None], *, zeros: bool = False) -> Text:
    """``COMPLETED 97  FAILED 3`` with each count in its status colour."""
    out = Text()
    for status in COUNT_ORDER:
        value = counts.get(status, 0)
        if not value and not zeros:
            continue
        if out:
            out.append("  ")
        out.append(f"{status.lower()} ", style="dim")
        out.append(_plain_count(value), style=STATUS_STYLES.get(status, ""))
    extra = [k for k in counts if k not in COUNT_ORDER and counts[k]]
    for status in extra:  # an operation status we do not know yet: still shown, never dropped
        name = marked(clip(status, MAX_STATUS).lower())
        out.append(f"  {name} {_plain_count(counts[status])}", style="italic")
    return out if out else Text("no operations", style="dim")


def _plain_count(value: int | None) -> str:
    """A count as the run header always showed it (no thousands separator), negative ones marked."""
    if value is None:  # a webhook's count entry without a count, passed on as it came
        return DASH
    return str(value) if value >= 0 else marked(str(value))


def short_operation(operation: str | None) -> str:
    """``POST /managed_cards/{id}/block`` → ``POST cards/{id}/block`` (the table column is narrow)."""
    if not operation:
        return DASH
    short = operation.replace("/managed_cards", "/cards").replace("/outgoing_wire_transfers", "/owt")
    return clip(short)


class Display:
    def __init__(self, *, frozen: bool = False) -> None:
        self.frozen = frozen

    def time(self, ms: int | None) -> str:
        """Wall-clock time of day (the date too when it is not today); the year too when it is not this
        year, since a server can send any int64."""
        if ms is None:
            return DASH
        if not in_range(ms):
            return OUT_OF_RANGE  # checked before frozen: a snapshot shows the marker too
        if self.frozen:
            return FROZEN_TIME
        when = to_datetime(ms, tz=None)
        if when is None:
            return OUT_OF_RANGE
        today = datetime.now().date()
        if when.date() == today:
            return when.strftime("%H:%M:%S")
        if when.year == today.year:
            return when.strftime("%d %b %H:%M")
        return when.strftime("%d %b %Y")

    def time_ms(self, ms: int | None) -> str:
        """Time of day with milliseconds (webhooks, API calls)."""
        if ms is None:
            return DASH
        if not in_range(ms):
            return OUT_OF_RANGE
        if self.frozen:
            return FROZEN_TIME + ".000"
        when = to_datetime(ms, tz=None)
        return OUT_OF_RANGE if when is None else when.strftime("%H:%M:%S.%f")[:-3]

    def duration(self, start_ms: int | None, end_ms: int | None) -> str:
        """From start to end (to now while running); marked when either end is no date or ends first."""
        if start_ms is None:
            return DASH
        if not in_range(start_ms) or (end_ms is not None and not in_range(end_ms)):
            return OUT_OF_RANGE
        if self.frozen:
            return "1.0 s"
        end = end_ms if end_ms is not None else int(time.time() * 1000)
        if end_ms is not None and end_ms < start_ms:
            return marked("finished before it started")
        return seconds(max(0, end - start_ms) / 1000)

    def rate(self, per_s: float) -> str:
        if self.frozen:
            return DASH
        if not math.isfinite(per_s):
            return OUT_OF_RANGE
        return f"{per_s:,.1f} ops/s" if per_s else "0 ops/s"

    def eta(self, eta_s: float | None) -> str:
        if eta_s is None or self.frozen:
            return DASH
        return seconds(eta_s)

    def countdown(self, seconds: float) -> str:
        """``12 s`` left (rounded up: "0 s" only once it is time); a placeholder when frozen."""
        if self.frozen:
            return "· s"
        return f"{max(0, math.ceil(seconds))} s" if math.isfinite(seconds) else OUT_OF_RANGE

    def used(self, used: int) -> str:
        return "·" if self.frozen else str(used)

    def url(self, url: str) -> str:
        return "loopback" if self.frozen else clip(url)


def seconds(value: float) -> str:
    """``12.5 s``, ``3 min 07 s``, ``2 h 05 min``; negative or non-finite values (counts that do not add
    up give a negative ETA) are marked."""
    if not math.isfinite(value):
        return OUT_OF_RANGE
    if value < 0:
        return marked(f"-{seconds(-value)}")
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def percent(share: float) -> str:
    """``42%``; a share outside 0..1 (counts that do not add up) is shown as it is, marked."""
    if not math.isfinite(share):
        return OUT_OF_RANGE
    text = f"{share * 100:.0f}%"
    return text if 0 <= share <= 1 else marked(text)


def _speed(state: dict[str, object]) -> str:
    """The presenter's playback speed as ``0.25``; whatever else the control API sent, as it came."""
    value = state.get("speed", 1.0)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return f"{float(value):g}"
    return marked(clip(str(value), MAX_STATUS))


def presenter_badge(state: dict[str, object], *, short: bool = False) -> str:
    """``⏸ world paused 0.25×`` for the status bar; ``short``: ``⏸ paused`` (a narrow one), the speed only
    when it is not 1×."""
    if not short:
        badge = "⏸ world paused" if state.get("paused") else "▶"
        return f"{badge} {_speed(state)}×"
    speed = _speed(state)
    if state.get("paused"):
        return "⏸ paused" if speed == "1" else f"⏸ paused {speed}×"
    return f"▶ {speed}×"


def presenter_summary(state: dict[str, object]) -> str:
    """``World paused · speed 0.5× · fault pending`` for toasts and the status bar."""
    parts = ["World paused" if state.get("paused") else "World running"]
    parts.append(f"speed {_speed(state)}×")
    if state.get("faultPending"):
        parts.append("fault pending")
    return " · ".join(parts)


#: A training scenario's level, coloured like a traffic light.
LEVEL_STYLE = {"beginner": "#5fd787", "intermediate": "#ffd75f", "advanced": "#ff875f"}
