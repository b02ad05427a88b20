"""The outbox's cheap paths (simulator/store/store.py, schema 4): events that are never sent (SKIPPED, no URL)
are not indexed by id, sent ones are and stay unique; while no event is PENDING the dispatcher's look after a
commit asks the file nothing, and any write that makes an event PENDING makes it look again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.store.store import OutboxEvent, Store, WriteBatch


def event(event_id: str, url: str | None) -> OutboxEvent:
    return OutboxEvent(
        event_id,
        "P1",
        "1",
        "/transfers/watch",
        url,
        "{}",
        b'{"eventType":"COMPLETED"}',
        "PENDING" if url else "SKIPPED",
        1_000 if url else None,
        1_000,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(tmp_path / "s.db")
    await opened.open()
    yield opened
    await opened.close()


class CountingStatements:
    """Counts the statements run on the writer connection through aiosqlite."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        writer = store.w
        execute, fetchall = writer.execute, writer.execute_fetchall

        def counted(real: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any, **kwargs: Any) -> Any:
                self.count += 1
                return real(*args, **kwargs)

            return call

        monkeypatch.setattr(writer, "execute", counted(execute))
        monkeypatch.setattr(writer, "execute_fetchall", counted(fetchall))


async def test_only_sent_events_are_indexed_by_id_and_they_stay_unique(store: Store) -> None:
    await store.commit_batch(WriteBatch(events=[event("skipped-1", None), event("sent-1", "http://h/x")]))
    con = sqlite3.connect(store.path)
    try:
        (sql,) = con.execute("SELECT sql FROM sqlite_master WHERE name='webhook_events_sent'").fetchone()
        assert "UNIQUE" in sql and "WHERE url IS NOT NULL" in sql
        indexes = {r[1] for r in con.execute("PRAGMA index_list(webhook_events)")}
        assert indexes == {"webhook_events_sent", "webhook_events_due", "webhook_events_by_bulk"}
        lookup = "UPDATE webhook_events SET attempt_count=1 WHERE event_id=? AND url IS NOT NULL"
        plan = con.execute(f"EXPLAIN QUERY PLAN {lookup}", ("sent-1",)).fetchall()
        assert "USING INDEX webhook_events_sent" in plan[0][3]
    finally:
        con.close()
    with pytest.raises(sqlite3.IntegrityError):
        await store.commit_batch(WriteBatch(events=[event("sent-1", "http://h/y")]))


async def test_without_pending_events_the_dispatchers_look_asks_the_file_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.commit_batch(WriteBatch(events=[event("skipped-1", None)]))
    assert await store.due_events(2_000) == []
    assert await store.next_due_ms() is None  # looked once: none PENDING
    statements = CountingStatements(store, monkeypatch)
    await store.commit_batch(WriteBatch(events=[event("skipped-2", None)]))
    assert await store.due_events(2_000) == []
    assert await store.next_due_ms() is None
    assert statements.count == 0


async def test_an_event_made_pending_after_an_empty_look_is_found(store: Store) -> None:
    assert await store.next_due_ms() is None
    await store.commit_batch(WriteBatch(events=[event("sent-1", "http://h/x")]))
    assert await store.next_due_ms() == 1_000
    assert [e[0] for e in await store.due_events(2_000)] == ["sent-1"]
    # Delivered: nothing PENDING any more; a requeue makes it PENDING again and it is found.
    await store.record_attempts([("sent-1", 1_500, 200, None, "DELIVERED", None, 1)])
    assert await store.next_due_ms() is None
    assert await store.requeue_event("sent-1", 3_000)
    assert await store.next_due_ms() == 3_000
    # A failed attempt with a retry keeps it PENDING, due later.
    await store.record_attempts([("sent-1", 3_100, 500, None, "PENDING", 9_000, 1)])
    assert await store.next_due_ms() == 9_000
