"""Run reports: the story of one bulk as Markdown plus JSON Lines of its operations and webhooks.

Plain Python (no Textual). ``build_report`` fetches the bulk and its operations (page by page, at most 100
per page as the API allows) with the given client, and joins what the dashboard knows besides: the receiver's
webhook records and the session's delivery timeline. Output is deterministic for the same inputs (sorted
keys, stable order); ``stable=True`` also leaves out the values that change from run to run (times,
durations, request refs), so a report can be compared with a golden file. Secrets never appear: api keys,
tokens, ``authorization`` and ``webhooks-key`` values are replaced (webhook signatures may stay).

Fetching is background work (``Priority.BACKGROUND`` by default): it never takes the request budget's
reserve, and when its share is spent it *waits* for the next window instead of failing, so the report of a
10,000-operation bulk (100 pages) completes within the quota while the dashboard keeps polling.
``progress`` hears how far it is (pages done out of pages expected, seconds spent waiting for the budget).

Cancelling a report (asyncio) leaves no file behind: nothing is written until everything is fetched, and
``Report.write`` replaces each file atomically (temp file + ``os.replace``), so a reader never finds a
half-written one.

Every field a server sends may be missing or extreme (Weavr's schemas require none): such values are shown
as ``—`` or marked, never an exception.

Where reports go unless told (``--out``, the dashboard's ``report_dir``): ``default_report_root``, a
``reports`` folder under the user's documents (or, without one, the per-user data dir), not the current
folder, which is wherever the dashboard happened to be started. ``Report.write`` returns the full path, to be
shown to the user.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from bulkdash.api.budget import Priority
from bulkdash.api.client import SECRET_BODY_KEYS, SECRET_HEADERS, WeavrClient
from bulkdash.contract.models import counts_by_status
from bulkdash.contract.validation import MAX_ITEMS
from bulkdash.epoch import to_datetime
from bulkdash.model.run import response_key
from bulkdash.model.timeline import Timeline, TimelineEntry
from bulkdash.webhooks.records import REDACTED_HEADERS, Authenticity, ReceivedWebhook

PAGE_LIMIT = 100
#: Sequences listed per errorCode in the failures section.
SEQUENCES_PER_CODE = 20
VOLATILE = "—"
_SECRET_HEADERS = {h.lower() for h in SECRET_HEADERS | REDACTED_HEADERS}
_SECRET_KEYS = {k.lower() for k in SECRET_BODY_KEYS} | {"authorization", "webhooks-key", "apikey"}
_DURATION = re.compile(r" \(\d+(\.\d+)? ms\)")
_REF = re.compile(r" ref [0-9a-fA-F-]+")


@dataclass(frozen=True, slots=True)
class Report:
    bulk_id: str
    markdown: str
    operations: list[dict[str, Any]]
    webhooks: list[dict[str, Any]]

    def jsonl(self, rows: Iterable[dict[str, Any]]) -> str:
        return "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)

    def write(self, out: Path | None = None, *, root: Path | None = None) -> Path:
        """Write ``report.md``, ``operations.jsonl`` and ``webhooks.jsonl`` into ``out``, each replaced
        atomically, or by default into a new directory ``new_directory(root, default_dirname(bulkId))``
        (``root``: ``default_report_root()`` unless given); returns the directory as a full path (a relative
        ``out`` is taken from the current folder), to tell the user."""
        if out is None:
            directory = new_directory(root or default_report_root(), default_dirname(self.bulk_id)).absolute()
            made = True
        else:
            directory = out.absolute()
            made = not directory.exists()
            directory.mkdir(parents=True, exist_ok=True)
        try:
            _write_atomically(directory / "report.md", self.markdown)
            _write_atomically(directory / "operations.jsonl", self.jsonl(self.operations))
            _write_atomically(directory / "webhooks.jsonl", self.jsonl(self.webhooks))
        except BaseException:
            if made:  # a directory made for this report is not left behind empty; one the user named stays
                with contextlib.suppress(OSError):
                    directory.rmdir()  # only if nothing is in it
            raise
        return directory


def new_directory(parent: Path, name: str) -> Path:
    """A directory made now for one report: ``parent/name``, else ``name-2``, ``name-3``… A report written
    where nobody said to write it never replaces another: bulk ids repeat (a fresh simulator numbers its bulks
    from 1000001 again; two endpoints may share ids), and a second report of a bulk is a later look at it."""
    parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        candidate = parent / (name if n == 1 else f"{name}-{n}")
        try:
            candidate.mkdir()  # atomic: two reports at once cannot both take the same name
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


def _write_atomically(path: Path, text: str) -> None:
    """The file holds the old text or the new, never a part: written beside it, then renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default_dirname(bulk_id: str) -> str:
    """``bulkdash-report-<bulkId>`` as one file name: a bulk id comes from the server, and one holding ``/``
    or ``..`` must not put a report anywhere but in the reports folder."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"bulkdash-report-{bulk_id}")[:120]
    return safe if safe.strip(".") else "bulkdash-report"


def default_report_root() -> Path:
    """``<documents>/bulkdash/reports`` when the user has a documents folder, else
    ``<user data dir>/bulkdash/reports`` (a server's account often has no ~/Documents, and creating one is
    not ours to do). Created by ``Report.write``, not here."""
    documents = platformdirs.user_documents_path()
    if documents.is_dir():
        return documents / "bulkdash" / "reports"
    return platformdirs.user_data_path("bulkdash", appauthor=False) / "reports"


# --- progress -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReportProgress:
    """How far a report's fetching is. ``pages_total`` is None while it cannot be known (a server that
    sends no counts); ``waited_s`` is the time already spent waiting for the request budget; ``waiting``
    says a wait of ``wait_s`` seconds is starting now (not yet in ``waited_s``: a user trial read "waited
    51 s" the moment a 51-second wait began)."""

    pages_done: int
    pages_total: int | None
    waited_s: float
    waiting: bool = False
    wait_s: float = 0.0


def _pages_for(items: int | None) -> int | None:
    """Pages a listing of ``items`` operations takes: at least one request, even for none."""
    return None if items is None else max(1, math.ceil(max(0, items) / PAGE_LIMIT))


class _Progress:
    """Counts pages per listing (all operations, or one status) and budget waits; tells ``report``."""

    def __init__(self, report: Callable[[ReportProgress], None] | None) -> None:
        self._report = report
        self._pages: dict[str | None, tuple[int, int | None]] = {}  # listing -> (done, expected)
        self.waited_s = 0.0

    def expect(self, listing: str | None, items: int | None) -> None:
        done, _ = self._pages.get(listing, (0, None))
        self._pages[listing] = (done, _pages_for(items))

    def page(self, listing: str | None, total_items: int | None, last: bool) -> None:
        done, expected = self._pages.get(listing, (0, None))
        done += 1
        if last:
            expected = done
        elif total_items is not None:
            expected = max(done + 1, _pages_for(total_items) or 0)
        else:
            expected = None if expected is None else max(done + 1, expected)
        self._pages[listing] = (done, expected)
        self._emit(waiting=False)

    def wait(self, seconds: float) -> None:
        self._emit(waiting=True, wait_s=seconds)
        self.waited_s += seconds  # spent once the next page comes

    def _emit(self, *, waiting: bool, wait_s: float = 0.0) -> None:
        if self._report is None:
            return
        expected = [e for _, e in self._pages.values()]
        unknown = not expected or any(e is None for e in expected)
        total = None if unknown else sum(e for e in expected if e is not None)
        done = sum(d for d, _ in self._pages.values())
        self._report(ReportProgress(done, total, self.waited_s, waiting, wait_s))


# --- redaction ------------------------------------------------------------------------------------------
def redact(value: Any) -> Any:
    """``value`` with secret keys' values replaced by ``***`` (recursively)."""
    if isinstance(value, dict):
        return {k: "***" if str(k).lower() in _SECRET_KEYS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _redact_payload(payload: str | None) -> Any:
    """A request/response payload as JSON (redacted), or the string when it is not JSON."""
    if payload is None:
        return None
    try:
        return redact(json.loads(payload))
    except ValueError:
        return payload


def _headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in sorted(headers.items())}


# --- building -------------------------------------------------------------------------------------------
def _by_sequence(op: Any) -> tuple[bool, int]:
    """Sequence order; operations without a sequence (the schema allows it) last, in the order served."""
    return (op.sequence is None, op.sequence or 0)


async def fetch_operations(
    client: WeavrClient,
    bulk_id: str,
    status: str | None = None,
    *,
    priority: Priority = Priority.BACKGROUND,
    progress: _Progress | None = None,
) -> list[Any]:
    """Every operation of the bulk (of ``status`` if given), page by page, in sequence order.

    The end is the server's ``count`` when it sends one, else the first short page. A server that ignores
    ``offset`` cannot keep it going: a page with nothing new ends it, and no bulk holds more than
    ``MAX_ITEMS`` operations.
    """
    tracker = progress or _Progress(None)
    out: list[Any] = []
    seen: set[tuple[str | None, int | None]] = set()
    offset = 0
    while True:
        page = await client.list_operations(
            bulk_id, offset=offset, limit=PAGE_LIMIT, status=status, priority=priority, on_wait=tracker.wait
        )
        fresh = [op for op in page.operations if _identity(op) is None or _identity(op) not in seen]
        seen.update(key for op in fresh if (key := _identity(op)) is not None)
        out.extend(fresh)
        offset += len(page.operations)
        total = page.total
        last = (
            not fresh
            or (offset >= total if total is not None else len(page.operations) < PAGE_LIMIT)
            or offset >= MAX_ITEMS
        )
        tracker.page(status, total, last)
        if last:
            break
    return sorted(out, key=_by_sequence)


def _identity(op: Any) -> tuple[str | None, int | None] | None:
    """What tells two operations apart, None when the server sent neither id nor sequence."""
    if op.operationId is None and op.sequence is None:
        return None
    return (op.operationId, op.sequence)


def operation_row(op: Any) -> dict[str, Any]:
    status = None if op.status is None else str(op.status)
    return {
        "operationId": op.operationId,
        "sequence": op.sequence,
        "method": op.method,
        "path": op.path,
        "status": status,
        "errorCode": response_key(op.responsePayload) if status == "FAILED" else None,
        "request": _redact_payload(op.requestPayload),
        "response": _redact_payload(op.responsePayload),
    }


def webhook_row(record: ReceivedWebhook, *, stable: bool = False) -> dict[str, Any]:
    return {
        "id": record.id,
        "receivedAt": None if stable else record.received_at_ms,
        "publishedTimestamp": None if stable else record.published_timestamp_ms,
        "path": record.path,
        "kind": str(record.kind),
        "httpStatus": record.http_status,
        "accepted": record.accepted,
        "bulkId": record.bulk_id,
        "bulkStatus": record.bulk_status,
        "counts": dict(sorted(record.counts.items())) if record.counts is not None else None,
        "verification": str(record.authenticity),
        "signatureV2": str(record.signature_v2),
        "signatureV1": str(record.signature_v1),
        "timestamp": str(record.timestamp),
        "webhooksKey": str(record.webhooks_key),
        "duplicateOf": record.duplicate_of,
        "error": record.error,
        "headers": _headers(record.headers) if not stable else None,
        "body": redact(record.json) if record.json is not None else None,
    }


async def build_report(
    client: WeavrClient,
    bulk_id: str,
    *,
    webhooks: Sequence[ReceivedWebhook] | None = None,
    timeline: Timeline | Sequence[TimelineEntry] | None = None,
    status: str | None = None,
    now: Callable[[], float] = time.time,
    stable: bool = False,
    priority: Priority = Priority.BACKGROUND,
    progress: Callable[[ReportProgress], None] | None = None,
    reply: tuple[str, str] | None = None,
) -> Report:
    """The report of ``bulk_id``. ``webhooks``: the receiver's records (others than this bulk's are left
    out); ``timeline``: the session's timeline (or its entries of this bulk); ``status``: only operations of
    this status in ``operations.jsonl``; ``now``: the clock of the "generated" line; ``stable``: leave out
    what changes from run to run; ``priority``: of its requests (background: paced, waits for the budget);
    ``progress``: called after each page and before each wait for the budget; ``reply``: a trainee's
    (customer's question, drafted reply), kept at the end."""
    # The timeline first: the requests made below would otherwise appear in it.
    entries: list[TimelineEntry] = []
    if isinstance(timeline, Timeline):
        entries = timeline.for_bulk(bulk_id)
    elif timeline is not None:
        entries = sorted(timeline, key=lambda e: e.at_ms)
    tracker = _Progress(progress)
    details = await client.get_bulk(bulk_id, priority=priority, on_wait=tracker.wait)
    counts = counts_by_status(details.operationStatusCounts)
    tracker.expect(status, counts.get(status, 0) if status else details.submittedItemsCount)
    if status not in (None, "FAILED"):
        tracker.expect("FAILED", counts.get("FAILED", 0))
    ops = await fetch_operations(client, bulk_id, status, priority=priority, progress=tracker)
    if status is None:
        # Every operation is at hand: its failures need no second listing (half the requests).
        failed = [op for op in ops if op.status is not None and str(op.status) == "FAILED"]
    elif status == "FAILED":
        failed = ops
    else:
        failed = await fetch_operations(client, bulk_id, "FAILED", priority=priority, progress=tracker)
    records = sorted(
        (r for r in webhooks or () if r.bulk_id == bulk_id), key=lambda r: (r.received_at_ms, r.id)
    )
    operations = [operation_row(op) for op in ops]
    hooks = [webhook_row(r, stable=stable) for r in records]
    markdown = _markdown(bulk_id, details, failed, records, entries, status, now, stable)
    if reply is not None:
        asked, drafted = reply
        quoted = "\n".join(f"> {line}" for line in asked.strip().splitlines())
        markdown += f"\n## Reply to the customer (training)\n\n{quoted}\n\n{drafted.strip()}\n"
    return Report(bulk_id, markdown, operations, hooks)


# --- Markdown -------------------------------------------------------------------------------------------
def _time(ms: int | None, stable: bool) -> str:
    if ms is None:
        return "—"
    when = to_datetime(ms)
    if when is None:
        return f"⚠ out of range ({ms})"  # shown even when stable: it is data, not the time of the run
    if stable:
        return VOLATILE
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _duration(start: int | None, finish: int | None, stable: bool) -> str:
    if start is None or finish is None:
        return "—"
    if stable:
        return VOLATILE
    return f"{(finish - start) / 1000:.3f} s"


def _sig(record: ReceivedWebhook) -> str:
    """✓ for a valid signature; a webhook accepted on its webhooks-key alone says so, not ✓ (nor ✗)."""
    authenticity = record.authenticity
    if authenticity is Authenticity.SIGNED:
        return "✓"
    if authenticity is Authenticity.KEY_ONLY:
        return authenticity.value
    return f"✗ ({record.signature_v2})"


def _value(value: Any) -> str:
    """A server's value in a table cell: ``—`` when missing."""
    return "—" if value is None or value == "" else _cell(str(value))


def _markdown(
    bulk_id: str,
    details: Any,
    failed: list[Any],
    records: list[ReceivedWebhook],
    entries: list[TimelineEntry],
    status_filter: str | None,
    now: Callable[[], float],
    stable: bool,
) -> str:
    # The id asked for: the body's own bulkId is optional (and, if present, the same).
    lines: list[str] = [f"# Bulk {bulk_id}", ""]
    generated = VOLATILE if stable else _time(int(now() * 1000), False)
    lines += [f"Generated: {generated}", ""]
    counts = counts_by_status(details.operationStatusCounts)
    lines += ["## Summary", "", "| Field | Value |", "| --- | --- |"]
    lines += [
        f"| Status | {_value(details.status)} |",
        f"| Mode | {_value(details.mode)} |",
        f"| Operation | {_value(details.operation)} |",
        f"| Submitted items | {_value(details.submittedItemsCount)} |",
        f"| Started | {_time(details.executionStart, stable)} |",
        f"| Finished | {_time(details.executionFinish, stable)} |",
        f"| Duration | {_duration(details.executionStart, details.executionFinish, stable)} |",
    ]
    if status_filter:
        lines.append(f"| Operations exported | status {status_filter} |")
    lines += ["", "### Counts", "", "| Status | Count |", "| --- | ---: |"]
    for name in sorted(counts):
        lines.append(f"| {_cell(name)} | {counts[name]} |")
    if not counts:
        lines.append("| — | 0 |")

    lines += ["", "## Timeline", ""]
    if entries:
        lines += ["| Time | Source | Event |", "| --- | --- | --- |"]
        for entry in entries:
            text = entry.text
            if stable:
                text = _REF.sub("", _DURATION.sub("", text))
            lines.append(f"| {_time(entry.at_ms, stable)} | {entry.source} | {_cell(text)} |")
    else:
        lines.append("No timeline (only a dashboard session records API calls and state changes).")

    lines += ["", "## Failures", ""]
    if failed:
        by_code: dict[str, list[Any]] = {}
        for op in failed:
            code = response_key(op.responsePayload) or "(no errorCode)"
            by_code.setdefault(code, []).append(op)
        lines += ["| errorCode | Count | Sequences |", "| --- | ---: | --- |"]
        for code in sorted(by_code, key=lambda c: (-len(by_code[c]), c)):
            seqs = [op.sequence for op in sorted(by_code[code], key=_by_sequence)]
            shown = ", ".join("?" if s is None else str(s) for s in seqs[:SEQUENCES_PER_CODE])
            if len(seqs) > SEQUENCES_PER_CODE:
                shown += f", … (+{len(seqs) - SEQUENCES_PER_CODE})"
            lines.append(f"| {_cell(code)} | {len(seqs)} | {shown} |")
    else:
        lines.append("No failed operations.")

    lines += ["", "## Webhooks", ""]
    if records:
        lines += [
            "| # | Received | Path | Status | HTTP | Signature | Duplicate | Timestamp |",
            "| ---: | --- | --- | --- | ---: | --- | --- | --- |",
        ]
        for n, r in enumerate(records, 1):
            dup = f"yes (of #{r.duplicate_of})" if r.duplicate else "no"
            stale = "stale" if str(r.timestamp) == "stale" else str(r.timestamp)
            lines.append(
                f"| {n} | {_time(r.received_at_ms, stable)} | {_cell(r.path)} | {r.bulk_status or '—'} "
                f"| {r.http_status} | {_sig(r)} | {dup} | {stale} |"
            )
    else:
        lines.append("No webhooks recorded for this bulk.")
    lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
