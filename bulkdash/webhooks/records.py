"""What the receiver knows about one webhook request: verdict enums, the event kind, and the record itself.

``ReceivedWebhook`` is the single shape handed to subscribers, listeners, ``history()`` and the CLI. The facts
that come from the body (bulk id, status, counts; the transaction's event type and id) are derived from the
parsed JSON here, so a record read back from SQLite and a record delivered live look the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from bulkdash.contract.models import BulkProcessProgressEvent

#: ``id`` of a record that has not been written yet (SQLite row ids start at 1).
UNSTORED_ID = 0

#: Headers that carry secrets. Their values are replaced before a record is stored or shown, so the
#: history file and the dashboard never hold a key; the verdict says whether it matched.
REDACTED_HEADERS = frozenset({"webhooks-key", "api-key", "authorization", "cookie"})
REDACTED = "<redacted>"


class EventKind(StrEnum):
    BULK = "bulk"
    TRANSFER = "transfer"
    SEND = "send"
    OWT = "owt"
    UNKNOWN = "unknown"


class SignatureVerdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"
    #: Not checked: the body was too large to read whole (413), so ``signature-v2`` cannot be computed.
    UNCHECKED = "unchecked"


class TimestampVerdict(StrEnum):
    OK = "ok"
    STALE = "stale"
    FUTURE = "future"
    MISSING = "missing"
    MALFORMED = "malformed"


class KeyVerdict(StrEnum):
    """The ``webhooks-key`` header against the configured webhooks key."""

    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"
    #: No webhooks key is configured, so the header (if any) is not checked.
    NOT_CONFIGURED = "not_configured"


class Authenticity(StrEnum):
    """How far a request's origin is established, in the words shown wherever a webhook is shown.

    ``KEY_ONLY`` is weaker than ``SIGNED``: the ``webhooks-key`` proves the sender knows the key, but nothing
    binds the body to it, so it is always worded apart from a valid signature.
    """

    SIGNED = "signature valid"
    KEY_ONLY = "key only — body not signed"
    INVALID = "signature invalid"
    MISSING = "signature missing"
    #: The body was too large to read whole (413), so its signature could not be computed.
    UNCHECKED = "signature not checked"


# Path suffixes, longest first where one could end another. Suffix matching lets the webhook base URL
# carry its own prefix (``http://host/hooks/p1`` + ``/transfers/watch``).
_KIND_SUFFIXES: tuple[tuple[str, EventKind], ...] = (
    ("/bulk_process_end/watch", EventKind.BULK),
    ("/bulk_process_progress/watch", EventKind.BULK),
    ("/outgoing_wire_transfers/watch", EventKind.OWT),
    ("/transfers/watch", EventKind.TRANSFER),
    ("/send/watch", EventKind.SEND),
    ("/sends/watch", EventKind.SEND),
)


def classify_path(path: str) -> EventKind:
    """The event kind a Weavr webhook path stands for (docs/behaviour.md §6.1); ``UNKNOWN`` for anything
    else."""
    trimmed = path.rstrip("/")
    for suffix, kind in _KIND_SUFFIXES:
        if trimmed.endswith(suffix):
            return kind
    return EventKind.UNKNOWN


# Where Weavr's webhook contract declares the ``webhooks_key`` security scheme: only the bulk-process
# webhook (docs/behaviour.md §6.3 and decision A15). The transaction webhooks declare ``signature`` and
# ``signature-v2`` and no security scheme, so there the key alone proves nothing about the body. The
# planned ``bulk_process_progress`` rename (decision A14) is not in the contract: no exception for it.
_KEY_ONLY_SUFFIXES = ("/bulk_process_end/watch",)


def key_only_allowed(path: str) -> bool:
    """Whether the ``webhooks-key`` header alone may authenticate a request to ``path``."""
    return path.rstrip("/").endswith(_KEY_ONLY_SUFFIXES)


def authenticity(
    path: str, signature_v2: SignatureVerdict, signature_v1: SignatureVerdict, webhooks_key: KeyVerdict
) -> Authenticity:
    """What the credentials of a request to ``path`` establish (the verifier refuses all but two)."""
    if signature_v2 is SignatureVerdict.VALID:
        return Authenticity.SIGNED
    if signature_v2 is SignatureVerdict.UNCHECKED:
        return Authenticity.UNCHECKED
    if signature_v2 is SignatureVerdict.INVALID:
        return Authenticity.INVALID
    # A wrong deprecated signature fails the request even where the key alone would do.
    key_only = webhooks_key is KeyVerdict.VALID and signature_v1 is not SignatureVerdict.INVALID
    return Authenticity.KEY_ONLY if key_only and key_only_allowed(path) else Authenticity.MISSING


def headers_dict(raw: Iterable[tuple[bytes, bytes]], *, redact: bool = True) -> dict[str, str]:
    """ASGI header pairs as a dict, names lower-cased, repeated headers joined with ``", "`` (RFC 9110).

    With ``redact`` the values of :data:`REDACTED_HEADERS` are replaced by ``<redacted>``.
    """
    plain, redacted = headers_dicts(list(raw))
    return redacted if redact else plain


def headers_dicts(raw: Sequence[tuple[bytes, bytes]]) -> tuple[dict[str, str], dict[str, str]]:
    """``(headers_dict(raw, redact=False), headers_dict(raw, redact=True))`` (the receiver needs both for
    every request). Without a secret header the two are the same dict, built once: treat both as
    read-only."""
    plain: dict[str, str] = {}
    for raw_name, raw_value in raw:
        # latin-1 maps every byte to one code point, so no header value can fail to decode.
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        plain[name] = f"{plain[name]}, {value}" if name in plain else value
    if REDACTED_HEADERS.isdisjoint(plain):
        # The usual webhook (signed, no key): nothing to redact, so no second dict (profiled with
        # benchmarks/webhook_receiver.py).
        return plain, plain
    redacted: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        shown = REDACTED if name in REDACTED_HEADERS else raw_value.decode("latin-1")
        redacted[name] = f"{redacted[name]}, {shown}" if name in redacted else shown
    return plain, redacted


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What the body says, as far as the receiver understands it."""

    bulk_id: str | None = None
    bulk_status: str | None = None
    submitted_items_count: int | None = None
    counts: dict[str, int] | None = None
    #: ``eventType`` of a transaction webhook (``COMPLETED``, ``SCHEDULED``, ``SUBMITTED``...).
    event_type: str | None = None
    #: The transaction id of a transaction webhook.
    object_id: str | None = None


