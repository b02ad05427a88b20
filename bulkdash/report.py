"""Run reports: the story of one bulk as Markdown plus JSON Lines of its operations and webhooks.

Plain Python (no Textual). ``build_report`` fetches the bulk and its operations (page by page, at most 100
per page as the API allows) with the given client, and joins what the dashboard knows besides: the receiver's
webhook records and the session's delivery timeline. Output is deterministic for the same inputs (sorted
keys, stable order); ``stable=True`` also leaves out the values that change from run to run (times,
durations, request refs), so a report can be compared with a golden file. Secrets never appear: api keys,
tokens, ``authorization`` and ``webhooks-key`` values are replaced (webhook signatures may stay).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulkdash.api.client import SECRET_BODY_KEYS, SECRET_HEADERS, WeavrClient
from bulkdash.model.run import response_key
from bulkdash.model.timeline import Timeline, TimelineEntry
from bulkdash.webhooks.records import REDACTED_HEADERS, ReceivedWebhook

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

    def write(self, out: Path | None = None) -> Path:
        """Write ``report.md``, ``operations.jsonl`` and ``webhooks.jsonl`` into ``out`` (default:
        ``./bulkdash-report-<bulkId>``); returns the directory."""
        directory = out if out is not None else Path.cwd() / default_dirname(self.bulk_id)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "report.md").write_text(self.markdown, encoding="utf-8")
        (directory / "operations.jsonl").write_text(self.jsonl(self.operations), encoding="utf-8")
        (directory / "webhooks.jsonl").write_text(self.jsonl(self.webhooks), encoding="utf-8")
        return directory


def default_dirname(bulk_id: str) -> str:
    return f"bulkdash-report-{bulk_id}"


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
async def fetch_operations(client: WeavrClient, bulk_id: str, status: str | None = None) -> list[Any]:
    """Every operation of the bulk (of ``status`` if given), page by page, in sequence order."""
    out: list[Any] = []
    offset = 0
    while True:
        page = await client.list_operations(bulk_id, offset=offset, limit=PAGE_LIMIT, status=status)
        out.extend(page.operations)
        offset += len(page.operations)
        if not page.operations or offset >= page.count:
            break
    return sorted(out, key=lambda op: op.sequence)


def operation_row(op: Any) -> dict[str, Any]:
    return {
        "operationId": op.operationId,
        "sequence": op.sequence,
        "method": op.method,
        "path": op.path,
        "status": str(op.status),
        "errorCode": response_key(op.responsePayload) if str(op.status) == "FAILED" else None,
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
) -> Report:
    """The report of ``bulk_id``. ``webhooks``: the receiver's records (others than this bulk's are left
    out); ``timeline``: the session's timeline (or its entries of this bulk); ``status``: only operations of
    this status in ``operations.jsonl``; ``now``: the clock of the "generated" line; ``stable``: leave out
    what changes from run to run."""
    # The timeline first: the requests made below would otherwise appear in it.
    entries: list[TimelineEntry] = []
    if isinstance(timeline, Timeline):
        entries = timeline.for_bulk(bulk_id)
    elif timeline is not None:
        entries = sorted(timeline, key=lambda e: e.at_ms)
    details = await client.get_bulk(bulk_id)
    ops = await fetch_operations(client, bulk_id, status)
    failed = ops if status == "FAILED" else await fetch_operations(client, bulk_id, "FAILED")
    records = sorted(
        (r for r in webhooks or () if r.bulk_id == bulk_id), key=lambda r: (r.received_at_ms, r.id)
    )
    operations = [operation_row(op) for op in ops]
    hooks = [webhook_row(r, stable=stable) for r in records]
    markdown = _markdown(details, failed, records, entries, status, now, stable)
    return Report(bulk_id, markdown, operations, hooks)


# --- Markdown -------------------------------------------------------------------------------------------
def _time(ms: int | None, stable: bool) -> str:
    if ms is None:
        return "—"
    if stable:
        return VOLATILE
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _duration(start: int | None, finish: int | None, stable: bool) -> str:
    if start is None or finish is None:
        return "—"
    if stable:
        return VOLATILE
    return f"{(finish - start) / 1000:.3f} s"


def _sig(verdict: object) -> str:
    return "✓" if str(verdict) == "valid" else f"✗ ({verdict})"


def _markdown(
    details: Any,
    failed: list[Any],
    records: list[ReceivedWebhook],
    entries: list[TimelineEntry],
    status_filter: str | None,
    now: Callable[[], float],
    stable: bool,
) -> str:
    lines: list[str] = [f"# Bulk {details.bulkId}", ""]
    generated = VOLATILE if stable else _time(int(now() * 1000), False)
    lines += [f"Generated: {generated}", ""]
    counts = {str(c.status): c.count for c in details.operationStatusCounts}
    lines += ["## Summary", "", "| Field | Value |", "| --- | --- |"]
    lines += [
        f"| Status | {details.status} |",
        f"| Mode | {details.mode or '—'} |",
        f"| Operation | {details.operation or '—'} |",
        f"| Submitted items | {details.submittedItemsCount} |",
        f"| Started | {_time(details.executionStart, stable)} |",
        f"| Finished | {_time(details.executionFinish, stable)} |",
        f"| Duration | {_duration(details.executionStart, details.executionFinish, stable)} |",
    ]
    if status_filter:
        lines.append(f"| Operations exported | status {status_filter} |")
    lines += ["", "### Counts", "", "| Status | Count |", "| --- | ---: |"]
    for name in sorted(counts):
        lines.append(f"| {name} | {counts[name]} |")
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
        by_code: dict[str, list[int]] = {}
        for op in failed:
            code = response_key(op.responsePayload) or "(no errorCode)"
            by_code.setdefault(code, []).append(op.sequence)
        lines += ["| errorCode | Count | Sequences |", "| --- | ---: | --- |"]
        for code in sorted(by_code, key=lambda c: (-len(by_code[c]), c)):
            seqs = sorted(by_code[code])
            shown = ", ".join(str(s) for s in seqs[:SEQUENCES_PER_CODE])
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
                f"| {r.http_status} | {_sig(r.signature_v2)} | {dup} | {stale} |"
            )
    else:
        lines.append("No webhooks recorded for this bulk.")
    lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
