"""The simulator's database file holds no secret in the clear: tokens as digests, passwords as salted hashes,
an older file converted in place; the file, its -wal/-shm and its lock file are readable by the owner only."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.credentials import hash_password, token_digest, verify_password
from simulator.server import Simulator, start_embedded
from simulator.settings import SimSettings
from simulator.store.store import Store
from simulator.world.seed import DEMO_PASSWORD
from tests.conftest import wait_for
from tests.simulator.helpers import Api, login, sim_settings, transfer

SUFFIXES = ("", "-wal", "-shm", ".lock")


def file_bytes(db: Path) -> bytes:
    """The database and its WAL, as anyone who can read the files sees them."""
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def modes(db: Path) -> dict[str, int]:
    return {
        s: stat.S_IMODE(os.stat(db.with_name(db.name + s)).st_mode)
        for s in SUFFIXES
        if db.with_name(db.name + s).exists()
    }


async def run_to_the_end(api: Api, items: list[dict[str, Any]]) -> None:
    bulk_id = await api.submit(items)
    assert (await api.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
    await wait_for(lambda: api.bulk(bulk_id), lambda b: b["status"] not in ("SUBMITTED", "RUNNING"))


class Served:
    """A simulator served on loopback that can be stopped and started again on the same file."""

    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        self.sim: Simulator | None = None
        self._stop: Any = None

    async def start(self) -> httpx.AsyncClient:
        self.sim, server = await start_embedded(self.settings)
        self._stop = server.stop
        return httpx.AsyncClient(base_url=server.url, trust_env=False)

    async def stop(self) -> None:
        if self._stop is not None:
            await self._stop()
            self._stop = None


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    s = Served(sim_settings(tmp_path))
    try:
        yield s
    finally:
        await s.stop()


async def test_no_token_or_password_reaches_the_file_and_it_is_private(served: Served) -> None:
    db = served.settings.db
    async with await served.start() as client:
        alice = await login(client)
        for n in (3, 5):
            await run_to_the_end(alice, [transfer(1)] * n)
        assert served.sim is not None
        await served.sim.engine.flush()
        secrets = (alice.token.encode(), DEMO_PASSWORD.encode())
        while_running = file_bytes(db)
        assert db.with_name(db.name + "-wal").exists()  # the WAL is part of what was searched
        assert not [s for s in secrets if s in while_running]
        assert token_digest(alice.token).encode() in while_running  # what is stored instead
        assert set(modes(db)) == set(SUFFIXES)
        assert modes(db) == dict.fromkeys(SUFFIXES, 0o600)
    await served.stop()
    assert not [s for s in (alice.token.encode(), DEMO_PASSWORD.encode()) if s in file_bytes(db)]


async def test_tokens_survive_a_restart_and_a_revoked_one_stays_revoked(served: Served) -> None:
    async with await served.start() as client:
        alice = await login(client)
        frank = await login(client, "frank@acme.example")
        assert (await frank.post("/logout")).status_code == 204
    await served.stop()
    async with await served.start() as client:
        alice.client = frank.client = client
        assert (await alice.get("/bulks")).status_code == 200  # found by the digest of what is presented
        assert (await frank.get("/bulks")).status_code == 401
        wrong = await client.post(
            "/multi/login_with_password",
            headers={"api-key": alice.key},
            json={"email": "alice@acme.example", "password": {"value": DEMO_PASSWORD + "x"}},
        )
        assert wrong.status_code == 403


async def test_invites_still_follow_whether_a_password_is_set(served: Served) -> None:
    async with await served.start() as client:
        users = {u["email"]: u for u in (await client.get("/_sim/world/1001")).json()["users"]}
    assert users["alice@acme.example"]["inviteConsumed"] is True
    assert users["gina@acme.example"]["inviteConsumed"] is False  # seeded without a password


def _downgrade_to_plain_secrets(db: Path, token: str) -> None:
    """Turn a current file into what schema version 1 wrote: plain passwords, a plain token, 0644."""
    con = sqlite3.connect(db)
    for uid, data in con.execute("SELECT id, data FROM users").fetchall():
        row = json.loads(data)
        if row["password"] is not None:
            row["password"] = DEMO_PASSWORD
            con.execute("UPDATE users SET data=? WHERE id=?", (json.dumps(row), uid))
    con.execute("UPDATE tokens SET token=? WHERE token=?", (token, token_digest(token)))
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for suffix in SUFFIXES:
        path = db.with_name(db.name + suffix)
        if path.exists():
            path.chmod(0o644)


async def test_an_older_file_is_converted_in_place(served: Served) -> None:
    db = served.settings.db
    async with await served.start() as client:
        alice = await login(client)
    await served.stop()
    _downgrade_to_plain_secrets(db, alice.token)
    assert alice.token.encode() in file_bytes(db) and DEMO_PASSWORD.encode() in file_bytes(db)

    store = Store(db)
    await store.open()
    try:
        contents = file_bytes(db)
        assert alice.token.encode() not in contents
        assert DEMO_PASSWORD.encode() not in contents  # nor left in freed space or the old WAL
        assert modes(db) == dict.fromkeys(SUFFIXES, 0o600)  # an existing file we own is tightened
        users, _ = await store.load_world_rows()
        stored = {json.loads(u)["email"]: json.loads(u)["password"] for u in users}
        assert stored["gina@acme.example"] is None  # an open invite stays open
        assert verify_password(stored["alice@acme.example"], DEMO_PASSWORD)
        assert [t[0] for t in await store.load_tokens()] == [token_digest(alice.token)]
    finally:
        await store.close()

    async with await served.start() as client:
        alice.client = client
        assert (await alice.get("/bulks")).status_code == 200  # the converted token still works
        await login(client)  # and so does the converted password


def test_password_hashes_are_salted_and_checked() -> None:
    first, second = hash_password("pw"), hash_password("pw")
    assert first != second and "pw" not in first.split("$", 1)[1]
    assert verify_password(first, "pw") and verify_password(second, "pw")
    assert not verify_password(first, "pW")
    assert not verify_password("pw", "pw")  # a plain value is never taken for a hash


async def test_a_token_renewal_reaches_its_stored_digest(tmp_path: Path) -> None:
    from simulator.engine.auth import TokenBook
    from simulator.store.store import WriteBatch
    from simulator.world.seed import build_seed_world

    store = Store(tmp_path / "s.db")
    await store.open()
    try:
        book = TokenBook(build_seed_world(lambda: "1"), ttl_ms=300_000)
        token = book.issue("sim-api-key-P1", "2001", 1_000)
        await store.save_token(token, "sim-api-key-P1", "2001", 1_000)
        assert book.resolve("sim-api-key-P1", f"Bearer {token}", 9_000) is not None
        await store.commit_batch(WriteBatch(token_touches=book.due_touches()))
        assert await store.load_tokens() == [(token_digest(token), "sim-api-key-P1", "2001", 9_000)]
    finally:
        await store.close()