def _nested_id(parsed: Mapping[str, Any], key: str) -> str | None:
    obj = parsed.get(key)
    if isinstance(obj, Mapping):
        ident = obj.get("id")
        if isinstance(ident, Mapping) and ident.get("id") is not None:
            return str(ident["id"])
    return None


def _plain_bulk_facts(parsed: Mapping[str, Any]) -> EventFacts | None:
    """The facts of a bulk event whose fields all have their plain JSON types (what senders send), read
    straight from the dict; None for anything else, which ``describe_event`` validates with the model.
    For such bodies the model keeps every value as it is, so both give the same facts; validating cost
    a third of the receiver's time per request (profiled with benchmarks/webhook_receiver.py)."""
    bulk_id, status = parsed.get("bulkId"), parsed.get("status")
    submitted, entries = parsed.get("submittedItemsCount"), parsed.get("operationStatusCounts", [])
    if not (
        (bulk_id is None or type(bulk_id) is str)
        and (status is None or type(status) is str)
        and (submitted is None or type(submitted) is int)
        and type(entries) is list
    ):
        return None
    counts: dict[str, int] = {}
    for entry in entries:
        if type(entry) is not dict:
            return None
        entry_status, count = entry.get("status"), entry.get("count")
        if not (
            (entry_status is None or type(entry_status) is str) and (count is None or type(count) is int)
        ):
            return None
        if entry_status is not None and count is not None:
            counts[entry_status] = count
    return EventFacts(bulk_id=bulk_id, bulk_status=status, submitted_items_count=submitted, counts=counts)


