"""The simulator's SQLite schema as an ordered list of migrations (``PRAGMA user_version`` = applied count).

Indexes follow the queries: operations are paged by ``(bulk_id, sequence)`` (the primary key) and filtered by
``(bulk_id, status, sequence)``; bulks are listed per identity in id order; the webhook outbox is scanned
for due events by ``next_attempt_ms`` among its PENDING events, and only its sent events (those with a URL)
are looked up by id.

Some migrations transform data in Python: they call the SQL functions of ``SQL_FUNCTIONS``, which the store
registers on its writer connection before migrating.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from simulator.credentials import hash_password, token_digest


def _hash_user_password(data: str) -> str:
    """A ``users.data`` JSON row with its plain password replaced by a salted hash (None stays None: an
    invite still open)."""
    row: dict[str, Any] = json.loads(data)
    if row.get("password") is not None:
        row["password"] = hash_password(row["password"])
    return json.dumps(row)


#: name → (number of arguments, function), for migrations that transform rows.
SQL_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "sim_token_digest": (1, token_digest),
    "sim_hash_user_password": (1, _hash_user_password),
}

MIGRATIONS: list[str] = [
    # 1: the whole model
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE bulks (
        bulk_id INTEGER PRIMARY KEY,
        identity_id TEXT NOT NULL,
        programme TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        mode TEXT,
        webhook_interval INTEGER,
        execution_start INTEGER,
        execution_finish INTEGER,
        created_ms INTEGER NOT NULL,
        completed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        cancelled INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX bulks_by_identity ON bulks (identity_id, bulk_id);

    CREATE TABLE operations (
        bulk_id INTEGER NOT NULL,
        sequence INTEGER NOT NULL,
        operation_id INTEGER NOT NULL,
        status TEXT NOT NULL,
        path TEXT NOT NULL,
        target TEXT,
        request_payload TEXT NOT NULL,
        response_payload TEXT,
        PRIMARY KEY (bulk_id, sequence)
    ) WITHOUT ROWID;
    CREATE INDEX operations_by_status ON operations (bulk_id, status, sequence);

    CREATE TABLE users (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE instruments (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE transactions (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, identity_id TEXT NOT NULL, body TEXT NOT NULL
    );

    CREATE TABLE tokens (
        token TEXT PRIMARY KEY,
        api_key TEXT NOT NULL,
        user_id TEXT NOT NULL,
        last_used_ms INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        body_hash TEXT NOT NULL,
        response TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );

    CREATE TABLE webhook_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        programme TEXT NOT NULL,
        bulk_id TEXT,
        path TEXT NOT NULL,
        url TEXT,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        delivery_status TEXT NOT NULL,
        attempt_count INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER,
        created_ms INTEGER NOT NULL
    );
    CREATE INDEX webhook_events_due ON webhook_events (delivery_status, next_attempt_ms);
    CREATE INDEX webhook_events_by_bulk ON webhook_events (bulk_id, seq);

    CREATE TABLE webhook_attempts (
        event_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        status INTEGER,
        error TEXT
    );
    CREATE INDEX webhook_attempts_by_event ON webhook_attempts (event_id);
    """,
    # 2: secrets at rest. ``tokens.token`` holds the SHA-256 of the token from now on (the column keeps its
    # name), users' passwords become salted hashes (simulator/credentials.py). Plain values are converted in
    # place; the store overwrites the freed bytes and checkpoints so that no copy is left in the file.
    """
    UPDATE tokens SET token = sim_token_digest(token);
    UPDATE users SET data = sim_hash_user_password(data);
    """,
    # 3: room per operation. A transaction an operation created *is* that operation's response: it is kept
    # once, in ``operations.response_payload``, and the transaction row points at it with ``(bulk_id,
    # sequence)``; ``body`` holds a body only when it is not the response (NULL otherwise). WITHOUT ROWID:
    # one b-tree keyed by id instead of a table plus the index of its text key. Rows of older files keep
    # their bodies. The outbox's due index covers PENDING events only: the others are never looked up by
    # due time, and most events (SKIPPED without a webhook URL, then DELIVERED) stay out of it.
    """
    CREATE TABLE transactions_v3 (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        identity_id TEXT NOT NULL,
        body TEXT,
        bulk_id INTEGER,
        sequence INTEGER
    ) WITHOUT ROWID;
    INSERT INTO transactions_v3 (id, kind, identity_id, body)
        SELECT id, kind, identity_id, body FROM transactions;
    DROP TABLE transactions;
    ALTER TABLE transactions_v3 RENAME TO transactions;

    DROP INDEX IF EXISTS webhook_events_due;
    CREATE INDEX webhook_events_due ON webhook_events (next_attempt_ms) WHERE delivery_status = 'PENDING';
    """,
    # 4: only events that are sent are looked up by id (an attempt's result, a requeue: both have a URL), so
    # only they are indexed by it. Event ids are random UUID4s (the call-ref), and every SKIPPED event's
    # entry in the column's UNIQUE index was an insert at a random place of a b-tree that grows by one per
    # operation: ~30 ms of SQLite per 10,000 operations, a sixth of a run at op delay 0
    # (benchmarks/sim_execute.py). SQLite cannot drop a column's UNIQUE: the table is copied without it,
    # keeping its rows, their seq and the AUTOINCREMENT counter.
    """
    CREATE TABLE webhook_events_v4 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        programme TEXT NOT NULL,
        bulk_id TEXT,
        path TEXT NOT NULL,
        url TEXT,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        delivery_status TEXT NOT NULL,
        attempt_count INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER,
        created_ms INTEGER NOT NULL
    );
    INSERT INTO webhook_events_v4 (seq, event_id, programme, bulk_id, path, url, headers, body,
            delivery_status, attempt_count, next_attempt_ms, created_ms)
        SELECT seq, event_id, programme, bulk_id, path, url, headers, body, delivery_status, attempt_count,
            next_attempt_ms, created_ms
        FROM webhook_events ORDER BY seq;
    UPDATE sqlite_sequence SET seq = max(seq, coalesce(
            (SELECT seq FROM sqlite_sequence WHERE name = 'webhook_events'), 0))
        WHERE name = 'webhook_events_v4';
    DROP TABLE webhook_events;
    ALTER TABLE webhook_events_v4 RENAME TO webhook_events;
    CREATE UNIQUE INDEX webhook_events_sent ON webhook_events (event_id) WHERE url IS NOT NULL;
    CREATE INDEX webhook_events_due ON webhook_events (next_attempt_ms) WHERE delivery_status = 'PENDING';
    CREATE INDEX webhook_events_by_bulk ON webhook_events (bulk_id, seq);
    """,
]
