"""The store's schema versioning: migrations apply from scratch, a newer file is refused, data survives."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from simulator.store.schema import MIGRATIONS
from simulator.store.store import Store, StoreError


async def test_migrations_apply_once_and_record_the_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    await store.open()
    await store.set_meta("probe", "kept")
    await store.close()
    con = sqlite3.connect(tmp_path / "s.db")
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"operations_by_status", "bulks_by_identity", "webhook_events_due"} <= indexes
    con.close()
    again = Store(tmp_path / "s.db")
    await again.open()  # no migration runs twice
    assert await again.get_meta("probe") == "kept"
    await again.close()


async def test_a_file_from_a_newer_simulator_is_refused(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "new.db")
    con.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    con.close()
    store = Store(tmp_path / "new.db")
    with pytest.raises(StoreError, match="newer than this simulator"):
        await store.open()
    await store.close()
