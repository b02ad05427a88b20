"""The simulator's persistence: one SQLite file (WAL) behind aiosqlite, and the only module that speaks SQL.

Connections: a writer, used under one lock so transactions never interleave (a batch's statements run on
the loop's thread, its COMMIT on the connection's own); readers, which in WAL mode never wait for the
writer (pages of operations on the loop's thread, listings on a thread); and a checkpointer that copies the
WAL into the file beside the writer. Everything the engine changes reaches the file through
``commit_batch``: operation statuses, the world rows they touched, bulk counters, token touches and webhook
outbox events go into one transaction, so a crash keeps all of a batch or none of it.

The file is the simulator's alone: ``open`` takes an exclusive lock on ``<db>.lock`` (which holds the owner's
pid), so a second simulator on the same file is refused instead of running bulks nobody can commit. The file
(and its ``-wal``, ``-shm`` and lock file) is readable by its owner only, and tokens are stored as digests,
passwords as salted hashes (simulator/credentials.py). A file that cannot serve — not a database, damaged,
from a newer simulator, read-only, locked — makes ``open`` raise :class:`StoreError`, one line naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import aiosqlite

from bulkdash.filelock import FileLock, InUse, tighten
from simulator.credentials import token_digest
from simulator.store.schema import MIGRATIONS, SQL_FUNCTIONS

log = logging.getLogger("bulkdash.simulator.store")

FIRST_ID = 1_000_001
#: Tables the engine reads in full at start; reading them on open finds a damaged file before serving.
_LOADED_AT_START = ("meta", "users", "instruments", "tokens", "bulks")


class StoreError(OSError):
    """The database file cannot be used; ``str()`` is one line naming the file and the problem.

    An ``OSError``: callers that report "cannot start: <reason>" for files and sockets (the dashboard, the
    CLIs) report this one the same way without knowing the simulator."""


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite would create it 0644; it gives its -wal and
    -shm files the database's mode), or tighten the files of an existing one."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for suffix in ("", "-wal", "-shm"):
            tighten(path.with_name(path.name + suffix))


@dataclass(slots=True)
class BulkRow:
    bulk_id: int
    identity_id: str
    programme: str
    kind: str
    status: str
    n: int
    mode: str | None = None
    webhook_interval: int | None = None
    execution_start: int | None = None
    execution_finish: int | None = None
    created_ms: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    def update_tuple(self) -> tuple[Any, ...]:
        return (
            self.status,
            self.mode,
            self.webhook_interval,
            self.execution_start,
            self.execution_finish,
            self.completed,
            self.failed,
            self.cancelled,
            self.bulk_id,
        )


@dataclass(slots=True)
class OperationRow:
    bulk_id: int
    sequence: int
    operation_id: int
    status: str
    path: str
    target: str | None
    request_payload: str
    response_payload: str | None


class OutboxEvent(NamedTuple):
    """A ``webhook_events`` row, fields in the order of ``_INSERT_EVENT``'s columns: the batch writes these
    tuples as they are (one is made per operation when transaction webhooks are on)."""

    event_id: str
    programme: str
    bulk_id: str | None
    path: str
    url: str | None
    # JSON of the headers that cannot be derived from the row (a bulk event's webhooks-key): the signed ones
    # are computed from the stored body when the event is sent or listed (simulator/webhooks/outbox.py).
    headers: str
    body: bytes
    delivery_status: str  # PENDING | DELIVERED | FAILED | SKIPPED
    next_attempt_ms: int | None
    created_ms: int


@dataclass(slots=True)
class WriteBatch:
    """Everything one group commit writes. Filled synchronously by the engine, written in one transaction."""

    op_updates: list[tuple[str, str, int, int]] = field(default_factory=list)  # status, response, bulk, seq
    cancel_remaining: list[int] = field(default_factory=list)  # bulks whose SUBMITTED ops become CANCELLED
    bulks: dict[int, BulkRow] = field(default_factory=dict)  # snapshots taken when the batch was sealed
    users: list[tuple[str, str]] = field(default_factory=list)
    instruments: list[tuple[str, str]] = field(default_factory=list)
    # id, kind, identity_id, body, bulk_id, sequence: a body of None is the operation's response (schema 3)
    transactions: list[tuple[str, str, str, str | None, int | None, int | None]] = field(default_factory=list)
    token_touches: dict[str, int] = field(default_factory=dict)
    events: list[OutboxEvent] = field(default_factory=list)
    next_id: int | None = None

    def __len__(self) -> int:
        return len(self.op_updates)

    def is_empty(self) -> bool:
        return not (
            self.op_updates
            or self.cancel_remaining
            or self.bulks
            or self.users
            or self.instruments
            or self.transactions
            or self.token_touches
            or self.events
        )


_OP_COLUMNS = "operation_id, sequence, status, path, request_payload, response_payload"

_INSERT_EVENT = (
    "INSERT INTO webhook_events (event_id, programme, bulk_id, path, url, headers, body, delivery_status, "
    "next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Rows per ``executemany`` between two yields to the loop while a batch is written (~1 ms of SQLite).
_SLICE = 128
#: At most one checkpoint started per this many seconds while commits come (SQLite's default, every
#: 1,000 pages of WAL, came every ~4 MB: about every 50 ms while a bulk runs at full speed).
CHECKPOINT_EVERY_S = 0.2


def _batch_statements(batch: WriteBatch) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """(statement, rows) of everything a batch writes, in order; statements without rows are left out."""
    statements: list[tuple[str, list[tuple[Any, ...]]]] = [
        (
            "UPDATE operations SET status=?, response_payload=? WHERE bulk_id=? AND sequence=?",
            batch.op_updates,
        ),
        (
            "UPDATE operations SET status='CANCELLED' WHERE bulk_id=? AND status='SUBMITTED'",
            [(bulk_id,) for bulk_id in batch.cancel_remaining],
        ),
        ("INSERT OR REPLACE INTO users (id, data) VALUES (?, ?)", batch.users),
        ("INSERT OR REPLACE INTO instruments (id, data) VALUES (?, ?)", batch.instruments),
        (
            "INSERT INTO transactions (id, kind, identity_id, body, bulk_id, sequence) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            batch.transactions,
        ),
        (
            "UPDATE bulks SET status=?, mode=?, webhook_interval=?, execution_start=?, "
            "execution_finish=?, completed=?, failed=?, cancelled=? WHERE bulk_id=?",
            [b.update_tuple() for b in batch.bulks.values()],
        ),
        (
            "UPDATE tokens SET last_used_ms=? WHERE token=?",
            [(ms, tok) for tok, ms in batch.token_touches.items()],
        ),
        (_INSERT_EVENT, batch.events),
        (
            "UPDATE meta SET value=? WHERE key='next_id'",
            [(str(batch.next_id),)] if batch.next_id is not None else [],
        ),
    ]
    return [(sql, rows) for sql, rows in statements if rows]


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._reader_now: sqlite3.Connection | None = None
        # Checkpoints (WAL → database file) run on a connection of their own, beside the writer: see
        # ``_after_commit``.
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint: asyncio.Task[None] | None = None
        self._checkpoint_started = 0.0
        self._write_lock = asyncio.Lock()
        # Whether the outbox may hold a PENDING event. Cleared only by ``next_due_ms`` finding none, under the
        # write lock; set (under it too) by every write that may make one. While it is clear the dispatcher's
        # look after each commit costs nothing: without webhook URLs every event is SKIPPED, and its two
        # queries a commit, each a round trip through the writer's thread, held the write lock for ~7 ms while
        # the loop was busy, so the next commit waited (traced in benchmarks/sim_execute.py: the worker's
        # waits at its back-pressure limit fell from ~130 to ~55 ms of a 10,000-operation run).
        self._outbox_may_pend = True
        self._lock = FileLock(path.with_name(path.name + ".lock"), owner="another simulator")
        # (programme, event_id, created_ms, body, stored headers) → the headers an outbox event is sent
        # with. The store holds no keys: the engine installs its publisher's ``headers_of`` here.
        self.event_headers: Callable[[str, str, int, bytes, dict[str, str]], dict[str, str]] = (
            lambda _programme, _event_id, _created_ms, _body, own: own
        )

    # --- lifecycle ----------------------------------------------------------------------------------
    async def open(self) -> None:
        """Lock, open, migrate and check the file; :class:`StoreError`, nothing left open, if it cannot."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock.acquire(self.path)
            _create_private(self.path)
            await self._connect()
        except BaseException as exc:
            await self.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, InUse):  # its own line already: the file and the other simulator's pid
                raise StoreError(str(exc)) from None
            if isinstance(exc, sqlite3.Error | OSError):
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise StoreError(f"cannot use the simulator database {self.path}: {reason}") from exc
            raise

    async def _connect(self) -> None:
        # The writer's statements run on the loop's thread (``_run_statements``), everything else of it on
        # aiosqlite's; the write lock keeps the two from ever overlapping.
        self._writer = await aiosqlite.connect(self.path, check_same_thread=False)
        for name, (n_args, func) in SQL_FUNCTIONS.items():
            await self._writer.create_function(name, n_args, func, deterministic=False)
        # WAL + synchronous=NORMAL: a committed batch survives a killed process (not a power cut), and
        # readers never block the writer.
        await self._writer.execute("PRAGMA journal_mode=WAL")
        await self._writer.execute("PRAGMA synchronous=NORMAL")
        await self._writer.execute("PRAGMA foreign_keys=OFF")
        # Room for a large batch's pages: a cache that fills up mid-transaction spills to the WAL from the
        # loop's thread (``_run_statements``). 32 MiB at most, only as far as it is used.
        await self._writer.execute("PRAGMA cache_size=-32768")
        await self._migrate()
        await self._check_usable()
        self._reader = await aiosqlite.connect(self.path)
        await self._reader.execute("PRAGMA query_only=1")
        # Short indexed reads (a page of operations) on the loop's thread: see ``page_operations``.
        self._reader_now = sqlite3.connect(self.path, isolation_level=None)
        self._reader_now.execute("PRAGMA query_only=1")
        # The writer no longer checkpoints inside its COMMITs (where a checkpoint held up every commit, and
        # with it the workers, ~40 ms per 10,000 operations); ``_after_commit`` has this one do it.
        self._checkpointer = await aiosqlite.connect(self.path)
        await self._checkpointer.execute("PRAGMA synchronous=NORMAL")
        await self._writer.execute("PRAGMA wal_autocheckpoint=0")

    async def _check_usable(self) -> None:
        """Fail now, not on the first commit: the file must take writes and the tables read at start must
        be readable (a truncated file often opens, then fails on the first page it lacks)."""
        # A read-only file opens, in WAL mode even takes BEGIN IMMEDIATE; writing a page is what fails. Page 1
        # (the header) is rewritten with the version it holds, then rolled back: the file does not change.
        await self.w.execute("BEGIN IMMEDIATE")
        try:
            await self.w.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
        finally:
            await self.w.rollback()
        for table in _LOADED_AT_START:
            async with self.w.execute(f"SELECT * FROM {table}") as cur:
                await cur.fetchall()

    async def close(self) -> None:
        try:
            if self._checkpoint is not None:
                await asyncio.wait([self._checkpoint])  # its thread would run on anyway: let it end
                self._checkpoint = None
            if self._reader_now is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._reader_now.close()
            for conn in (self._reader, self._checkpointer, self._writer):
                if conn is not None:
                    with contextlib.suppress(sqlite3.Error):
                        await conn.close()
        finally:
            self._reader = self._writer = self._checkpointer = self._reader_now = None
            self._lock.release()

    @property
    def w(self) -> aiosqlite.Connection:
        assert self._writer is not None, "store not open"
        return self._writer

    @property
    def _conn_w(self) -> sqlite3.Connection:
        """The writer's sqlite3 connection itself, for ``_run_statements``; only under the write lock."""
        return self.w._conn

    async def _fetch_w(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query on the writer (it sees its own last commit), under the write lock: the writer
        connection is never used by two callers at once (``_run_statements``)."""
        async with self._write_lock:
            return [tuple(r) for r in await self.w.execute_fetchall(sql, args)]

    @property
    def r(self) -> aiosqlite.Connection:
        assert self._reader is not None, "store not open"
        return self._reader

    async def _migrate(self) -> None:
        async with self.w.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this simulator ({len(MIGRATIONS)})"
            )
        if version == len(MIGRATIONS):
            return
        # Migrations may replace secrets (plain tokens and passwords): zero the bytes they free, and
        # checkpoint afterwards so that neither the file's old pages nor the WAL keeps a copy.
        await self.w.execute("PRAGMA secure_delete=ON")
        for i in range(version, len(MIGRATIONS)):
            await self.w.executescript(f"BEGIN; {MIGRATIONS[i]}; PRAGMA user_version={i + 1}; COMMIT;")
        await self.w.execute("PRAGMA secure_delete=OFF")
        if version > 0:
            await self.w.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- meta and seed ------------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        rows = await self._fetch_w("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0][0]) if rows else None

    async def reset(self, users: Iterable[tuple[str, str]], instruments: Iterable[tuple[str, str]]) -> None:
        """Empty every table and write a freshly seeded world (``POST /_sim/reset`` and first start)."""
        async with self._write_lock:
            await self.w.execute("BEGIN")
            for table in (
                "bulks",
                "operations",
                "users",
                "instruments",
                "transactions",
                "tokens",
                "idempotency",
                "webhook_events",
                "webhook_attempts",
                "meta",
            ):
                await self.w.execute(f"DELETE FROM {table}")
            await self.w.executemany("INSERT INTO users (id, data) VALUES (?, ?)", list(users))
            await self.w.executemany("INSERT INTO instruments (id, data) VALUES (?, ?)", list(instruments))
            await self.w.execute("INSERT INTO meta (key, value) VALUES ('next_id', ?)", (str(FIRST_ID),))
            await self.w.execute("INSERT INTO meta (key, value) VALUES ('seeded', '1')")
            await self.w.commit()

    async def load_world_rows(self) -> tuple[list[str], list[str]]:
        users = [r[0] for r in await self._fetch_w("SELECT data FROM users")]
        insts = [r[0] for r in await self._fetch_w("SELECT data FROM instruments")]
        return users, insts

    async def set_meta(self, key: str, value: str) -> None:
        async with self._write_lock:
            await self.w.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            await self.w.commit()

    # --- bulks --------------------------------------------------------------------------------------
    async def load_bulks(self) -> list[BulkRow]:
        rows = await self._fetch_w(
            "SELECT bulk_id, identity_id, programme, kind, status, n, mode, webhook_interval, "
            "execution_start, execution_finish, created_ms, completed, failed, cancelled FROM bulks "
            "ORDER BY bulk_id"
        )
        return [BulkRow(*r) for r in rows]

    async def insert_bulk(
        self,
        bulk: BulkRow,
        operations: Sequence[tuple[int, int, int, str, str, str | None, str]],
        next_id: int,
        idempotency: tuple[str, str, str, int] | None,
    ) -> None:
        """A submission: the bulk, its operations, the id counter and the idempotency record, atomically.

        ``operations`` rows: (bulk_id, sequence, operation_id, status, path, target, request_payload).
        """
        async with self._write_lock:
            await self.w.execute("BEGIN")
            try:
                await self.w.execute(
                    "INSERT INTO bulks (bulk_id, identity_id, programme, kind, status, n, created_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        bulk.bulk_id,
                        bulk.identity_id,
                        bulk.programme,
                        bulk.kind,
                        bulk.status,
                        bulk.n,
                        bulk.created_ms,
                    ),
                )
                await self.w.executemany(
                    "INSERT INTO operations (bulk_id, sequence, operation_id, status, path, target, "
                    "request_payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    operations,
                )
                await self._save_next_id(next_id)
                if idempotency is not None:
                    await self.w.execute(
                        "INSERT OR REPLACE INTO idempotency (key, body_hash, response, created_ms) "
                        "VALUES (?, ?, ?, ?)",
                        idempotency,
                    )
                await self.w.commit()
            except BaseException:
                await self.w.rollback()
                raise

    async def _save_next_id(self, next_id: int) -> None:
        await self.w.execute("UPDATE meta SET value=? WHERE key='next_id'", (str(next_id),))

    async def pending_operations(self, bulk_id: int) -> list[tuple[int, int, str | None, str]]:
        """(sequence, operation_id, target, request_payload) of the SUBMITTED operations, in order."""
        return await self._fetch_w(  # type: ignore[return-value]
            "SELECT sequence, operation_id, target, request_payload FROM operations "
            "WHERE bulk_id=? AND status='SUBMITTED' ORDER BY sequence",
            (bulk_id,),
        )

    async def page_operations(
        self,
        bulk_id: int,
        *,
        offset: int,
        limit: int,
        status: str | None,
        sequence: int | None,
        exclude_sequence: int | None = None,
        total: int | None = None,
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """One page of operations and the count matching the filters (keyset on the indexes), both from one
        snapshot. ``total``: the count when the caller knows it (a bulk's size, unfiltered), not counted.

        A short indexed read, so it runs right here on the loop's thread: through the reader's thread it
        took two thread hand-overs per request, each waiting for the GIL while the loop served others
        (~1,400 pages/s with a p99 of ~23 ms under ``wrk -c20``; benchmarks/sim_growth.py)."""
        where = ["bulk_id=?"]
        args: list[Any] = [bulk_id]
        if status is not None:
            where.append("status=?")
            args.append(status)
        if sequence is not None:
            where.append("sequence=?")
            args.append(sequence)
        if exclude_sequence is not None:
            where.append("sequence<>?")
            args.append(exclude_sequence)
        clause = " AND ".join(where)
        unfiltered = status is None and sequence is None and exclude_sequence is None
        conn = self._reader_now
        assert conn is not None, "store not open"
        conn.execute("BEGIN")
        try:
            if total is None or not unfiltered:
                (total,) = conn.execute(f"SELECT count(*) FROM operations WHERE {clause}", args).fetchone()
            rows: list[tuple[Any, ...]] = []
            if total > offset:
                if unfiltered:
                    # Unfiltered pages seek straight to the sequence range on the primary key.
                    sql = (
                        f"SELECT {_OP_COLUMNS} FROM operations WHERE bulk_id=? AND sequence>? "
                        "ORDER BY sequence LIMIT ?"
                    )
                    qargs: list[Any] = [bulk_id, offset, limit]
                else:
                    sql = (
                        f"SELECT {_OP_COLUMNS} FROM operations WHERE {clause} "
                        "ORDER BY sequence LIMIT ? OFFSET ?"
                    )
                    qargs = [*args, limit, offset]
                rows = conn.execute(sql, qargs).fetchall()
        finally:
            conn.execute("COMMIT")
        return int(total), rows

    async def operation(self, bulk_id: int, sequence: int) -> tuple[Any, ...] | None:
        conn = self._reader_now
        assert conn is not None, "store not open"
        row = conn.execute(
            f"SELECT {_OP_COLUMNS} FROM operations WHERE bulk_id=? AND sequence=?", (bulk_id, sequence)
        ).fetchone()
        return None if row is None else tuple(row)

    # --- the group commit ---------------------------------------------------------------------------
    async def commit_batch(self, batch: WriteBatch) -> None:
        # Shielded: a caller cancelled mid-commit (shutdown) must not leave a transaction half open.
        await asyncio.shield(self._commit_batch(batch))

    async def _commit_batch(self, batch: WriteBatch) -> None:
        async with self._write_lock:
            w = self.w
            if w.in_transaction:  # a failed commit can leave its transaction open (disk full at COMMIT)
                await w.rollback()
            if not self._outbox_may_pend and any(e.delivery_status == "PENDING" for e in batch.events):
                self._outbox_may_pend = True
            try:
                await self._run_statements(batch)
                # The COMMIT, where the WAL is written, runs on the connection's thread: the loop never waits
                # on the disk.
                await w.commit()
                self._after_commit()
            except BaseException:
                try:
                    await w.rollback()
                except Exception:  # the disk that failed the commit may fail the rollback too
                    log.warning("rollback after a failed commit failed as well", exc_info=True)
                raise

    def _after_commit(self) -> None:
        """Start a PASSIVE checkpoint on the checkpointer's thread unless one ran in the last
        ``CHECKPOINT_EVERY_S``. It copies committed WAL frames into the database file beside the writer,
        which keeps committing meanwhile (SQLite's own would run inside a COMMIT, the writer waiting)."""
        if self._checkpointer is None or (self._checkpoint is not None and not self._checkpoint.done()):
            return
        now = time.monotonic()
        if now - self._checkpoint_started >= CHECKPOINT_EVERY_S:
            self._checkpoint_started = now
            self._checkpoint = asyncio.create_task(self._run_checkpoint(self._checkpointer))

    @staticmethod
    async def _run_checkpoint(conn: aiosqlite.Connection) -> None:
        try:
            await conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # a full disk, say: the frames stay in the WAL for the next one
            log.debug("checkpoint failed: %s", exc)

    async def _run_statements(self, batch: WriteBatch) -> None:
        """The batch's statements, on the loop's thread, in slices of ``_SLICE`` rows with a yield between.

        Inside a transaction they only change pages in the writer's cache (CPU, no I/O). Run through the
        connection's thread they took a thread hand-over per row, each waiting for the GIL while workers
        kept the loop busy, so commits and operations ran one after the other instead of side by side
        (profiled: ~40% of a 10,000-operation run). The write lock keeps every other use of the writer
        connection out meanwhile, and the yields keep the loop serving reads."""
        conn = self._conn_w
        conn.execute("BEGIN")
        for sql, rows in _batch_statements(batch):
            for start in range(0, len(rows), _SLICE):
                conn.executemany(sql, rows[start : start + _SLICE])
                if len(rows) > _SLICE:
                    await asyncio.sleep(0)

    # --- tokens -------------------------------------------------------------------------------------
    async def load_tokens(self) -> list[tuple[str, str, str, int]]:
        """(token digest, api_key, user_id, last_used_ms) of every live token: only digests are stored."""
        return await self._fetch_w(  # type: ignore[return-value]
            "SELECT token, api_key, user_id, last_used_ms FROM tokens WHERE revoked=0"
        )

    async def save_token(self, token: str, api_key: str, user_id: str, now_ms: int) -> None:
        """Persist a newly issued token: its digest, never the token (the ``token`` column holds digests)."""
        async with self._write_lock:
            await self.w.execute(
                "INSERT INTO tokens (token, api_key, user_id, last_used_ms) VALUES (?, ?, ?, ?)",
                (token_digest(token), api_key, user_id, now_ms),
            )
            await self.w.commit()

    async def revoke_token(self, token: str) -> None:
        async with self._write_lock:
            await self.w.execute("UPDATE tokens SET revoked=1 WHERE token=?", (token_digest(token),))
            await self.w.commit()

    async def save_user(self, user_id: str, data: str) -> None:
        """Login bookkeeping (failed attempts, lock-out) outside any operation batch."""
        async with self._write_lock:
            await self.w.execute("INSERT OR REPLACE INTO users (id, data) VALUES (?, ?)", (user_id, data))
            await self.w.commit()

    # --- idempotency --------------------------------------------------------------------------------
    async def idempotency_record(self, key: str) -> tuple[str, str, int] | None:
        rows = await self._fetch_w(
            "SELECT body_hash, response, created_ms FROM idempotency WHERE key=?", (key,)
        )
        return (rows[0][0], rows[0][1], int(rows[0][2])) if rows else None

    # --- webhook outbox -----------------------------------------------------------------------------
    async def due_events(self, now_ms: int, limit: int = 100) -> list[tuple[Any, ...]]:
        """(event_id, url, headers with the signed ones, body, attempt_count) of the PENDING events due."""
        if not self._outbox_may_pend:
            return []
        rows = await self._fetch_w(
            "SELECT event_id, url, programme, created_ms, headers, body, attempt_count FROM webhook_events "
            "WHERE delivery_status='PENDING' AND next_attempt_ms<=? ORDER BY seq LIMIT ?",
            (now_ms, limit),
        )
        return [
            (event_id, url, self._headers(programme, event_id, created, bytes(body), own), bytes(body), count)
            for event_id, url, programme, created, own, body, count in rows
        ]

    def _headers(
        self, programme: str, event_id: str, created_ms: int, body: bytes, own: str
    ) -> dict[str, str]:
        return self.event_headers(programme, event_id, created_ms, body, json.loads(own))

    async def next_due_ms(self) -> int | None:
        """When the earliest PENDING event is due (epoch ms), or None when none is PENDING."""
        if not self._outbox_may_pend:
            return None
        async with self._write_lock:
            rows = await self.w.execute_fetchall(
                "SELECT min(next_attempt_ms) FROM webhook_events WHERE delivery_status='PENDING'"
            )
            (first,) = next(iter(rows))
            if first is None:
                self._outbox_may_pend = False  # still under the lock: no write came in between
                return None
        return int(first)

    async def record_attempts(
        self, results: Sequence[tuple[str, int, int | None, str | None, str, int | None, int]]
    ) -> None:
        """Attempts and new event states: (event_id, at_ms, status, error, new_state, next_ms, count)."""
        async with self._write_lock:
            if any(new_state == "PENDING" for _e, _at, _st, _err, new_state, _n, _c in results):
                self._outbox_may_pend = True
            await self.w.execute("BEGIN")
            try:
                await self.w.executemany(
                    "INSERT INTO webhook_attempts (event_id, at_ms, status, error) VALUES (?, ?, ?, ?)",
                    [(e, at, st, err) for e, at, st, err, _s, _n, _c in results],
                )
                await self.w.executemany(
                    "UPDATE webhook_events SET delivery_status=?, next_attempt_ms=?, attempt_count=? "
                    "WHERE event_id=? AND url IS NOT NULL",  # a sent event: its id is indexed (schema 4)
                    [(s, n, c, e) for e, _at, _st, _err, s, n, c in results],
                )
                await self.w.commit()
            except BaseException:
                await self.w.rollback()
                raise

    async def requeue_event(self, event_id: str, now_ms: int) -> bool:
        async with self._write_lock:
            self._outbox_may_pend = True
            cur = await self.w.execute(
                "UPDATE webhook_events SET delivery_status='PENDING', next_attempt_ms=?, attempt_count=0 "
                "WHERE event_id=? AND url IS NOT NULL",
                (now_ms, event_id),
            )
            await self.w.commit()
            return cur.rowcount > 0

    async def list_webhooks(self, bulk_id: str | None) -> list[dict[str, Any]]:
        sql = (
            "SELECT event_id, path, headers, body, delivery_status, bulk_id, url, programme, created_ms "
            "FROM webhook_events" + (" WHERE bulk_id=?" if bulk_id is not None else "") + " ORDER BY seq"
        )
        args: tuple[Any, ...] = (bulk_id,) if bulk_id is not None else ()
        async with self.r.execute(sql, args) as cur:
            events = await cur.fetchall()
        ids = [e[0] for e in events]
        attempts: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            marks = ",".join("?" * len(ids))
            async with self.r.execute(
                f"SELECT event_id, at_ms, status, error FROM webhook_attempts WHERE event_id IN ({marks}) "
                "ORDER BY rowid",
                ids,
            ) as cur:
                for event_id, at_ms, status, error in await cur.fetchall():
                    entry: dict[str, Any] = {"at": at_ms}
                    if status is not None:
                        entry["status"] = status
                    if error is not None:
                        entry["error"] = error
                    attempts[event_id].append(entry)
        out = []
        for event_id, path, headers, body, state, b_id, url, programme, created_ms in events:
            raw = bytes(body)
            out.append(
                {
                    "eventId": event_id,
                    "path": path,
                    "url": url,
                    "bulkId": b_id,
                    "headers": self._headers(programme, event_id, created_ms, raw, headers),
                    "body": json.loads(raw.decode("utf-8")),
                    "attempts": attempts[event_id],
                    "deliveryStatus": state,
                }
            )
        return out
