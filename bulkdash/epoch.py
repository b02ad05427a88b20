"""Epoch-millisecond timestamps (Weavr's ``int64`` fields) as datetimes, total over their type.

Weavr's schemas allow any int64 for ``executionStart``/``executionFinish`` and the webhook timestamps, but
``datetime`` only holds years 1–9999 (and some platforms refuse negative epochs). Every place that turns
such a value into a date goes through :func:`to_datetime`, which answers ``None`` for what it cannot
represent instead of raising, so one odd value from a server never takes a screen or a report down.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

#: The first instant shown as a date: the epoch (earlier values are not timestamps Weavr produces).
MIN_MS = 0
#: The last instant ``datetime`` can hold: 9999-12-31T23:59:59.999 UTC.
MAX_MS = 253_402_300_799_999


def in_range(ms: int) -> bool:
    """True when ``ms`` is a timestamp from 1970 to the end of year 9999 (UTC)."""
    return MIN_MS <= ms <= MAX_MS


def to_datetime(ms: int, tz: tzinfo | None = UTC) -> datetime | None:
    """``ms`` as an aware datetime in ``tz`` (``None``: the local zone), or None when it is out of range.

    A value near either end can still fall outside what ``datetime`` holds once shifted into a local zone
    (9999-12-31 23:00 UTC is already year 10000 at UTC+2): that is out of range too, not an exception.
    """
    if not in_range(ms):
        return None
    try:
        when = datetime.fromtimestamp(ms / 1000, UTC)
        return when.astimezone(tz) if tz is not UTC else when
    except (ValueError, OverflowError, OSError):
        return None
