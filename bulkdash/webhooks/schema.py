"""The receiver's SQLite schema as an ordered list of migrations (``PRAGMA user_version`` = applied count).

Append new migrations at the end; never edit one that has shipped, since existing history files have
already applied it. Indexes follow the queries: history per bulk in id order, and the duplicate lookup of
the first accepted request with a given call-ref.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: one row per request received
    """
    CREATE TABLE webhooks (
        id INTEGER PRIMARY KEY,
        received_at_ms INTEGER NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        body_size INTEGER NOT NULL,
        body_truncated INTEGER NOT NULL,
        json_ok INTEGER NOT NULL,
        kind TEXT NOT NULL,
        call_ref TEXT,
        published_ts_ms INTEGER,
        sig_v2 TEXT NOT NULL,
        sig_v1 TEXT NOT NULL,
        ts_verdict TEXT NOT NULL,
        key_verdict TEXT NOT NULL,
        http_status INTEGER NOT NULL,
        error TEXT,
        duplicate_of INTEGER,
        client TEXT,
        bulk_id TEXT,
        bulk_status TEXT
    );
    CREATE INDEX webhooks_by_bulk ON webhooks (bulk_id, id);
    CREATE INDEX webhooks_by_call_ref ON webhooks (call_ref, id);
    """,
]
