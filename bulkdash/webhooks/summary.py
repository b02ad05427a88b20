"""One-line, human-readable summaries of received webhooks (``bulkdash listen`` prints one per request).

Example::

    14:03:07.512  204  POST /bulk_process_end/watch  bulk 1000042 RUNNING 25/100 (submitted 75, completed 24,
    failed 1)  sig ✓
"""

from __future__ import annotations

from datetime import datetime

from bulkdash.webhooks.records import (
    Authenticity,
    EventKind,
    KeyVerdict,
    ReceivedWebhook,
    SignatureVerdict,
    TimestampVerdict,
)

# Operation statuses in the fixed order of ``operationStatusCounts`` (docs/behaviour.md A22).
_COUNT_ORDER = ("SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")

_MARKS_UNICODE = {"ok": "✓", "bad": "✗", "none": "-", "unchecked": "?"}
_MARKS_ASCII = {"ok": "ok", "bad": "BAD", "none": "-", "unchecked": "?"}

_TIMESTAMP_FLAGS = {
    TimestampVerdict.STALE: "STALE-TIMESTAMP",
    TimestampVerdict.FUTURE: "FUTURE-TIMESTAMP",
    TimestampVerdict.MISSING: "NO-TIMESTAMP",
    TimestampVerdict.MALFORMED: "BAD-TIMESTAMP",
}


def _short(value: object, limit: int = 30) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_summary(record: ReceivedWebhook) -> str:
    """What the webhook says: ``bulk 1000042 RUNNING 25/100 (...)``, ``transfer 1000005 COMPLETED``."""
    if record.kind is EventKind.BULK:
        if record.bulk_status is None:
            # Say which: a body cut off at the size limit, not JSON, not an object, a status that is not a
            # string, or no status at all (``{}``).
            body = record.json
            if record.body_truncated:
                why = "body over the size limit"
            elif body is None:
                why = "body not JSON"
            elif not isinstance(body, dict):
                why = "body not a JSON object"
            elif "status" in body:
                why = f"status {_short(body['status'])} not understood"
            else:
                why = "no status in the body"
            return f"bulk {record.bulk_id or '?'} ({why})"
        text = f"bulk {record.bulk_id} {record.bulk_status}"
        if not record.counts and record.submitted_items_count is None:
            return text  # an event without counts (the schema requires none): not "0/None"
        counts = record.counts or {}
        attempted = counts.get("COMPLETED", 0) + counts.get("FAILED", 0)
        detail = ", ".join(f"{s.lower()} {counts[s]}" for s in _COUNT_ORDER if counts.get(s))
        total = "?" if record.submitted_items_count is None else record.submitted_items_count
        text = f"{text} {attempted}/{total}"
        return f"{text} ({detail})" if detail else text
    if record.kind is EventKind.UNKNOWN:
        return "unknown event"
    parts = [record.kind.value, record.object_id or "?", record.event_type or "?"]
    return " ".join(parts)


def _checks(record: ReceivedWebhook, marks: dict[str, str], *, unicode: bool) -> str:
    """``sig ✓``, ``sig ✗ key ✓``...; in words for a webhook accepted on its webhooks-key alone."""
    if record.authenticity is Authenticity.KEY_ONLY:
        # "sig - key ✓" would read like a refusal, or worse like a signature: say what it is.
        wording = record.authenticity.value
        return wording if unicode else wording.replace("—", "-")
    sig = {
        SignatureVerdict.VALID: marks["ok"],
        SignatureVerdict.INVALID: marks["bad"],
        SignatureVerdict.MISSING: marks["none"],
        SignatureVerdict.UNCHECKED: marks["unchecked"],
    }[record.signature_v2]
    checks = f"sig {sig}"
    if record.webhooks_key is not KeyVerdict.NOT_CONFIGURED:
        key = {
            KeyVerdict.VALID: marks["ok"],
            KeyVerdict.INVALID: marks["bad"],
            KeyVerdict.MISSING: marks["none"],
        }
        checks += f" key {key[record.webhooks_key]}"
    return checks


def format_line(record: ReceivedWebhook, *, unicode: bool = True) -> str:
    """The whole line for one record; ``unicode=False`` swaps the check marks for ASCII words."""
    marks = _MARKS_UNICODE if unicode else _MARKS_ASCII
    when = datetime.fromtimestamp(record.received_at_ms / 1000).strftime("%H:%M:%S.%f")[:-3]
    parts = [when, str(record.http_status), f"{record.method} {record.path}"]
    if record.json is not None or record.kind is not EventKind.UNKNOWN:
        parts.append(event_summary(record))
    parts.append(_checks(record, marks, unicode=unicode))
    if record.timestamp in _TIMESTAMP_FLAGS:
        parts.append(_TIMESTAMP_FLAGS[record.timestamp])
    if record.duplicate_of is not None:
        parts.append(f"DUPLICATE of #{record.duplicate_of}")
    if record.error:
        parts.append(f"({record.error})")
    return "  ".join(parts)
