"""The headless scenario runner behind ``bulkdash-sim scenario run NAME [--seed N] [--db PATH]``.

It starts a simulator in this process on a temporary database and an ephemeral port, plus the dashboard's
own webhook receiver (``bulkdash.webhooks``) as the customer's endpoint, and then behaves like a careful
trainee's client over real HTTP (httpx): it sets the scenario up through ``POST /_sim/scenarios/{name}``,
logs in, executes, pauses/resumes/cancels when the scenario says so, polls to the end — honouring
``x-ratelimit-reset`` on 429 and backing off on 500/503 — waits for webhook deliveries to settle, and
compares what happened with the scenario's ``[expect]`` table.

:class:`ScenarioReport` holds the outcome; :meth:`ScenarioReport.fingerprint` is the normalised operation
outcomes and webhook sequences (ids and timestamps masked) that two runs with one seed must share byte for
byte.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bulkdash.webhooks import ReceivedWebhook, ReceiverSettings, TimestampVerdict, WebhookReceiver
from bulkdash.webhooks.records import EventKind
from simulator.scenarios import Scenario
from simulator.server import start_embedded
from simulator.settings import SimSettings
from simulator.world.seed import DEMO_PASSWORD, PROGRAMMES

FINAL = frozenset({"COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"})
TRAINEE_EMAIL = "alice@acme.example"  # root user of identity 1001, the identity scenarios are set up for
#: Generated ids start here after a reset (BEHAVIOR §3.1); seeded ids (4001, 7001…) stay readable.
FIRST_GENERATED_ID = 1_000_001
_TIMESTAMP_KEYS = frozenset(
    {"creationTimestamp", "executionTimestamp", "publishedTimestamp", "executionStart"}
)


class ScenarioFailed(RuntimeError):
    """The run could not be played to the end (not a mismatch: something broke or timed out)."""


# --- a careful client ---------------------------------------------------------------------------------


@dataclass(slots=True)
class ClientStats:
    requests: int = 0
    throttled: int = 0  # 429s seen
    server_errors: int = 0  # 500/503s seen
    waited_s: float = 0.0  # time spent backing off


class TraineeClient:
    """The Multi API as a well-behaved client uses it: retries what a fault refused, never a business 4xx."""

    def __init__(self, http: httpx.AsyncClient, api_key: str, deadline: float) -> None:
        self.http = http
        self.api_key = api_key
        self.deadline = deadline
        self.token: str | None = None
        self.stats = ClientStats()

    async def call(self, method: str, path: str, json_body: Any = None, **params: Any) -> httpx.Response:
        headers = {"api-key": self.api_key}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        backoff = 0.02
        while True:
            self.stats.requests += 1
            resp = await self.http.request(
                method, "/multi" + path, json=json_body, headers=headers, params=params or None
            )
            if resp.status_code == 429:
                self.stats.throttled += 1
                # The header says when the next request will pass: waiting exactly that long is enough.
                wait = float(resp.headers.get("x-ratelimit-reset", "1") or 1) or 0.05
            elif resp.status_code in (500, 502, 503, 504):
                self.stats.server_errors += 1
                wait, backoff = backoff, min(backoff * 2, 0.25)
            else:
                return resp
            if time.monotonic() + wait > self.deadline:
                raise ScenarioFailed(f"gave up on {method} {path}: still {resp.status_code} at the deadline")
            self.stats.waited_s += wait
            await asyncio.sleep(wait)

    async def login(self, email: str) -> None:
        resp = await self.call(
            "POST", "/login_with_password", {"email": email, "password": {"value": DEMO_PASSWORD}}
        )
        if resp.status_code != 200:
            raise ScenarioFailed(f"login failed: {resp.status_code} {resp.text}")
        self.token = resp.json()["token"]

    async def bulk(self, bulk_id: str) -> dict[str, Any]:
        resp = await self.call("GET", f"/bulks/{bulk_id}")
        if resp.status_code != 200:
            raise ScenarioFailed(f"GET /bulks/{bulk_id}: {resp.status_code} {resp.text}")
        return resp.json()

    async def operation(self, bulk_id: str, sequence: int) -> dict[str, Any] | None:
        resp = await self.call("GET", f"/bulks/{bulk_id}/operations", sequence=sequence)
        ops = resp.json().get("operations", []) if resp.status_code == 200 else []
        return ops[0] if ops else None

    async def operations(self, bulk_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            resp = await self.call("GET", f"/bulks/{bulk_id}/operations", offset=len(out), limit=100)
            page = resp.json()
            out.extend(page["operations"])
            if not page["operations"] or len(out) >= page["count"]:
                return out

    async def action(self, bulk_id: str, name: str, body: Any = None) -> httpx.Response:
        return await self.call("POST", f"/bulks/{bulk_id}/{name}", body)


# --- the report -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Check:
    name: str
    expected: Any
    actual: Any
    at_least: bool = False

    @property
    def ok(self) -> bool:
        return self.actual >= self.expected if self.at_least else self.actual == self.expected


def _norm(value: Any) -> Any:
    """Mask what differs between runs by design: timestamps, and ids the simulator generated."""
    if isinstance(value, dict):
        return {k: "<ts>" if k in _TIMESTAMP_KEYS else _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, str) and value.isdigit() and int(value) >= FIRST_GENERATED_ID:
        return "<id>"
    return value


def _payload(text: str | None) -> Any:
    if not text:
        return text
    try:
        return _norm(json.loads(text))
    except ValueError:
        return text


def _attempted(record: ReceivedWebhook) -> int:
    counts = record.counts or {}
    return counts.get("COMPLETED", 0) + counts.get("FAILED", 0) + counts.get("CANCELLED", 0)


@dataclass
class ScenarioReport:
    scenario: Scenario
    seed: int
    bulk_id: str
    bulk: dict[str, Any]
    operations: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    received: list[ReceivedWebhook]
    client: ClientStats
    paused_seen: bool
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    checks: list[Check] = field(default_factory=list)

    # --- facts ----------------------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        return {c["status"]: c["count"] for c in self.bulk.get("operationStatusCounts", [])}

    def webhook_facts(self) -> dict[str, Any]:
        accepted = [r for r in self.received if r.accepted]
        bulk_firsts = [r for r in accepted if r.kind is EventKind.BULK and not r.duplicate]
        attempted = [_attempted(r) for r in bulk_firsts]
        return {
            "published": len(self.outbox),
            "delivered": sum(1 for e in self.outbox if e["deliveryStatus"] == "DELIVERED"),
            "failed": sum(1 for e in self.outbox if e["deliveryStatus"] == "FAILED"),
            "received": len(accepted),
            "rejected": sum(1 for r in self.received if not r.accepted),
            "duplicates": sum(1 for r in accepted if r.duplicate),
            "stale": sum(1 for r in accepted if r.timestamp is TimestampVerdict.STALE),
            "out_of_order": any(b < a for a, b in itertools.pairwise(attempted)),
            "retried": sum(1 for e in self.outbox if len(e["attempts"]) > 1),
        }

    @property
    def matched(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self) -> None:
        """Compare with the scenario's ``[expect]`` table."""
        exp = self.scenario.expect
        checks = [Check("status", exp.status, self.bulk.get("status"))]
        checks += [Check(f"counts.{s}", n, self.counts.get(s, 0)) for s, n in exp.counts.items()]
        if exp.paused is not None:
            checks.append(Check("paused", exp.paused, self.paused_seen))
        if exp.webhooks is not None:
            facts = self.webhook_facts()
            for name, value in exp.webhooks.model_dump(exclude_none=True).items():
                if name == "retried_min":
                    checks.append(Check("webhooks.retried", value, facts["retried"], at_least=True))
                else:
                    checks.append(Check(f"webhooks.{name}", value, facts[name]))
        if exp.client is not None:
            if exp.client.throttled_min is not None:
                checks.append(
                    Check("client.throttled", exp.client.throttled_min, self.client.throttled, True)
                )
            if exp.client.server_errors_min is not None:
                checks.append(
                    Check(
                        "client.server_errors", exp.client.server_errors_min, self.client.server_errors, True
                    )
                )
        self.checks = checks

    def fingerprint(self) -> str:
        """Operation outcomes and webhook sequences, normalised: equal for two runs with one seed."""
        ops = [[o["sequence"], o["status"], _payload(o.get("responsePayload"))] for o in self.operations]
        outbox = [[e["path"], _norm(e["body"]), e["deliveryStatus"]] for e in self.outbox]
        # Deliveries are concurrent (§6.5), so what the receiver saw is compared as a multiset.
        received = sorted(
            json.dumps([r.path, _norm(r.json), r.http_status, r.duplicate], sort_keys=True)
            for r in self.received
        )
        return json.dumps(
            {"bulk": self.bulk.get("status"), "operations": ops, "outbox": outbox, "received": received},
            sort_keys=True,
            separators=(",", ":"),
        )

    # --- printing -------------------------------------------------------------------------------
    def summary_lines(self) -> list[str]:
        s = self.scenario
        counts = self.counts
        facts = self.webhook_facts()
        lines = [
            f"Scenario {s.name}: {s.title} (seed {self.seed})",
            f"  bulk {self.bulk_id}: {s.bulk.size} × {s.bulk.kind.value}, {s.execute.mode} → "
            f"{self.bulk.get('status')} in {self.elapsed_s:.2f} s",
            "  operations: "
            + ", ".join(f"{k} {counts.get(k, 0)}" for k in ("COMPLETED", "FAILED", "CANCELLED")),
        ]
        failures = [o for o in self.operations if o["status"] == "FAILED"]
        for op in failures[:5]:
            lines.append(f"    #{op['sequence']} FAILED {op.get('responsePayload', '')[:100]}")
        if len(failures) > 5:
            lines.append(
                f"    … and {len(failures) - 5} more (GET /bulks/{self.bulk_id}/operations?status=FAILED)"
            )
        lines.append(
            f"  webhooks: {facts['published']} published, {facts['delivered']} delivered, "
            f"{facts['failed']} failed, {facts['retried']} retried; receiver accepted {facts['received']} "
            f"({facts['duplicates']} duplicates, {facts['stale']} stale), rejected {facts['rejected']}"
            + (", bulk events out of order" if facts["out_of_order"] else "")
        )
        c = self.client
        lines.append(
            f"  client: {c.requests} requests, {c.throttled} × 429, {c.server_errors} × 5xx, "
            f"{c.waited_s:.2f} s backing off" + (", saw PAUSED" if self.paused_seen else "")
        )
        lines += [f"  note: {n}" for n in self.notes]
        lines.append("  expectation:")
        for chk in self.checks:
            mark = "ok " if chk.ok else "MISMATCH"
            op = "≥" if chk.at_least else "="
            lines.append(f"    {mark:8} {chk.name}: expected {op} {chk.expected!r}, got {chk.actual!r}")
        lines.append("MATCH" if self.matched else "MISMATCH")
        return lines


