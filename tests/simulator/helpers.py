"""Helpers for simulator tests: a logged-in API client, item builders, settings for a fresh database."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from simulator.settings import SimSettings

KEY1 = "sim-api-key-P1"
KEY2 = "sim-api-key-P2"
PASSWORD = "Passw0rd!Sim"


def transfer(
    amount: int = 100,
    *,
    source: str = "4001",
    dest: str = "5002",
    tag: str | None = None,
    dest_type: str = "managed_cards",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "profileId": "3001",
        "source": {"type": "managed_accounts", "id": source},
        "destination": {"type": dest_type, "id": dest},
        "destinationAmount": {"currency": "GBP", "amount": amount},
    }
    if tag:
        body["tag"] = tag
    return {"pathParams": {}, "requestBody": body}


class Api:
    """A logged-in httpx client with small helpers for the bulk endpoints."""

    def __init__(self, client: httpx.AsyncClient, key: str, token: str | None) -> None:
        self.client = client
        self.key = key
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        h = {"api-key": self.key}
        if self.token:
            h["authorization"] = f"Bearer {self.token}"
        return h

    async def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return await self.client.get("/multi" + path, headers={**self.headers, **(headers or {})}, **kw)

    async def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.client.post(
            "/multi" + path, json=json, headers={**self.headers, **(headers or {})}, **kw
        )

    async def submit(self, items: list[dict[str, Any]], path: str = "/bulks/transfers") -> str:
        resp = await self.post(path, json=items)
        assert resp.status_code == 201, resp.text
        return resp.json()["bulkId"]

    async def bulk(self, bulk_id: str) -> dict[str, Any]:
        resp = await self.get(f"/bulks/{bulk_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()


async def login(client: httpx.AsyncClient, email: str = "alice@acme.example", key: str = KEY1) -> Api:
    resp = await client.post(
        "/multi/login_with_password",
        headers={"api-key": key},
        json={"email": email, "password": {"value": PASSWORD}},
    )
    assert resp.status_code == 200, resp.text
    return Api(client, key, resp.json()["token"])


def sim_settings(tmp_path: Path, **overrides: Any) -> SimSettings:
    base: dict[str, Any] = {
        "db": tmp_path / "sim.db",
        "port": 0,
        "op_delay_ms": 0,
        "rate_limits": "off",
        "batch_ms": 5,
    }
    base.update(overrides)
    return SimSettings(**base)


class Gate:
    """Holds the simulator's worker at sequence ``hold_at`` (that operation RUNNING) until released: exact
    pause and cancel points, no sleeps. Install as ``engine.before_operation``."""

    def __init__(self, hold_at: int) -> None:
        self.hold_at = hold_at
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, bulk_id: int, seq: int) -> None:
        if seq == self.hold_at:
            self.reached.set()
            await self.release.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim_process(
    db: Path, port: int, *args: str, env: dict[str, str] | None = None, stdout: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """``python -m simulator serve`` on ``port`` and ``db``; rate limits off unless ``env`` says otherwise."""
    full_env = {**os.environ, "SIM_RATE_LIMITS": "off", **(env or {})}
    cmd = [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--db", str(db), *args]
    return subprocess.Popen(cmd, env=full_env, stdout=stdout, stderr=subprocess.PIPE)


async def sim_is_up(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/_sim/config")).status_code == 200
    except httpx.TransportError:
        return False


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