def describe_event(kind: EventKind, parsed: Any) -> EventFacts:
    """The facts of a parsed body; empty facts when the body is not the shape its path promises."""
    if not isinstance(parsed, Mapping):
        return EventFacts()
    if kind is EventKind.BULK:
        plain = _plain_bulk_facts(parsed)
        if plain is not None:
            return plain
        try:
            event = BulkProcessProgressEvent.model_validate(parsed)
        except ValidationError:
            # A malformed bulk event is still shown (the raw body is kept); it just has no summary.
            return EventFacts(bulk_id=str(parsed["bulkId"]) if "bulkId" in parsed else None)
        # Weavr's schema requires none of these: a missing status stays None (not the string "None"), and a
        # count entry without both a status and a count carries nothing (``counts()`` leaves it out).
        return EventFacts(
            bulk_id=event.bulkId,
            bulk_status=None if event.status is None else str(event.status),
            submitted_items_count=event.submittedItemsCount,
            counts=event.counts(),
        )
    event_type = parsed.get("eventType")
    event_type = str(event_type) if event_type is not None else None
    if kind is EventKind.TRANSFER or kind is EventKind.OWT:
        return EventFacts(event_type=event_type, object_id=_nested_id(parsed, "transfer"))
    if kind is EventKind.SEND:
        return EventFacts(event_type=event_type, object_id=_nested_id(parsed, "send"))
    return EventFacts(event_type=event_type)


@dataclass(frozen=True, slots=True)
class ReceivedWebhook:
    """One request the receiver answered, valid or not, exactly as it was recorded.

    The body-derived facts (``bulk_id``, ``counts``...) are filled in for rejected requests too, so they can
    be shown; only act on them when ``accepted`` (an unauthenticated body can claim anything).
    """

    id: int
    received_at_ms: int
    method: str
    path: str
    #: Headers as received (lower-cased names), secret values redacted.
    headers: dict[str, str] = field(repr=False)
    #: The raw body; for a 413 only the first few KiB (``body_truncated``). Left out of the repr: up to 1 MiB.
    body: bytes = field(repr=False)
    #: Bytes received, or the declared ``Content-Length`` when that was larger and the body was not read.
    body_size: int
    body_truncated: bool
    #: The parsed JSON body, or ``None`` when the body was not valid JSON (or was not read).
    json: Any = field(repr=False)
    kind: EventKind
    call_ref: str | None
    published_timestamp_ms: int | None
    signature_v2: SignatureVerdict
    signature_v1: SignatureVerdict
    timestamp: TimestampVerdict
    webhooks_key: KeyVerdict
    #: The status the receiver answered (499 when the client went away before a response could be sent).
    http_status: int
    #: Why the request was not accepted (``None`` for 2xx).
    error: str | None
    #: ``id`` of the first accepted record with the same call-ref, when this one repeats it.
    duplicate_of: int | None
    #: ``host:port`` of the peer.
    client: str | None
    facts: EventFacts

    @property
    def duplicate(self) -> bool:
        return self.duplicate_of is not None

    @property
    def accepted(self) -> bool:
        return 200 <= self.http_status < 300

    @property
    def authenticity(self) -> Authenticity:
        return authenticity(self.path, self.signature_v2, self.signature_v1, self.webhooks_key)

    @property
    def bulk_id(self) -> str | None:
        return self.facts.bulk_id

    @property
    def bulk_status(self) -> str | None:
        return self.facts.bulk_status

    @property
    def submitted_items_count(self) -> int | None:
        return self.facts.submitted_items_count

    @property
    def counts(self) -> dict[str, int] | None:
        return self.facts.counts

    @property
    def event_type(self) -> str | None:
        return self.facts.event_type

    @property
    def object_id(self) -> str | None:
        return self.facts.object_id