# --- playing a scenario ---------------------------------------------------------------------------------


async def _wait_running(client: TraineeClient, bulk_id: str, sequence: int, poll_s: float) -> bool:
    """Wait until operation ``sequence`` is RUNNING (True) or already past it (False)."""
    while True:
        op = await client.operation(bulk_id, sequence)
        status = op["status"] if op else None
        if status == "RUNNING":
            return True
        if status in ("COMPLETED", "FAILED", "CANCELLED"):
            return False
        if time.monotonic() > client.deadline:
            raise ScenarioFailed(f"operation {sequence} never started")
        await asyncio.sleep(poll_s)


async def _settle_webhooks(http: httpx.AsyncClient, bulk_id: str, deadline: float) -> list[dict[str, Any]]:
    """The bulk's outbox once no event is PENDING any more (delivered, failed or skipped)."""
    while True:
        events = (await http.get("/_sim/webhooks", params={"bulkId": bulk_id})).json()
        if not any(e["deliveryStatus"] == "PENDING" for e in events):
            return events
        if time.monotonic() > deadline:
            raise ScenarioFailed("webhook deliveries did not settle before the deadline")
        # The listing carries every event with its attempts: poll a big outbox less often.
        await asyncio.sleep(min(0.5, 0.05 + len(events) / 2000))


