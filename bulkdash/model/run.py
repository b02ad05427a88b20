"""The view model of one bulk run: what is known, what changed since the last poll, what to fetch next.

Plain Python (no I/O, no Textual), so it is unit-tested without a terminal. It holds the bulk's details,
the rows of the one page of operations on screen (the API serves at most 100 per page, and so does the
table), throughput samples, and the bookkeeping that makes polling cheap: operations finish in sequence
order, so a page whose sequences were all attempted when it was fetched never changes again, and a page is
fetched again only when the frontier of attempted operations (or the bulk's status) moved through it.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bulkdash.contract.models import FINAL_BULK_STATUSES, BulkProcessDetails, BulkProcessOperation
from bulkdash.model.pace import Pace, mean_from_timestamps

PAGE_SIZE = 100
#: The longest wait between two polls of a running bulk on screen: the counts shown are never older than
#: this plus one request.
MAX_RUNNING_DELAY_S = 4.5
ACTIVE = ("RUNNING",)
#: What the pace is told of a RUNNING bulk while the simulator's world is paused: not running.
WORLD_PAUSED = "WORLD_PAUSED"
#: The shortest time between two observations that makes a throughput sample. A webhook that lands a few
#: microseconds after a poll, 2,500 operations further on, made a sample of 115 million ops/s (a trainee's
#: report: "peak 115,622,979 ops/s"); such an observation joins the next sample instead.
MIN_SAMPLE_GAP_S = 0.2


#: Rows whose sequence repeats one already on the page get ``row_id`` ``DUPLICATE_ROW + position``: past any
#: int32 sequence, so a server that repeats (or leaves out) sequences never makes two rows share a key.
DUPLICATE_ROW = 2**40


@dataclass(slots=True)
class OpRow:
    """One operation as the table shows it. ``row_id`` keys it on the page (the table's row key): its
    sequence, unless another row of the page already has that sequence."""

    sequence: int
    operation_id: str
    method: str
    path: str
    status: str
    key: str  # the response's key fact: errorCode, a new id, or "" (204)
    request_payload: str | None
    response_payload: str | None
    row_id: int = 0

    def cells(self) -> tuple[str, str, str, str, str]:
        return (str(self.sequence), self.method, self.path, self.status, self.key)


def response_key(payload: str | None) -> str:
    """The one fact worth a column: the errorCode of a failure, the id of what was created, or the status."""
    if not payload:
        return ""
    try:
        body = json.loads(payload)
    except ValueError:
        return payload[:40]
    if not isinstance(body, dict):
        return ""
    for name in ("errorCode", "code"):
        if body.get(name):
            return str(body[name])
    errors = body.get("syntaxErrors")
    if errors:
        # Any JSON may come back as a payload: only a well-formed first entry is read.
        fields = (errors.get("invalidFields") if isinstance(errors, dict) else None) or [{}]
        first = fields[0] if isinstance(fields, list) and isinstance(fields[0], dict) else {}
        return f"{first.get('error', 'INVALID')} {first.get('fieldName', '')}".strip()
    if body.get("id"):
        state = body.get("state")
        return f"{body['id']} {state}" if state else str(body["id"])
    return ""


def row_from(op: BulkProcessOperation, position: int = 0) -> OpRow:
    """The row of ``op``; Weavr's schema makes every field optional, so a missing sequence becomes the
    operation's ``position`` in the listing (1-based) and missing texts become ``""``."""
    sequence = op.sequence if op.sequence is not None else position
    return OpRow(
        sequence,
        op.operationId or "",
        op.method or "",
        op.path or "",
        "" if op.status is None else str(op.status),
        response_key(op.responsePayload),
        op.requestPayload,
        op.responsePayload,
        row_id=sequence,
    )


def _status(details: BulkProcessDetails) -> str | None:
    """The bulk's status as a string, None when the server left it out (``str(None)`` is no status)."""
    return None if details.status is None else str(details.status)


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int
    status: str | None


@dataclass(slots=True)
class DetailsChange:
    status_changed: bool = False
    counts_changed: bool = False
    became_final: bool = False
    previous_status: str | None = None


@dataclass(slots=True)
class _PageState:
    attempted_at_fetch: int = -1  # -1: never fetched
    status_at_fetch: str | None = None
    count_at_fetch: int = -1  # the filtered status's count at fetch time


@dataclass(frozen=True, slots=True)
class RateFigure:
    """The rate to show: ``per_s`` (None: not known yet) and what it is — ``"recent"`` (a running bulk's
    rate over its last seconds of running), ``"mean"`` (a finished bulk's, over its running time) or ``""``
    (neither: not started, paused)."""

    per_s: float | None
    kind: str = ""


@dataclass(slots=True)
class RunModel:
    bulk_id: str
    clock: Callable[[], float] = time.monotonic
    details: BulkProcessDetails | None = None
    counts: dict[str, int] = field(default_factory=dict)
    page_offset: int = 0
    status_filter: str | None = None
    search: str = ""
    rows: dict[int, OpRow] = field(default_factory=dict)  # row_id -> row of the page on screen
    row_order: list[int] = field(default_factory=list)
    filtered_total: int = 0
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=240))
    rates: deque[float] = field(default_factory=lambda: deque(maxlen=60))
    updated_at: float | None = None  # when counts were last known fresh (poll or webhook)
    running_since: float | None = None  # when the bulk was first seen RUNNING
    pace: Pace = field(default_factory=Pace)  # the honest rate and ETA (bulkdash.model.pace)
    #: The simulator's whole world is paused (presenter controls): a RUNNING bulk then runs nothing, so its
    #: time is no running time and it has no rate or ETA to show (``set_world_paused``).
    world_paused: bool = False
    _page: _PageState = field(default_factory=_PageState)

    # --- derived facts ------------------------------------------------------------------------------
    @property
    def status(self) -> str | None:
        return None if self.details is None else _status(self.details)

    @property
    def n(self) -> int:
        return 0 if self.details is None else self.details.submittedItemsCount or 0

    @property
    def attempted(self) -> int:
        return self.counts.get("COMPLETED", 0) + self.counts.get("FAILED", 0)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_BULK_STATUSES

    def progress(self) -> float:
        """Share of operations that reached an end (attempted or cancelled), 0..1."""
        if not self.n:
            return 0.0
        return (self.attempted + self.counts.get("CANCELLED", 0)) / self.n

    def throughput(self, window_s: float = 5.0) -> float:
        """Operations per second over the last ``window_s`` seconds of samples, wall time, pauses and all: a
        quick guess for the poll pace and logs. What the user reads is ``rate()`` and ``eta_s()``."""
        if len(self.samples) < 2:
            return 0.0
        t1, a1 = self.samples[-1]
        t0, a0 = self.samples[0]
        for t, a in reversed(self.samples):
            if t1 - t >= window_s:
                t0, a0 = t, a
                break
        return (a1 - a0) / (t1 - t0) if t1 > t0 else 0.0

    def remaining(self) -> int:
        return self.n - self.attempted - self.counts.get("CANCELLED", 0)

    def eta_s(self) -> float | None:
        """Seconds until a running bulk ends at its recent running rate; None until that rate is known
        (``bulkdash.model.pace``: enough observations, pauses and the start left out) and when not running
        (the world paused included)."""
        if self.status != "RUNNING" or self.world_paused:
            return None
        rate = self.pace.recent_rate()
        return self.remaining() / rate if rate else None

    def mean_rate(self) -> float | None:
        """Operations per second over the run's running time: from its first to its last observed progress
        when this screen saw enough of it run, else from ``executionStart`` to ``executionFinish`` (which
        include pauses), else from whatever little was observed."""
        observed = self.pace.observed_mean()
        if observed is not None:
            return observed
        details = self.details
        if details is not None:
            stamped = mean_from_timestamps(self.attempted, details.executionStart, details.executionFinish)
            if stamped is not None:
                return stamped
        return self.pace.observed_mean(enough=False)

    def rate(self) -> RateFigure:
        """The rate the header shows: recent while running, the mean once final, none otherwise."""
        if self.status == "RUNNING":
            return RateFigure(None if self.world_paused else self.pace.recent_rate(), "recent")
        if self.is_final:
            return RateFigure(self.mean_rate(), "mean")
        return RateFigure(None)

    def set_world_paused(self, paused: bool) -> None:
        """The simulator's world was paused or let go (presenter controls). For the pace it is as if the bulk
        itself paused there: the stretch around it is left out, so a minute spent paused does not read as
        "1.0 ops/s, ETA 2 min" (a trainee's report) nor drag the rate down after it."""
        if paused != self.world_paused:
            self.world_paused = paused
            if self.details is not None:
                self.pace.observe(self.clock(), self.attempted, self._pace_status())

    def _pace_status(self) -> str | None:
        return WORLD_PAUSED if self.world_paused and self.status == "RUNNING" else self.status

    def staleness_s(self) -> float | None:
        return None if self.updated_at is None else self.clock() - self.updated_at

    # --- applying what the server said --------------------------------------------------------------
    def apply_details(self, details: BulkProcessDetails) -> DetailsChange:
        previous = self.status
        counts = details.counts()
        status = _status(details)
        change = DetailsChange(previous_status=previous)
        change.status_changed = previous != status
        change.counts_changed = counts != self.counts
        change.became_final = change.status_changed and status in FINAL_BULK_STATUSES
        self.details = details
        self._take_counts(counts)
        return change

    def apply_progress_event(self, status: str, counts: dict[str, int]) -> DetailsChange | None:
        """A received bulk webhook stands in for a poll when it is newer than what we know (counts only
        grow, so the attempted count orders events even when they arrive out of order)."""
        if self.details is None:
            return None
        attempted = counts.get("COMPLETED", 0) + counts.get("FAILED", 0)
        if attempted < self.attempted:
            return None
        # At the same count only an end event is news: a progress event published as operation N finished
        # can arrive after a poll already saw the bulk PAUSED at N, and must not turn it back to RUNNING.
        if attempted == self.attempted and (status == self.status or status not in FINAL_BULK_STATUSES):
            return None
        previous = self.status
        self.details = self.details.model_copy(update={"status": status})
        change = DetailsChange(
            previous_status=previous, status_changed=previous != status, counts_changed=counts != self.counts
        )
        change.became_final = change.status_changed and status in FINAL_BULK_STATUSES
        self._take_counts(dict(counts))
        return change

    def _take_counts(self, counts: dict[str, int]) -> None:
        now = self.clock()
        # Too soon after the last sample to measure a rate: no sample, so the next one spans both.
        sample = not self.samples or now - self.samples[-1][0] >= MIN_SAMPLE_GAP_S
        if sample and self.samples and self.attempted != counts.get("COMPLETED", 0) + counts.get("FAILED", 0):
            prev_t, prev_a = self.samples[-1]
            a = counts.get("COMPLETED", 0) + counts.get("FAILED", 0)
            self.rates.append((a - prev_a) / (now - prev_t))
        elif sample and self.samples and self.status == "RUNNING":
            self.rates.append(0.0)
        self.counts = counts
        if self.running_since is None and self.status == "RUNNING":
            self.running_since = now
        if sample:
            self.samples.append((now, self.attempted))
        self.pace.observe(now, self.attempted, self._pace_status())
        self.updated_at = now

    # --- the page on screen -------------------------------------------------------------------------
    def set_page(self, offset: int) -> bool:
        """Move the window; returns True when it moved (the caller fetches and rebuilds the table)."""
        total = self.filtered_total if self.status_filter else self.n
        offset = max(0, min(offset, max(0, (math.ceil(total / PAGE_SIZE) - 1) * PAGE_SIZE)))
        if offset == self.page_offset:
            return False
        self.page_offset = offset
        self._reset_page()
        return True

    def set_filter(self, status: str | None) -> None:
        self.status_filter = status
        self.page_offset = 0
        self._reset_page()

    def _reset_page(self) -> None:
        self.rows.clear()
        self.row_order.clear()
        self._page = _PageState()

    def page_is_empty(self) -> bool:
        return self._page.attempted_at_fetch < 0

    def current_request(self) -> PageRequest:
        return PageRequest(self.page_offset, PAGE_SIZE, self.status_filter)

    def pages_to_fetch(self) -> list[PageRequest]:
        """The page on screen, only if it can have changed since it was fetched."""
        if self.details is None:
            return []
        page = self._page
        if page.attempted_at_fetch < 0:
            return [self.current_request()]
        if page.status_at_fetch in FINAL_BULK_STATUSES:
            return []  # fetched after the end: nothing on it moves any more
        status_moved = page.status_at_fetch != self.status
        if self.status_filter is None:
            first, last = self.page_offset + 1, self.page_offset + PAGE_SIZE
            frontier_moved = self.attempted != page.attempted_at_fetch
            # Settled: every sequence on the page was already attempted when it was fetched.
            if last <= page.attempted_at_fetch:
                return []
            # Sequences (attempted_at_fetch, attempted + 1] changed: the +1 is the one now RUNNING.
            touches = first <= self.attempted + 1 and last > page.attempted_at_fetch
            if (frontier_moved and touches) or (status_moved and self.is_final):
                return [self.current_request()]
            return []
        count_now = self.counts.get(self.status_filter, 0)
        if self.status_filter in ("SUBMITTED", "RUNNING"):
            moved = self.attempted != page.attempted_at_fetch
        else:
            moved = count_now != page.count_at_fetch and page.count_at_fetch < self.page_offset + PAGE_SIZE
        return [self.current_request()] if moved or (status_moved and self.is_final) else []

    def apply_page(self, request: PageRequest, ops: list[BulkProcessOperation], total: int) -> list[int]:
        """Take a fetched page; returns the row ids whose cells changed (new rows included)."""
        if request != self.current_request():
            return []  # the user moved on while it was in flight
        changed: list[int] = []
        order: list[int] = []
        for index, op in enumerate(ops):
            position = request.offset + index + 1
            row = row_from(op, position)
            if row.row_id in order:  # a repeated sequence: still its own row, under a key of its own
                row.row_id = DUPLICATE_ROW + position
            order.append(row.row_id)
            old = self.rows.get(row.row_id)
            if old is None or old.cells() != row.cells() or old.response_payload != row.response_payload:
                self.rows[row.row_id] = row
                changed.append(row.row_id)
        for gone in set(self.rows) - set(order):
            del self.rows[gone]
        self.row_order = order
        self.filtered_total = total
        self._page = _PageState(
            self.attempted, self.status, self.counts.get(self.status_filter, 0) if self.status_filter else -1
        )
        return changed

    def visible_rows(self) -> list[OpRow]:
        rows = [self.rows[s] for s in self.row_order if s in self.rows]
        if self.search:
            needle = self.search.lower()
            rows = [
                r
                for r in rows
                if needle in " ".join(r.cells()).lower() or needle in (r.response_payload or "").lower()
            ]
        return rows

    def search_summary(self) -> str:
        """What the search found, said whole: ``10 of 100 on this page match “funds”`` (the search reads only
        the page on screen, which is what "on this page" is for)."""
        needle = self.search if len(self.search) <= 30 else self.search[:29] + "…"
        found, among = len(self.visible_rows()), len([s for s in self.row_order if s in self.rows])
        return f"{found:,} of {among:,} on this page match “{needle}”"

    # --- polling policy -----------------------------------------------------------------------------
    def expected_total_s(self) -> float | None:
        """How long the whole run will take, from when it was first seen running and the current rate.

        Before the honest ETA is known, the raw recent throughput stands in: the poll pace needs a guess at
        once (a sub-second run must be polled at 4 Hz from its second poll), not a figure to show."""
        eta = self.eta_s()
        if eta is None and self.status == "RUNNING":
            rough = self.throughput()
            eta = self.remaining() / rough if rough > 0 else None
        if eta is None or self.running_since is None:
            return None
        return (self.clock() - self.running_since) + eta

    def next_poll_delay(self, *, on_screen: bool, headroom: float) -> float | None:
        """Seconds until the next poll, or None to stop (final state).

        The pace follows the run's expected total duration: a run of a few seconds is polled at up to
        4 Hz so its end shows at once, a run of minutes every ``MAX_RUNNING_DELAY_S`` so the counts on
        screen are never more than ~5 s old (the end webhook announces the end anyway). Off screen or idle:
        slow. A shrinking request budget slows everything down.
        """
        if self.is_final:
            return None
        if not on_screen:
            return 15.0
        if self.status != "RUNNING":
            return 10.0
        total = self.expected_total_s()
        delay = 0.5 if total is None else min(MAX_RUNNING_DELAY_S, max(0.25, total / 40))
        if headroom < 0.25:
            delay = max(delay * 3, 6.0)
        elif headroom < 0.5:
            delay *= 2
        return delay

    def describe(self) -> dict[str, Any]:
        """A plain summary for logs, reports and tests."""
        return {
            "bulkId": self.bulk_id,
            "status": self.status,
            "n": self.n,
            "counts": dict(self.counts),
            "progress": round(self.progress(), 4),
            "throughput": round(self.throughput(), 1),
        }
