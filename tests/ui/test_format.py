"""The formatters are total over their input's type: what a server may send (any int64 timestamp, negative
counts, huge strings, unknown statuses) is shown marked or cut, never raised (issue 13)."""

from __future__ import annotations

import math

import pytest

from bulkdash.epoch import MAX_MS, to_datetime
from bulkdash.ui.format import (
    DASH,
    ELLIPSIS,
    MAX_TEXT,
    OUT_OF_RANGE,
    WARN,
    Display,
    clip,
    count,
    counts_text,
    percent,
    presenter_badge,
    presenter_summary,
    seconds,
    short_operation,
    status_text,
)

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
OUT_OF_RANGE_MS = [7_594_969_979_287_409, 9_007_199_254_740_991, INT64_MAX, MAX_MS + 1, -1, INT64_MIN]


@pytest.mark.parametrize("ms", OUT_OF_RANGE_MS)
@pytest.mark.parametrize("frozen", [False, True])
def test_a_timestamp_outside_1970_to_9999_is_marked_not_raised(ms: int, frozen: bool) -> None:
    display = Display(frozen=frozen)
    assert display.time(ms) == OUT_OF_RANGE
    assert display.time_ms(ms) == OUT_OF_RANGE
    assert display.duration(ms, None) == OUT_OF_RANGE
    assert display.duration(0, ms) == OUT_OF_RANGE


def test_timestamps_in_range_still_show_as_before() -> None:
    display = Display()
    assert display.time(None) == DASH and display.duration(None, 5) == DASH
    assert display.time(0) != OUT_OF_RANGE and display.time(MAX_MS - 86_400_000) != OUT_OF_RANGE
    assert display.duration(1_000, 13_500) == "12.5 s"
    assert display.duration(13_500, 1_000) == f"{WARN} finished before it started"
    assert Display(frozen=True).time(1_767_225_600_000) == "12:00:00"
    assert to_datetime(MAX_MS) is not None and to_datetime(MAX_MS + 1) is None


def test_a_far_year_shows_its_year() -> None:
    assert Display().time(200_000_000_000_000).endswith("8307")  # 8 Oct 8307


@pytest.mark.parametrize("value", [-1, -(2**63), -1_000_000])
def test_negative_counts_are_shown_marked(value: int) -> None:
    assert count(value) == f"{WARN} {value:,}"
    assert f"{WARN} {value}" in counts_text({"COMPLETED": value}).plain


def test_counts_show_as_before() -> None:
    assert count(None) == DASH and count(1234) == "1,234" and count(INT64_MAX) == f"{INT64_MAX:,}"
    assert counts_text({"COMPLETED": 97, "FAILED": 3}).plain == "completed 97  failed 3"
    assert counts_text({}).plain == "no operations"
    assert counts_text({"FAILED": None}, zeros=True).plain.endswith(f"failed {DASH}  cancelled 0")


def test_huge_strings_are_cut_with_an_ellipsis() -> None:
    huge = "x" * 10_000
    assert clip(huge) == "x" * (MAX_TEXT - 1) + ELLIPSIS and len(clip(huge)) == MAX_TEXT
    assert clip("short") == "short"
    assert len(short_operation("POST /" + huge)) == MAX_TEXT
    assert len(status_text(huge).plain) < 60 and status_text(huge).plain.endswith(ELLIPSIS)
    assert len(counts_text({huge: 1}).plain) < 60
    assert len(Display().url("http://" + huge)) == MAX_TEXT


def test_unknown_statuses_are_shown_as_they_came_and_marked() -> None:
    unknown = status_text("ARCHIVED")
    assert unknown.plain == f"{WARN} ARCHIVED" and unknown.style == "italic"
    assert status_text("COMPLETED").plain == "COMPLETED"
    assert status_text(None).plain == DASH and status_text("").plain == DASH
    assert "retrying 2" in counts_text({"RETRYING": 2}).plain and WARN in counts_text({"RETRYING": 2}).plain


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_are_marked(value: float) -> None:
    assert seconds(value) == OUT_OF_RANGE
    assert percent(value) == OUT_OF_RANGE
    assert Display().rate(value) == OUT_OF_RANGE


def test_out_of_range_shares_and_negative_durations_are_marked() -> None:
    assert percent(0.42) == "42%" and percent(1.0) == "100%"
    assert percent(5.0) == f"{WARN} 500%" and percent(-0.3) == f"{WARN} -30%"
    assert seconds(-90) == f"{WARN} -1 min 30 s"
    assert seconds(1e18).endswith("min")  # huge but finite: still a duration


def test_a_presenter_state_with_an_odd_speed_is_shown_not_raised() -> None:
    assert presenter_badge({"paused": True, "speed": 0.25}) == "⏸ world paused 0.25×"
    assert presenter_badge({"paused": True, "speed": 1.0}, short=True) == "⏸ paused"  # a narrow status bar
    assert presenter_badge({"paused": True, "speed": 0.25}, short=True) == "⏸ paused 0.25×"
    assert presenter_badge({"speed": "fast"}) == f"▶ {WARN} fast×"
    assert "speed" in presenter_summary({"speed": None})
