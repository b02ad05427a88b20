"""The receiver's history: one SQLite file (WAL) behind aiosqlite, written by a group-committing writer task.

Each request hands its record to :meth:`WebhookStore.append` and waits for the commit that contains it, so
nothing is acknowledged before it is on disk. A single writer task drains whatever has queued up meanwhile
and commits it as one transaction: under a burst, one commit (and one fsync) serves many requests, which
is what makes hundreds of webhooks per second possible with ``synchronous=FULL``.

Row ids and the duplicate pointer are decided by SQLite inside that transaction (the ``INSERT`` sub-selects
the call-ref's first accepted row; the batch is read back by id), so they are right even when two requests
with the same call-ref are in the same batch, or when another process appends to the same file.

The file (and its ``-wal``/``-shm``) is private to its owner, mode 0600: it holds every body received, and
its headers, with the secret ones redacted (``records.REDACTED_HEADERS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bulkdash.contract.codec import compact_json
from bulkdash.webhooks.records import (
    EventKind,
    KeyVerdict,
    ReceivedWebhook,
    SignatureVerdict,
    TimestampVerdict,
    describe_event,
)
from bulkdash.webhooks.schema import MIGRATIONS

log = logging.getLogger(__name__)

#: Mode of the history file and of its WAL and shared-memory files: the owner's only.
PRIVATE_FILE_MODE = 0o600
# Paths SQLite does not open as a file of that name.
_NOT_FILES = frozenset({"", ":memory:"})

#: How long a write waits for another connection's write lock before failing (the batch is answered 500).
BUSY_TIMEOUT_MS = 5000

#: Most rows in one transaction: bounds how long a commit holds the write lock and the reader waits.
DEFAULT_MAX_BATCH = 512

_COLUMNS = (
    "id, received_at_ms, method, path, headers, body, body_size, body_truncated, json_ok, kind, call_ref, "
    "published_ts_ms, sig_v2, sig_v1, ts_verdict, key_verdict, http_status, error, duplicate_of, client"
)

# Positional (``?N``) parameters: a row is bound from a tuple, with no dict to build and no names to look up
# per value; ``?10`` (call_ref) and ``?21`` (accepted) are used twice.
_INSERT = """
INSERT INTO webhooks (
    received_at_ms, method, path, headers, body, body_size, body_truncated, json_ok, kind, call_ref,
    published_ts_ms, sig_v2, sig_v1, ts_verdict, key_verdict, http_status, error, client, bulk_id,
    bulk_status, duplicate_of
) VALUES (
    ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
    -- Only an accepted request can be a duplicate, of the first *accepted* one: a rejected first try was
    -- never delivered, so the sender's retry is the real delivery.
    CASE WHEN ?21 AND ?10 IS NOT NULL THEN (
        SELECT id FROM webhooks
        WHERE call_ref = ?10 AND http_status BETWEEN 200 AND 299
        ORDER BY id LIMIT 1
    ) END
)
"""


def _insert_batch(conn: sqlite3.Connection, params: list[tuple[Any, ...]]) -> list[tuple[int, int | None]]:
    """Insert a batch's rows inside the open ``BEGIN IMMEDIATE`` and return their ``(id, duplicate_of)``.

    Runs on the event loop's thread: the statements only touch pages in memory (the COMMIT does the I/O,
    on the connection's thread). Run through that thread, a round trip per record, each waiting for the GIL
    while requests kept the loop busy, was most of a commit's time and kept batches to ~3 records
    (profiled with benchmarks/webhook_receiver.py). Nothing else inserts inside this transaction, so the
    rows take the ids after the largest one, in order, and are read back with their duplicate pointers."""
    (before,) = conn.execute("SELECT coalesce(max(id), 0) FROM webhooks").fetchone()
    conn.executemany(_INSERT, params)
    rows = conn.execute(
        "SELECT id, duplicate_of FROM webhooks WHERE id > ? ORDER BY id", (before,)
    ).fetchall()
    if len(rows) != len(params):
        raise RuntimeError(f"{len(params)} webhook records inserted, {len(rows)} read back")
    return rows


def _begin_now(conn: sqlite3.Connection, busy_timeout_ms: int) -> bool:
    """``BEGIN IMMEDIATE`` on the calling (event loop's) thread if the write lock is free at once; False
    when another connection holds it (then the caller waits for it on the connection's thread).

    Taking a free lock is a few microseconds; sent to the connection's thread it was a round trip that,
    with the loop busy, waited for the GIL twice, and made the batch cycle (and so every webhook's answer)
    slower (profiled with benchmarks/webhook_receiver.py). ``busy_timeout`` is 0 only for this attempt,
    so the loop never sleeps on a lock."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        # The low byte is the primary result code: SQLITE_BUSY in all its extended forms.
        if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    return True


class SchemaTooNewError(RuntimeError):
    """The history file was written by a newer bulkdash (more migrations than this one knows)."""


@dataclasses.dataclass(slots=True)
class _Pending:
    record: ReceivedWebhook
    done: asyncio.Future[ReceivedWebhook]


def _row_params(rec: ReceivedWebhook) -> tuple[Any, ...]:
    """``rec`` as the ``?1``...``?21`` parameters of ``_INSERT``."""
    facts = rec.facts
    return (
        rec.received_at_ms,
        rec.method,
        rec.path,
        compact_json(rec.headers),
        rec.body,
        rec.body_size,
        int(rec.body_truncated),
        int(rec.json is not None),
        rec.kind.value,
        rec.call_ref,
        rec.published_timestamp_ms,
        rec.signature_v2.value,
        rec.signature_v1.value,
        rec.timestamp.value,
        rec.webhooks_key.value,
        rec.http_status,
        rec.error,
        rec.client,
        facts.bulk_id,
        facts.bulk_status,
        int(200 <= rec.http_status < 300),  # ?21: accepted
    )


def _committed(rec: ReceivedWebhook, rid: int, duplicate_of: int | None) -> ReceivedWebhook:
    """``dataclasses.replace(rec, id=rid, duplicate_of=duplicate_of)``, a third of its cost: ``replace``
    walks the fields by name for every record committed (profiled with benchmarks/webhook_receiver.py).
    Positional, in field order (a test compares it with ``replace``)."""
    return ReceivedWebhook(
        rid,
        rec.received_at_ms,
        rec.method,
        rec.path,
        rec.headers,
        rec.body,
        rec.body_size,
        rec.body_truncated,
        rec.json,
        rec.kind,
        rec.call_ref,
        rec.published_timestamp_ms,
        rec.signature_v2,
        rec.signature_v1,
        rec.timestamp,
        rec.webhooks_key,
        rec.http_status,
        rec.error,
        duplicate_of,
        rec.client,
        rec.facts,
    )


def _record_from_row(row: Sequence[Any]) -> ReceivedWebhook:
    (
        rid,
        received_at_ms,
        method,
        path,
        headers,
        body,
        body_size,
        body_truncated,
        json_ok,
        kind,
        call_ref,
        published_ts_ms,
        sig_v2,
        sig_v1,
        ts_verdict,
        key_verdict,
        http_status,
        error,
        duplicate_of,
        client,
    ) = row
    body = bytes(body)
    parsed = json.loads(body) if json_ok else None
    event_kind = EventKind(kind)
    return ReceivedWebhook(
        id=rid,
        received_at_ms=received_at_ms,
        method=method,
        path=path,
        headers=json.loads(headers),
        body=body,
        body_size=body_size,
        body_truncated=bool(body_truncated),
        json=parsed,
        kind=event_kind,
        call_ref=call_ref,
        published_timestamp_ms=published_ts_ms,
        signature_v2=SignatureVerdict(sig_v2),
        signature_v1=SignatureVerdict(sig_v1),
        timestamp=TimestampVerdict(ts_verdict),
        webhooks_key=KeyVerdict(key_verdict),
        http_status=http_status,
        error=error,
        duplicate_of=duplicate_of,
        client=client,
        facts=describe_event(event_kind, parsed),
    )


def _make_private(path: Path) -> None:
    """Create ``path`` 0600 if missing; tighten it and its companions if an older run left them readable.

    SQLite creates ``-wal``, ``-shm`` and ``-journal`` with the mode of the database file, so a private
    database keeps its companions private (umask can only take more bits away).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    for suffix in ("", "-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        try:
            if stat.S_IMODE(companion.stat().st_mode) & ~PRIVATE_FILE_MODE:
                companion.chmod(PRIVATE_FILE_MODE)
        except FileNotFoundError:
            continue
        except PermissionError:
            # Someone else's file (a shared history): still usable, but say it is not private.
            log.warning("webhook history %s is readable by others and is not ours to restrict", companion)


class WebhookStore:
    """Append-only history of received webhooks. ``open()`` before use, ``close()`` to flush and release."""

    def __init__(
        self,
        path: Path | str,
        *,
        on_commit: Callable[[list[ReceivedWebhook]], None] | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._path = str(path)
        #: Called by the writer after each commit with the batch's records in id order (before any of
        #: their requests is answered). It must not raise or block.
        self.on_commit = on_commit
        self._max_batch = max_batch
        self._db: aiosqlite.Connection | None = None
        # Records waiting for the writer, in arrival (= id) order, and the writer's wake-up while it waits
        # for the first one: a list and one future per batch cost less per record than an asyncio.Queue.
        self._pending: list[_Pending] = []
        self._waiter: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        # One connection serves the writer and the readers; the lock keeps a read from running inside a
        # half-written batch (it would see rows that might yet be rolled back).
        self._lock = asyncio.Lock()
        self._closing = False

    def __repr__(self) -> str:
        return f"WebhookStore({self._path!r})"

    @property
    def path(self) -> str:
        return self._path

    async def open(self) -> None:
        if self._path not in _NOT_FILES:
            _make_private(Path(self._path))
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT), one per batch.
        # check_same_thread=False: a batch's inserts run on the loop's thread (``_insert_batch``), everything
        # else on aiosqlite's; ``_lock`` keeps them apart.
        db = await aiosqlite.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is fsynced before the request is answered, so an acknowledged webhook survives
            # a power cut too. Group commit keeps that to one fsync per batch.
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await self._migrate(db)
        except BaseException:
            await db.close()
            raise
        self._db = db
        self._closing = False
        self._pending = []
        self._writer = asyncio.create_task(self._run_writer(), name="bulkdash-webhook-writer")

    @staticmethod
    async def _migrate(db: aiosqlite.Connection) -> None:
        async with db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise SchemaTooNewError(
                f"history schema version {version} is newer than this bulkdash supports ({len(MIGRATIONS)})"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # Each migration and its version bump commit together, so a crash never half-applies one.
            await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")

    async def close(self) -> None:
        """Write everything already queued, then close. Appends after this raise ``RuntimeError``."""
        if self._db is None:
            return
        self._closing = True
        if self._writer is not None:
            self._wake()
            await self._writer
            self._writer = None
        await self._db.close()
        self._db = None

    def submit(self, record: ReceivedWebhook) -> asyncio.Future[ReceivedWebhook]:
        """Queue ``record`` now; the future resolves to it as committed (``id`` and ``duplicate_of`` set)."""
        if self._db is None or self._closing:
            raise RuntimeError("the webhook store is not open")
        done: asyncio.Future[ReceivedWebhook] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(record, done))
        self._wake()
        return done

    async def append(self, record: ReceivedWebhook) -> ReceivedWebhook:
        """Store ``record`` (its ``id`` and ``duplicate_of`` are ignored) and return it once committed."""
        # Not shielded: the future is this record's alone, so a request task cancelled while waiting only
        # cancels it; the writer still writes the record, publishes it and skips the cancelled future.
        # (A shield cost a second future and two callbacks per request.)
        return await self.submit(record)

    async def _run_writer(self) -> None:
        # Whatever queued up while the previous batch was committing is the next batch: no waiting for more
        # (a linger, fixed or adaptive, only moved the wait elsewhere under the benchmark's burst).
        while True:
            await self._wait_for_records()
            if not self._pending:
                return  # closing, and everything queued is written
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            await self._write_batch(batch)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait_for_records(self) -> None:
        """Until a record is queued or the store is closing."""
        if self._pending or self._closing:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def _write_batch(self, batch: list[_Pending]) -> None:
        db = self._db
        assert db is not None
        stored: list[ReceivedWebhook] = []
        async with self._lock:
            conn = db._conn
            try:
                params = [_row_params(pending.record) for pending in batch]
                if not _begin_now(conn, BUSY_TIMEOUT_MS):
                    # Another connection is writing: wait for it on the connection's thread (busy_timeout).
                    await db.execute("BEGIN IMMEDIATE")
                rows = _insert_batch(conn, params)
                for pending, (rid, duplicate_of) in zip(batch, rows, strict=True):
                    stored.append(_committed(pending.record, rid, duplicate_of))
                # The fsync, on the connection's thread: the only round trip of an uncontended batch.
                await db.execute("COMMIT")
            except Exception as exc:
                log.exception("could not store %d webhook record(s)", len(batch))
                with contextlib.suppress(Exception):
                    await db.execute("ROLLBACK")
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(exc)
                return
        if self.on_commit is not None:
            try:
                self.on_commit(stored)
            except Exception:
                log.exception("webhook on_commit callback failed")
        for pending, record in zip(batch, stored, strict=True):
            if not pending.done.done():
                pending.done.set_result(record)

    async def history(
        self, *, bulk_id: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[ReceivedWebhook]:
        """The newest ``limit`` records (of one bulk, and older than ``before_id`` if given), oldest first."""
        if self._db is None:
            raise RuntimeError("the webhook store is not open")
        clauses: list[str] = []
        params: list[Any] = []
        if bulk_id is not None:
            clauses.append("bulk_id = ?")
            params.append(bulk_id)
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_COLUMNS} FROM webhooks {where} ORDER BY id DESC LIMIT ?"
        params.append(max(0, limit))
        async with self._lock:
            rows = await self._db.execute_fetchall(sql, params)
        return [_record_from_row(row) for row in reversed(list(rows))]

    async def get(self, record_id: int) -> ReceivedWebhook | None:
        if self._db is None:
            raise RuntimeError("the webhook store is not open")
        async with self._lock:
            rows = list(
                await self._db.execute_fetchall(f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?", (record_id,))
            )
        return _record_from_row(rows[0]) if rows else None

    async def count(self) -> int:
        if self._db is None:
            raise RuntimeError("the webhook store is not open")
        async with self._lock:
            rows = list(await self._db.execute_fetchall("SELECT count(*) FROM webhooks"))
        return int(rows[0][0])