async def _play(
    scenario: Scenario, seed: int, http: httpx.AsyncClient, receiver: WebhookReceiver, deadline: float
) -> ScenarioReport:
    started = time.monotonic()
    resp = await http.put("/_sim/config", json={"webhookBaseUrl": {"P1": receiver.url}})
    resp.raise_for_status()
    # The shared set-up (what the dashboard calls too); execution is ours, over the Multi API.
    resp = await http.post(f"/_sim/scenarios/{scenario.name}", json={"seed": seed, "execute": False})
    if resp.status_code != 201:
        raise ScenarioFailed(f"set-up failed: {resp.status_code} {resp.text}")
    bulk_id: str = resp.json()["bulkId"]

    client = TraineeClient(http, PROGRAMMES[0].api_key, deadline)
    await client.login(TRAINEE_EMAIL)
    resp = await client.action(bulk_id, "execute", scenario.execute.body())
    if resp.status_code != 204:
        raise ScenarioFailed(f"execute: {resp.status_code} {resp.text}")

    poll_s = scenario.run.poll_interval_ms / 1000
    notes: list[str] = []
    paused_seen = False
    run = scenario.run
    at = run.pause_at or run.cancel_at
    if at is not None:
        action = "pause" if run.pause_at else "cancel"
        if await _wait_running(client, bulk_id, at, poll_s):
            # The operation in flight finishes first; the 204 comes once the new state is stored (§5.3).
            resp = await client.action(bulk_id, action)
            notes.append(f"{action} while operation {at} was RUNNING → {resp.status_code}")
            if action == "pause" and resp.status_code == 204:
                paused_seen = (await client.bulk(bulk_id))["status"] == "PAUSED"
                await asyncio.sleep(run.resume_after_ms / 1000)
                resp = await client.action(bulk_id, "resume")
                notes.append(f"resume after {run.resume_after_ms} ms → {resp.status_code}")
        else:
            notes.append(f"operation {at} was already done: too late to {action}")

    while (bulk := await client.bulk(bulk_id))["status"] not in FINAL:
        if time.monotonic() > deadline:
            raise ScenarioFailed(f"bulk {bulk_id} still {bulk['status']} at the deadline")
        await asyncio.sleep(poll_s)
    elapsed = time.monotonic() - started
    outbox = await _settle_webhooks(http, bulk_id, deadline)
    operations = await client.operations(bulk_id)
    received = await receiver.history(limit=1_000_000)
    report = ScenarioReport(
        scenario, seed, bulk_id, bulk, operations, outbox, received, client.stats, paused_seen, notes, elapsed
    )
    report.check()
    return report


