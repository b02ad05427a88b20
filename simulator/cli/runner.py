"""The headless scenario runner behind ``bulkdash-sim scenario run NAME [--seed N] [--db PATH]``.

A harness, not a part of the simulator: it starts a simulator in this process on a temporary database and an
ephemeral port, plus the dashboard's own webhook receiver (``bulkdash.webhooks``) as the customer's
endpoint, and then follows the scenario the way the dashboard would, over real HTTP: it sets the scenario up
through ``POST /_sim/scenarios/{name}``, then logs in, executes, pauses/resumes/cancels when the scenario
says so and polls to the end with the dashboard's own client (``bulkdash.api.client.WeavrClient``), so with
its retry rules and no others: reads (GETs) are retried on 503, timeouts and refused connections, a short
429 is waited out as its ``x-ratelimit-reset`` says; a POST without an ``idempotency-ref`` is never sent
twice, since the first may have worked. A poll that still fails is polled again later, as the dashboard's
poller does; an action that fails is reported as it was answered. It then waits for webhook deliveries to
settle and compares what happened with the scenario's ``[expect]`` table.

:class:`ScenarioReport` holds the outcome; :meth:`ScenarioReport.fingerprint` is the normalised operation
outcomes and webhook sequences (ids and timestamps masked) that two runs with one seed must share byte for
byte.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bulkdash.api.budget import BudgetExhausted, RequestBudget
from bulkdash.api.client import ApiError, CallRecord, WeavrClient
from bulkdash.contract.models import FINAL_BULK_STATUSES
from bulkdash.webhooks import ReceivedWebhook, ReceiverSettings, TimestampVerdict, WebhookReceiver
from bulkdash.webhooks.records import EventKind
from simulator.scenarios import Scenario
from simulator.server import start_embedded
from simulator.settings import SimSettings
from simulator.world.seed import DEMO_PASSWORD, PROGRAMMES

TRAINEE_EMAIL = "alice@acme.example"  # root user of identity 1001, the identity scenarios are set up for
#: Generated ids start here after a reset (docs/behaviour.md §3.1); seeded ids (4001, 7001…) stay readable.
FIRST_GENERATED_ID = 1_000_001
_TIMESTAMP_KEYS = frozenset(
    {"creationTimestamp", "executionTimestamp", "publishedTimestamp", "executionStart"}
)
#: The client's back-off between retries, scaled to a simulator on loopback (the dashboard's suits the
#: internet: 0.5 s doubling to 8 s). What is retried is the client's rule, unchanged.
BACKOFF_S, MAX_BACKOFF_S = 0.02, 0.25
T = TypeVar("T")


class ScenarioFailed(RuntimeError):
    """The run could not be played to the end (not a mismatch: something broke or timed out)."""


# --- the dashboard's client, counted ------------------------------------------------------------------


@dataclass(slots=True)
class ClientStats:
    requests: int = 0
    throttled: int = 0  # 429s seen
    server_errors: int = 0  # 5xx seen
    waited_s: float = 0.0  # time spent backing off

    def count(self, record: CallRecord) -> None:
        self.requests += 1
        if record.status == 429:
            self.throttled += 1
        elif record.status is not None and record.status >= 500:
            self.server_errors += 1


class TraineeClient:
    """The Multi API through the dashboard's client: its retry rules, results as the JSON the server sent.

    ``transport`` replaces the network (tests); ``poll_s`` is how long a failed read waits before it is
    sent again.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        deadline: float,
        *,
        poll_s: float = 0.025,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.deadline = deadline
        self.poll_s = poll_s
        self.stats = ClientStats()
        self.api = WeavrClient(
            base_url,
            api_key,
            # No quota of our own (the simulator's limits are off); a 429 still blocks until its reset.
            budget=RequestBudget(windows=()),
            on_call=self.stats.count,
            transport=transport,
            backoff_s=BACKOFF_S,
            max_backoff_s=MAX_BACKOFF_S,
            sleep=self._sleep,
            timeout_s=30.0,
        )

    async def aclose(self) -> None:
        await self.api.aclose()

    async def _sleep(self, seconds: float) -> None:
        self.stats.waited_s += seconds
        await asyncio.sleep(seconds)

    async def _read(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """A read, sent again after ``poll_s`` (or a 429's reset) while it fails with a 5xx, a 429 or no
        answer — a GET changes nothing — until the deadline; any other refusal ends the run."""
        while True:
            try:
                return await call()
            except BudgetExhausted as exc:  # a 429's reset is still in force: nothing was sent
                wait, why = exc.wait_s, exc.reason
            except ApiError as exc:
                if exc.status is not None and exc.status < 500 and exc.status != 429:
                    raise ScenarioFailed(f"{what}: {exc}") from None
                wait, why = self.poll_s, str(exc)
                if exc.retry_at is not None:
                    wait = max(wait, exc.retry_at - self.api.budget.clock())
            if time.monotonic() + wait > self.deadline:
                raise ScenarioFailed(f"gave up on {what}: still {why} at the deadline")
            await self._sleep(wait)

    async def login(self, email: str) -> None:
        try:
            await self.api.login(email, DEMO_PASSWORD)
        except (ApiError, BudgetExhausted) as exc:
            raise ScenarioFailed(f"login failed: {exc}") from None

    async def bulk(self, bulk_id: str) -> dict[str, Any]:
        details = await self._read(f"GET /bulks/{bulk_id}", lambda: self.api.get_bulk(bulk_id))
        return details.dump()

    async def operation(self, bulk_id: str, sequence: int) -> dict[str, Any] | None:
        page = await self._read(
            f"GET /bulks/{bulk_id}/operations?sequence={sequence}",
            lambda: self.api.list_operations(bulk_id, sequence=sequence),
        )
        return page.operations[0].dump() if page.operations else None

    async def operations(self, bulk_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = await self._read(
                f"GET /bulks/{bulk_id}/operations?offset={len(out)}",
                functools.partial(self.api.list_operations, bulk_id, offset=len(out), limit=100),
            )
            out.extend(o.dump() for o in page.operations)
            if not page.operations or len(out) >= page.count:
                return out

    async def action(self, bulk_id: str, name: str, body: dict[str, Any] | None = None) -> ApiError | None:
        """``POST /bulks/{bulk_id}/{name}`` sent once (the client never repeats it): None when it was done,
        else the refusal."""
        calls = {
            "execute": lambda: self.api.execute(
                bulk_id, (body or {}).get("mode"), (body or {}).get("webhookInterval")
            ),
            "pause": lambda: self.api.pause(bulk_id),
            "resume": lambda: self.api.resume(bulk_id),
            "cancel": lambda: self.api.cancel(bulk_id),
        }
        try:
            await calls[name]()
        except ApiError as exc:
            return exc
        except BudgetExhausted as exc:  # a 429 of an earlier read still in force: nothing was sent
            return ApiError(429, exc.reason)
        return None


def _answer(refused: ApiError | None) -> str:
    """How an action was answered, for the report's notes."""
    return "204" if refused is None else f"{refused.status} ({refused.message})"


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
    """Attempted = COMPLETED + FAILED (docs/behaviour.md §6.4): cancelled operations never ran."""
    counts = record.counts or {}
    return counts.get("COMPLETED", 0) + counts.get("FAILED", 0)


def clip_payload(text: str | None, limit: int = 100) -> str:
    """A response payload for one line: whole if it fits, else cut after the last top-level field that
    fits (``{"errorCode":"X", …}``), never in the middle of a name or a value."""
    text = text or ""
    if len(text) <= limit:
        return text
    try:
        body = json.loads(text)
    except ValueError:
        return text  # not JSON: shown whole rather than cut anywhere
    if not isinstance(body, dict):
        return text
    kept: list[str] = []
    for key, value in body.items():
        field_text = f"{json.dumps(key)}:{json.dumps(value, separators=(',', ':'))}"
        if len("{" + ",".join([*kept, field_text]) + ", …}") > limit and kept:
            break
        kept.append(field_text)
    rest = len(kept) < len(body)
    return "{" + ",".join(kept) + (", …}" if rest else "}")


def answer_key_lines(scenario: Scenario) -> list[str]:
    """The checklist with its answers, for a presenter: each question, the correct choice, the explanation
    and the evidence, on lines of their own."""
    lines = ["Answer key:"]
    for n, q in enumerate(scenario.questions, 1):
        lines += [
            f"  {n}. {q.question}",
            f"     correct: {q.correct}. {q.choices[q.correct - 1]}",
            f"     why: {q.answer}",
            *(f"     evidence: {fact.describe()}" for fact in q.facts()),
        ]
    return lines


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
            lines.append(f"    #{op['sequence']} FAILED {clip_payload(op.get('responsePayload'))}")
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


async def _set_up(scenario: Scenario, seed: int, http: httpx.AsyncClient, receiver: WebhookReceiver) -> str:
    """The shared set-up (what the dashboard calls too), through the control API: the new bulk's id."""
    resp = await http.put("/_sim/config", json={"webhookBaseUrl": {"P1": receiver.url}})
    resp.raise_for_status()
    resp = await http.post(f"/_sim/scenarios/{scenario.name}", json={"seed": seed, "execute": False})
    if resp.status_code != 201:
        raise ScenarioFailed(f"set-up failed: {resp.status_code} {resp.text}")
    bulk_id: str = resp.json()["bulkId"]
    return bulk_id


async def _intervene(scenario: Scenario, client: TraineeClient, bulk_id: str, notes: list[str]) -> bool:
    """Pause (then resume) or cancel while the operation the scenario names is RUNNING; whether the bulk
    was seen PAUSED."""
    run = scenario.run
    at = run.pause_at or run.cancel_at
    if at is None:
        return False
    action = "pause" if run.pause_at else "cancel"
    if not await _wait_running(client, bulk_id, at, run.poll_interval_ms / 1000):
        notes.append(f"operation {at} was already done: too late to {action}")
        return False
    # The operation in flight finishes first; the 204 comes once the new state is stored (§5.3).
    refused = await client.action(bulk_id, action)
    notes.append(f"{action} while operation {at} was RUNNING → {_answer(refused)}")
    if action != "pause" or refused is not None:
        return False
    paused_seen = (await client.bulk(bulk_id))["status"] == "PAUSED"
    await asyncio.sleep(run.resume_after_ms / 1000)
    refused = await client.action(bulk_id, "resume")
    notes.append(f"resume after {run.resume_after_ms} ms → {_answer(refused)}")
    return paused_seen


async def _play(
    scenario: Scenario,
    seed: int,
    http: httpx.AsyncClient,
    client: TraineeClient,
    receiver: WebhookReceiver,
) -> ScenarioReport:
    started = time.monotonic()
    bulk_id = await _set_up(scenario, seed, http, receiver)
    await client.login(TRAINEE_EMAIL)
    refused = await client.action(bulk_id, "execute", scenario.execute.body())
    if refused is not None:
        raise ScenarioFailed(f"execute: {refused}")
    notes: list[str] = []
    paused_seen = await _intervene(scenario, client, bulk_id, notes)
    poll_s = scenario.run.poll_interval_ms / 1000
    while (bulk := await client.bulk(bulk_id))["status"] not in FINAL_BULK_STATUSES:
        if time.monotonic() > client.deadline:
            raise ScenarioFailed(f"bulk {bulk_id} still {bulk['status']} at the deadline")
        await asyncio.sleep(poll_s)
    elapsed = time.monotonic() - started
    outbox = await _settle_webhooks(http, bulk_id, client.deadline)
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
            deadline = time.monotonic() + timeout_s
            client = TraineeClient(
                server.url + "/multi",
                programme.api_key,
                deadline,
                poll_s=scenario.run.poll_interval_ms / 1000,
            )
            try:
                async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as http:
                    play = _play(scenario, seed, http, client, receiver)
                    return await asyncio.wait_for(play, timeout_s + 5)
            finally:
                await client.aclose()
        finally:
            await server.stop()
            await receiver.stop()


def run_scenario_sync(
    scenario: Scenario,
    seed: int | None = None,
    *,
    db: Path | None = None,
    echo: Callable[[str], None] = print,
    answers: bool = False,
) -> int:
    """``bulkdash-sim scenario run``: play, print the summary (and with ``answers`` the checklist's answer
    key, which a trainee running it must not see by default), return the exit code (0 MATCH, 1 otherwise)."""
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
        if answers:
            for line in answer_key_lines(scenario):
                echo(line)
        else:
            echo(
                f"{len(scenario.questions)} checklist questions: "
                "play them in 'bulkdash train', or add --answers for the answer key"
            )
    return 0 if report.matched else 1


__all__ = [
    "ClientStats",
    "ScenarioFailed",
    "ScenarioReport",
    "TraineeClient",
    "answer_key_lines",
    "clip_payload",
    "run_scenario",
    "run_scenario_sync",
]
