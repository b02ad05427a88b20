"""The delivery timeline of a bulk: API calls the dashboard made, state changes it saw, webhooks it received,
joined in time order (plain Python)."""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass

from bulkdash.api.client import CallRecord

_BULK_IN_PATH = re.compile(r"/bulks/(\d+)")


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at_ms: int
    source: str  # api | state | webhook
    text: str


class Timeline:
    def __init__(self, per_bulk: int = 2000) -> None:
        self._entries: dict[str, deque[TimelineEntry]] = defaultdict(lambda: deque(maxlen=per_bulk))

    def add_call(self, call: CallRecord) -> None:
        match = _BULK_IN_PATH.search(call.path)
        if match is None:
            return
        status = call.status if call.status is not None else (call.error or "no answer")
        ref = f" ref {call.request_ref[:8]}" if call.request_ref else ""
        self._entries[match.group(1)].append(
            TimelineEntry(
                call.at_ms, "api", f"{call.method} {call.path} → {status} ({call.duration_ms:.0f} ms){ref}"
            )
        )

    def add_state(self, bulk_id: str, at_ms: int, previous: str | None, status: str) -> None:
        self._entries[bulk_id].append(TimelineEntry(at_ms, "state", f"{previous or '—'} → {status}"))

    def add_webhook(self, bulk_id: str, at_ms: int, text: str) -> None:
        self._entries[bulk_id].append(TimelineEntry(at_ms, "webhook", text))

    def for_bulk(self, bulk_id: str) -> list[TimelineEntry]:
        return sorted(self._entries.get(bulk_id, ()), key=lambda e: e.at_ms)