async def run_scenario(
    scenario: Scenario, seed: int | None = None, *, db: Path | None = None, timeout_s: float = 120.0
) -> ScenarioReport:
    """Play ``scenario`` headless on a fresh simulator (or on ``db``) and return the checked report."""
    seed = scenario.seed if seed is None else seed
    with tempfile.TemporaryDirectory(prefix="bulkdash-scenario-") as tmp:
        settings = SimSettings(
            db=db or Path(tmp) / "sim.db",
            host="127.0.0.1",
            port=0,
            rate_limits="off",  # throttling, when wanted, is the scenario's own token bucket
            op_delay_ms=0,  # the scenario's speed section sets the pace
            webhook_retry_scale=1.0,
            batch_ms=10,
        )
        programme = PROGRAMMES[0]
        receiver = WebhookReceiver(
            ReceiverSettings(
                signing_key=programme.api_key,
                webhooks_key=programme.webhooks_key,
                db_path=Path(tmp) / "webhooks.db",
            )
        )
        _sim, server = await start_embedded(settings)
        try:
            await receiver.start()
            async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as http:
                deadline = time.monotonic() + timeout_s
                return await asyncio.wait_for(_play(scenario, seed, http, receiver, deadline), timeout_s + 5)
        finally:
            await server.stop()
            await receiver.stop()


def run_scenario_sync(
    scenario: Scenario,
    seed: int | None = None,
    *,
    db: Path | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """``bulkdash-sim scenario run``: play, print the summary, return the exit code (0 MATCH, 1 otherwise)."""
    try:
        report = asyncio.run(run_scenario(scenario, seed, db=db))
    except ScenarioFailed as exc:
        echo(f"Scenario {scenario.name}: could not be played to the end: {exc}")
        echo("MISMATCH")
        return 1
    echo(scenario.narrative.strip())
    echo("")
    for line in report.summary_lines():
        echo(line)
    if scenario.questions:
        echo("")
        echo("Self-check:")
        for i, q in enumerate(scenario.questions, 1):
            echo(f"  {i}. {q.question}")
            echo(f"     → {q.choices[q.correct - 1]}. {q.answer}")
    return 0 if report.matched else 1


__all__ = [
    "ClientStats",
    "ScenarioFailed",
    "ScenarioReport",
    "TraineeClient",
    "run_scenario",
    "run_scenario_sync",
]
