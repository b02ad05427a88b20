"""The bulk engine: submissions, the lifecycle actions, execution workers and the group commit.

State lives in memory (bulk rows, the world, tokens) and reaches the store only through sealed write
batches. One batch holds operation results *and* the world rows they changed *and* the webhook events
they caused, so after a crash the file shows a prefix of history: no operation lost, none applied twice.
GET handlers read ``LiveBulk.view`` — the bulk as last committed — and the store's reader connection, so
what a client sees never runs ahead of what is durable.

Execution keeps awaits out of the per-operation path: a worker runs operations synchronously, yields to
the loop every few operations (or is paced at one operation per ``op_delay_ms``), and a flusher commits
the batch every ``batch_ops`` operations or ``batch_ms`` milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import logging
import math
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from bulkdash.contract.codec import compact_json, compact_json_bytes, loads
from bulkdash.contract.kinds import KINDS, KindSpec, OperationKind
from bulkdash.contract.models import (
    OPERATION_STATUS_ORDER,
    BulkMode,
    BulkProcessExecute,
    BulkProcessProgressEvent,
    BulkStatus,
    OperationStatus,
    status_counts,
)
from bulkdash.contract.validation import ValidItem, cross_item_conflict, validate_submission
from simulator.engine.auth import Principal, TokenBook
from simulator.engine.presenter import Presenter
from simulator.engine.states import BulkAction, InvalidTransition, allowed, bulk_transition, op_outcome
from simulator.errors import Conflict, NotFound, StoreUnavailable
from simulator.operations import HANDLERS, OpResult
from simulator.operations.common import Handler
from simulator.settings import SimSettings
from simulator.store.store import FIRST_ID, BulkRow, Store, WriteBatch
from simulator.webhooks.outbox import BULK_END_PATH, WebhookPublisher
from simulator.world.model import Identity, Instrument, Programme, User, World
from simulator.world.seed import build_seed_world

log = logging.getLogger("bulkdash.simulator")

Clock = Callable[[], int]

# Back-pressure: a worker waits for the commit in flight once this many batches' worth of operations are
# pending, so memory runs at most two such batches ahead of the file (tests/simulator/test_integrity.py).
# With checkpoints off the commit path (simulator/store/store.py) the worker seldom reaches it.
AHEAD_BATCHES = 4

# Operations run between two yields to the event loop at op delay 0 while HTTP requests come in
# (``Engine.requests_seen``): the share of the loop that polling clients get while bulks execute. 8 kept a
# GET's p99 under ~15 ms (32 measured 28 ms); 4 gives GETs under ``wrk -c20`` a median 55 % of the bare
# app's rate instead of 50 % on a busy machine (benchmarks/sim_read_latency.py, load ~2), with as many
# operations run meanwhile within the noise. Without requests a worker yields every ``YIELD_EVERY_IDLE``
# operations (a request arriving then waits for at most that many, ~1.5 ms): each yield is a turn of the
# loop, and on a busy machine (load ~2) those turns at 8 cost a fifth of a run (benchmarks/sim_execute.py,
# 10,000 transfers: 296 ms at 8, 242 at 64, 232 at 128; ~3 % when a core is free). The back-pressure check
# stays every ``YIELD_EVERY`` operations.
YIELD_EVERY = 4
YIELD_EVERY_IDLE = 64
# Turns of the loop a worker still yields every ``YIELD_EVERY`` operations after it last saw a request:
# a client keeping requests in flight leaves turns without one between its requests.
BUSY_TURNS = 8

INTERNAL_ERROR = {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}


def paced_due(previous_due: float | None, now: float, delay_s: float) -> float:
    """When the operation whose delay starts at ``now`` runs (event-loop time): one delay after the previous
    operation's delay ended, so that a run is paced at one operation per delay. Sleeping the delay itself
    each time let every sleep's overshoot (~1 ms for the loop's timer, plus the operation's own work) add
    up: 10,000 operations at 50 ms took 516 s, and at a demo pace of 2.5 ms each took ~40 % longer than
    asked. After a gap longer than one delay (the first operation, a pause, a hold, a store outage) the
    pace starts again from ``now``: a run never makes up lost time in a burst."""
    if previous_due is None or now - previous_due > delay_s:
        return now + delay_s
    return previous_due + delay_s


# What an operation in flight ends in (states.py decides, §5.2), looked up once: the inner loop only asks
# whether the single endpoint answered 2xx.
_SUCCEEDED: str = op_outcome(200).value
_FAILED: str = op_outcome(500).value


_heap_frozen = False


def _freeze_startup_heap() -> None:
    """Once per process, when the first simulator has started: collect, then move every object alive now
    (modules, pydantic schemas, the seed) out of the cyclic collector's view. A full collection then only
    walks what was made since; it walked ~60,000 startup objects, a 35–40 ms stall of the event loop every
    few bulks (measured with a loop-lag probe while 10,000-operation bulks ran), which set GETs' p99."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        if not gc.isenabled():
            # The host manages the collector: the dashboard turns it off while it starts and freezes once
            # connected; a collection here would walk the whole start-up heap (~70 ms before the first poll).
            return
        gc.collect()
        gc.freeze()


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class NoFaults:
    """The engine's fault hook when no fault controller is installed."""

    operations = None


@dataclass(slots=True)
class LiveBulk:
    row: BulkRow  # the live state, changed by workers and actions
    view: BulkRow  # the state as last committed: what readers see
    spec: KindSpec
    in_flight: int | None = None  # sequence of the operation being run
    stop_request: bool = False
    worker: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    # Every lifecycle action on this bulk runs under its lock: the transition *and* the worker's start or
    # stop happen inside it, so no interleaving of clients can start a second worker or lose a stop.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # a worker waiting for the store gives way
    # Encoded read bodies, each with the view it was made from: a new commit (a new view) makes them stale.
    listed: tuple[BulkRow, bytes] | None = None
    detailed: tuple[BulkRow, bool, bytes] | None = None


class EncodedBody(Mapping[str, Any]):
    """A read's JSON body, already encoded (``encoded`` is what the HTTP layer sends); as a mapping it reads
    like the decoded body, decoded on first use, for callers in Python."""

    __slots__ = ("_decoded", "encoded")

    def __init__(self, encoded: bytes) -> None:
        self.encoded = encoded
        self._decoded: dict[str, Any] | None = None

    def _body(self) -> dict[str, Any]:
        if self._decoded is None:
            self._decoded = loads(self.encoded)
        return self._decoded

    def __getitem__(self, key: str) -> Any:
        return self._body()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._body())

    def __len__(self) -> int:
        return len(self._body())


@dataclass(slots=True)
class _Run:
    """What a worker needs at hand for every operation of its bulk."""

    lb: LiveBulk
    identity: Identity
    programme: Programme
    stop_on_failure: bool
    interval: int | None  # progress webhook every this many operations (None: no progress webhooks)
    bulk_id_text: str = ""
    # The kind's handler, looked up once per run (``run_operation`` hashed a StrEnum per operation).
    handler: Handler = field(init=False)

    def __post_init__(self) -> None:
        self.bulk_id_text = str(self.lb.row.bulk_id)
        self.handler = HANDLERS[self.lb.spec.kind]


@dataclass(slots=True)
class SubmitResult:
    status: int  # 201 (created or idempotent replay)
    body: dict[str, Any]
    replay: bool


class Engine:
    def __init__(self, settings: SimSettings, store: Store, clock: Clock = wall_clock_ms) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._next_id = FIRST_ID
        self.world: World = build_seed_world(self.next_id)
        self.tokens = TokenBook(self.world, settings.token_ttl_s * 1000)
        self.publisher = WebhookPublisher(
            settings.webhook_base_urls(),
            settings.progress_webhook_path,
            settings.transaction_webhooks,
            programme_of=lambda programme_id: self.world.programmes[programme_id],
        )
        store.event_headers = self.publisher.headers_of
        self.bulks: dict[int, LiveBulk] = {}
        self._by_identity: dict[str, list[LiveBulk]] = {}  # identity id → its bulks in id order (GET /bulks)
        self._pending = WriteBatch()
        self._dirty_bulks: set[int] = set()
        self._flush_lock = asyncio.Lock()
        self._submit_lock = asyncio.Lock()
        self._kick = asyncio.Event()
        self._flush_scheduled: asyncio.TimerHandle | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        # One writer of truth (README, "How the simulator stays correct"): a batch whose commit failed is
        # kept here and committed again, before anything sealed after it, until it lands. Meanwhile workers
        # wait before their next operation and writes answer 503; reads keep serving the last commit.
        self._unstored: WriteBatch | None = None
        self.store_down: str | None = None  # why the store cannot write, while it cannot
        self._store_down_since = 0.0
        self._store_ok = asyncio.Event()
        self._store_ok.set()
        self.store_retry_s = 0.5  # between attempts to commit a failed batch (tests make it short)
        # The world as last committed (id → object), for readers: balances never run ahead of the file.
        self._stored_users: dict[str, User] = {}
        self._stored_instruments: dict[str, Instrument] = {}
        self.on_committed: list[Callable[[WriteBatch], None]] = []  # e.g. wake the webhook dispatcher
        # Called with a sealed batch before it is committed, i.e. before any reader (the dispatcher polling
        # the outbox on its own timer) can see its events: the fault layer decides each event's fate here.
        self.on_sealed: list[Callable[[WriteBatch], None]] = []
        self.maintenance = False
        # Awaited when an operation has started (RUNNING) and before it runs: tests hold a bulk at an exact
        # sequence with it, and a presenter's "step" control can run one operation at a time.
        self.before_operation: Callable[[int, int], Awaitable[None]] | None = None
        # Fault plans (simulator/faults): the assembly (simulator/server.py) installs a FaultController here;
        # its layers are None while no plan uses them, so the per-operation cost without a plan is one
        # attribute test. The engine itself never imports the HTTP or delivery fault layers.
        self.faults: Any = NoFaults()
        # Presenter controls (simulator/engine/presenter.py): pause the world, step, speed, fault now. Runtime
        # state only; while inactive the per-operation cost is one attribute test.
        self.presenter = Presenter(settings)
        # Set by the HTTP layer on every request, cleared by a worker when it yields: while requests come
        # in, workers yield to the loop every ``YIELD_EVERY`` operations, else every ``YIELD_EVERY_IDLE``.
        self.requests_seen = False

    # --- ids ----------------------------------------------------------------------------------------
    def next_id(self) -> str:
        value = self._next_id
        self._next_id += 1
        return str(value)

    # --- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.store.open()
        if await self.store.get_meta("seeded") is None:
            await self._write_fresh_seed()
        await self._load()
        self._closing = False
        _freeze_startup_heap()
        self._flusher = asyncio.create_task(self._flush_loop(), name="sim-flusher")
        for lb in self.bulks.values():
            if lb.row.status == BulkStatus.RUNNING:
                # A bulk that was running when the process stopped carries on by itself.
                self._start_worker(lb)

    async def stop(self) -> None:
        for lb in list(self.bulks.values()):
            if lb.worker is not None:
                lb.worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lb.worker
        if self._flusher is not None:
            self._closing = True
            self._kick.set()
            await self._flusher
            self._flusher = None
        # What ran before the stop is committed; a cancelled worker's uncommitted tail is simply lost
        # together with its world effects, and runs again on the next start.
        try:
            await self.flush()
        except StoreUnavailable:
            log.error(
                "stopping with uncommitted work: the store cannot write; it runs again on the next start"
            )
        await self.store.close()

    async def restore_identity(self, identity_id: str) -> None:
        """The identity's accounts, cards and demo users as Appendix A has them, committed (a scenario's
        set-up: its brief describes that world). Bulks, operations, transactions and the id counter stay."""
        self.world.restore_identity(build_seed_world(self.next_id), identity_id)
        await self.flush()

    async def reset(self) -> None:
        """``POST /_sim/reset``: stop every worker, restore Appendix A, restart the id counter, and put the
        presenter back to running at speed 1."""
        self.presenter.reset()
        for lb in list(self.bulks.values()):
            if lb.worker is not None:
                lb.worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lb.worker
        async with self._flush_lock:
            self._pending = WriteBatch()
            self._unstored = None
            self._dirty_bulks.clear()
            self.world.take_dirty()
            try:
                await self._write_fresh_seed()
            except sqlite3.Error as exc:
                raise self._store_failed(exc) from exc
            self._store_recovered()
        await self._load()

    async def _write_fresh_seed(self) -> None:
        seed = build_seed_world(self.next_id)
        await self.store.reset(
            [(u.id, json.dumps(asdict(u))) for u in seed.users.values()],
            [(i.id, json.dumps(asdict(i))) for i in seed.instruments.values()],
        )

    async def _load(self) -> None:
        self._next_id = int(await self.store.get_meta("next_id") or FIRST_ID)
        world = build_seed_world(self.next_id)
        users, insts = await self.store.load_world_rows()
        world.users.clear()
        world._emails.clear()
        for data in users:
            world.add_user(User(**json.loads(data)), dirty=False)
        world.instruments = {}
        for data in insts:
            inst = Instrument(**json.loads(data))
            world.instruments[inst.id] = inst
        self.world = world
        self._stored_users = {u.id: replace(u) for u in world.users.values()}
        self._stored_instruments = {i.id: replace(i) for i in world.instruments.values()}
        self.tokens.world = world
        self.tokens.load(await self.store.load_tokens())
        self.bulks = {}
        self._by_identity = {}
        for row in await self.store.load_bulks():  # in id order
            self._add_bulk(LiveBulk(row=row, view=replace(row), spec=KINDS[OperationKind(row.kind)]))

    # --- group commit -------------------------------------------------------------------------------
    def _mark(self, lb: LiveBulk) -> None:
        self._dirty_bulks.add(lb.row.bulk_id)

    def _schedule_flush(self) -> None:
        if len(self._pending.op_updates) >= self.settings.batch_ops:
            self._kick.set()
        elif self._flush_scheduled is None:
            loop = asyncio.get_running_loop()
            self._flush_scheduled = loop.call_later(self.settings.batch_ms / 1000, self._kick.set)

    def _seal(self) -> WriteBatch:
        """Take everything pending as one batch. Synchronous: world rows are serialised right here, so
        the batch holds exactly the state that goes with its operation results."""
        batch, self._pending = self._pending, WriteBatch()
        users, insts, txs = self.world.take_dirty()
        batch.users = [(u.id, json.dumps(asdict(u))) for u in users]
        batch.instruments = [(i.id, json.dumps(asdict(i))) for i in insts]
        # Workers store an operation's transactions with it (``_run_one``); any left here came otherwise.
        batch.transactions += [(t.id, t.kind, t.identity_id, compact_json(t.body), None, None) for t in txs]
        for bulk_id in self._dirty_bulks:
            lb = self.bulks.get(bulk_id)
            if lb is not None:
                batch.bulks[bulk_id] = replace(lb.row)
        self._dirty_bulks = set()
        batch.token_touches = self.tokens.due_touches()
        batch.next_id = self._next_id
        return batch

    async def flush(self) -> None:
        """Commit everything pending now; returns once it is durable and visible to readers.

        Raises ``StoreUnavailable`` when the store cannot write: the batch is then kept and committed again
        (first, so batches land in order) by the next flush, which the flusher retries by itself."""
        async with self._flush_lock:
            if self._flush_scheduled is not None:
                self._flush_scheduled.cancel()
                self._flush_scheduled = None
            self._kick.clear()
            if self.store._writer is None:
                return
            while True:
                retrying = self._unstored is not None
                if self._unstored is not None:
                    batch = self._unstored
                else:
                    batch = self._seal()
                    if batch.is_empty() and batch.next_id is None:
                        return
                    for callback in self.on_sealed:
                        callback(batch)
                try:
                    await self.store.commit_batch(batch)
                except Exception as exc:
                    # Disk full or an I/O error (sqlite3.OperationalError) clears by itself; anything else
                    # is a bug that a retry will not fix, but dropping the batch would leave memory ahead of
                    # the file for good, so it is kept all the same (inputs are range-checked at the edge
                    # so that nothing the store cannot hold gets this far).
                    self._unstored = batch
                    raise self._store_failed(exc) from exc
                self._unstored = None
                self._committed(batch)
                if self.store_down is not None:
                    self._store_recovered()
                if not retrying:
                    return
                # The retried batch has landed; what was sealed after it follows in its own transaction.

    def _committed(self, batch: WriteBatch) -> None:
        """A batch is durable: readers' views move to it, then the listeners hear of it."""
        for bulk_id, row in batch.bulks.items():
            lb = self.bulks.get(bulk_id)
            if lb is not None:
                lb.view = row
        for _id, data in batch.users:
            user = User(**json.loads(data))
            self._stored_users[user.id] = user
        for _id, data in batch.instruments:
            inst = Instrument(**json.loads(data))
            self._stored_instruments[inst.id] = inst
        for callback in self.on_committed:
            callback(batch)

    # --- the store's health -------------------------------------------------------------------------
    def _store_failed(self, exc: BaseException) -> StoreUnavailable:
        """Note that the store cannot write (logged once per outage, not once per batch) and have the
        flusher try again by itself. Returns the error to raise to the caller."""
        reason = str(exc) or type(exc).__name__
        if self.store_down is None:
            self._store_down_since = time.monotonic()
            log.error(
                "the store cannot write (%s): writes answer 503 and runs wait until it can; nothing is lost",
                reason,
            )
            self._store_ok.clear()
        self.store_down = reason
        self._kick.set()
        return StoreUnavailable(reason)

    def _store_recovered(self) -> None:
        if self.store_down is None:
            return
        log.warning(
            "the store writes again after %.1f s; runs carry on", time.monotonic() - self._store_down_since
        )
        self.store_down = None
        self._store_ok.set()
        for lb in self.bulks.values():
            lb.wake.set()

    def check_writable(self) -> None:
        """Writes are refused (503, ``Retry-After``) while the store cannot write."""
        if self.store_down is not None:
            raise StoreUnavailable(self.store_down)

    async def _wait_for_store(self, lb: LiveBulk) -> bool:
        """Hold a worker before its next operation while the store cannot write, so that memory never runs
        more than the failed batch (and what was already in flight) ahead of the file. False when the bulk
        was asked to stop meanwhile."""
        while self.store_down is not None and not lb.stop_request:
            lb.wake.clear()
            await lb.wake.wait()
        return not lb.stop_request

    async def _commit_caught_up(self) -> None:
        """Back-pressure for workers on a slow disk: wait for the commit in flight to end (not for the
        pending batch's own: operations keep running while it is written), then have the flusher take
        what is pending."""
        if self._flush_lock.locked():
            async with self._flush_lock:
                pass
        self._kick.set()
        await asyncio.sleep(0)

    @contextlib.asynccontextmanager
    async def commits_held(self) -> AsyncIterator[None]:
        """Hold group commits (operations keep running in memory): for reads that must see one state."""
        async with self._flush_lock:
            yield

    async def _flush_loop(self) -> None:
        while not self._closing:
            await self._kick.wait()
            try:
                await self.flush()
            except StoreUnavailable:
                # The failed batch is kept (``_unstored``); try it again after a pause, by ourselves.
                await asyncio.sleep(self.store_retry_s)
                self._kick.set()
            except Exception:  # a bug in a callback must not kill the flusher
                log.exception("group commit failed")
                await asyncio.sleep(self.store_retry_s)
                self._kick.set()

    # --- reads --------------------------------------------------------------------------------------
    def _visible(self, principal: Principal, bulk_id: str) -> LiveBulk:
        lb = self.bulks.get(int(bulk_id))
        if lb is None or lb.row.identity_id != principal.identity.id or not principal.identity.bulk_enabled:
            raise NotFound()
        return lb

    @staticmethod
    def _shown_in_flight(lb: LiveBulk) -> int | None:
        """The sequence a reader sees RUNNING: the operation in flight, but never one past the first that the
        committed rows still hold SUBMITTED. Between an operation's end and the commit of its result (up to
        ``batch_ms``) the next one is already in flight; shown as it was, operation 2 read SUBMITTED beside
        operation 3 RUNNING, a state that never was (operations end in sequence order; a trainee stepping a
        paused world saw one go back from RUNNING to SUBMITTED). The committed frontier is shown RUNNING then:
        with the counts, which are the committed ones, that is how the bulk stood just before it ended."""
        if lb.in_flight is None or lb.view.status != BulkStatus.RUNNING:
            return None
        v = lb.view
        return min(lb.in_flight, v.completed + v.failed + 1)

    @staticmethod
    def _counts(lb: LiveBulk, running: bool) -> dict[str, int]:
        v = lb.view
        flying = 1 if running else 0
        return {
            "SUBMITTED": v.n - v.completed - v.failed - v.cancelled - flying,
            "RUNNING": flying,
            "COMPLETED": v.completed,
            "FAILED": v.failed,
            "CANCELLED": v.cancelled,
        }

    @staticmethod
    def _fields(lb: LiveBulk) -> dict[str, Any]:
        """The bulk as last committed, in ``BulkProcess``'s order and with its None properties left out, as
        ``WireModel.dump`` writes it (held to the models' output by tests/simulator/test_read_bodies.py)."""
        v = lb.view
        out: dict[str, Any] = {}
        for key, value in (
            ("bulkId", str(v.bulk_id)),
            ("status", v.status),
            ("submittedItemsCount", v.n),
            ("operation", lb.spec.operation),
            ("mode", v.mode),
            ("executionStart", v.execution_start),
            ("executionFinish", v.execution_finish),
        ):
            if value is not None:
                out[key] = str(value) if isinstance(value, StrEnum) else value
        return out

    def _listed_body(self, lb: LiveBulk) -> bytes:
        """The bulk's entry in ``GET /bulks``, encoded once per committed view."""
        cached = lb.listed
        if cached is None or cached[0] is not lb.view:
            cached = lb.listed = (lb.view, compact_json_bytes(self._fields(lb)))
        return cached[1]

    def list_bulks(self, principal: Principal, offset: int, limit: int, status: str | None) -> EncodedBody:
        """``GET /bulks`` as its JSON body: the caller's bulks in id order from their own index, each entry
        encoded once per commit (it used to build a pydantic model per bulk per request)."""
        if not principal.identity.bulk_enabled:
            raise Conflict("NO_CONFIG_FOUND")
        mine = self._by_identity.get(principal.identity.id, [])
        if status is not None:
            mine = [lb for lb in mine if lb.view.status == status]
        page = mine[offset : offset + limit]
        entries = b",".join(self._listed_body(lb) for lb in page)
        head = f'{{"count":{len(mine)},"responseCount":{len(page)},"bulkProcesses":['.encode()
        return EncodedBody(head + entries + b"]}")

    def get_bulk(self, principal: Principal, bulk_id: str) -> EncodedBody:
        """``GET /bulks/{id}`` as its JSON body, encoded once per committed view (and per whether an
        operation is in flight): polling clients ask far more often than a batch commits."""
        lb = self._visible(principal, bulk_id)
        running = lb.in_flight is not None and lb.view.status == BulkStatus.RUNNING
        cached = lb.detailed
        if cached is None or cached[0] is not lb.view or cached[1] != running:
            counts = self._counts(lb, running)
            details = {
                **self._fields(lb),
                "operationStatusCounts": [
                    {"status": s.value, "count": counts[s.value]} for s in OPERATION_STATUS_ORDER
                ],
            }
            cached = lb.detailed = (lb.view, running, compact_json_bytes(details))
        return EncodedBody(cached[2])

    async def list_operations(
        self,
        principal: Principal,
        bulk_id: str,
        offset: int,
        limit: int,
        status: str | None,
        sequence: int | None,
    ) -> EncodedBody:
        """``GET /bulks/{id}/operations`` as its JSON body, written straight from the rows (it built a
        pydantic model per operation; tests/simulator/test_read_bodies.py holds it to the models' output)."""
        lb = self._visible(principal, bulk_id)
        method = lb.spec.method
        # The operation in flight is SUBMITTED in the file but RUNNING to a reader (§5.2).
        flying = self._shown_in_flight(lb)
        if status == OperationStatus.RUNNING:
            rows = []
            if flying is not None and (sequence is None or sequence == flying):
                one = await self.store.operation(lb.row.bulk_id, flying)
                rows = [one] if one is not None and one[2] == "SUBMITTED" else []
            total, page = len(rows), rows[offset : offset + limit]
        else:
            exclude = flying if status == OperationStatus.SUBMITTED else None
            total, page = await self.store.page_operations(
                lb.row.bulk_id,
                offset=offset,
                limit=limit,
                status=status,
                sequence=sequence,
                exclude_sequence=exclude,
                total=lb.row.n,  # used when unfiltered: a bulk's operations are all stored at submission
            )
        ops = []
        for op_id, seq, st, path, req, resp in page:
            op: dict[str, Any] = {
                "operationId": str(op_id),
                "sequence": seq,
                "method": method,
                "path": path,
                "status": "RUNNING" if seq == flying and st == "SUBMITTED" else st,
                "requestPayload": req,
            }
            if resp is not None:  # not run yet: Weavr leaves the property out
                op["responsePayload"] = resp
            ops.append(op)
        return EncodedBody(compact_json_bytes({"count": total, "responseCount": len(ops), "operations": ops}))

    # --- submission ---------------------------------------------------------------------------------
    async def submit(
        self, principal: Principal, spec: KindSpec, payload: Any, idempotency_ref: str | None
    ) -> SubmitResult:
        """§4.1 steps 1–5. Raises ``RequestInvalid`` (400) or ``Conflict`` (409)."""
        items = validate_submission(spec, payload)
        if not principal.identity.bulk_enabled:
            raise Conflict("NO_CONFIG_FOUND")
        self.check_writable()
        async with self._submit_lock:
            idem: tuple[str, str, str, int] | None = None
            if idempotency_ref is not None:
                key = "|".join(
                    (
                        principal.programme.api_key,
                        principal.identity.id,
                        f"{spec.method} {spec.bulk_path}",
                        idempotency_ref,
                    )
                )
                body_hash = hashlib.sha256(
                    json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
                ).hexdigest()
                found = await self.store.idempotency_record(key)
                now = self.clock()
                if found is not None and now - found[2] <= self.settings.idempotency_ttl_s * 1000:
                    if found[0] != body_hash:
                        raise Conflict("ALREADY_SUBMITTED")
                    return SubmitResult(201, json.loads(found[1]), replay=True)
                idem = (key, body_hash, "", now)
            conflict = cross_item_conflict(spec, items)
            if conflict is not None:
                raise Conflict(conflict)
            return await self._create_bulk(principal, spec, items, idem)

    async def _create_bulk(
        self,
        principal: Principal,
        spec: KindSpec,
        items: list[ValidItem],
        idem: tuple[str, str, str, int] | None,
    ) -> SubmitResult:
        bulk_id = int(self.next_id())
        first_op = self._next_id
        self._next_id += len(items)
        rows = []
        for i, item in enumerate(items):
            target = item.path_params.get(spec.path_param) if spec.path_param else None
            payload = "" if item.body is None else compact_json(item.body)
            rows.append(
                (
                    bulk_id,
                    i + 1,
                    first_op + i,
                    "SUBMITTED",
                    spec.single_path(item.path_params),
                    target,
                    payload,
                )
            )
        created = {"bulkId": str(bulk_id), "operationCount": len(items), "path": spec.single_template}
        if idem is not None:
            idem = (idem[0], idem[1], compact_json(created), idem[3])
        row = BulkRow(
            bulk_id=bulk_id,
            identity_id=principal.identity.id,
            programme=principal.programme.id,
            kind=spec.kind.value,
            status=BulkStatus.SUBMITTED.value,
            n=len(items),
            created_ms=self.clock(),
        )
        try:
            await self.store.insert_bulk(row, rows, self._next_id, idem)
        except Exception as exc:  # nothing was stored, nothing in memory changed but a few unused ids
            raise self._store_failed(exc) from exc
        self._add_bulk(LiveBulk(row=row, view=replace(row), spec=spec))
        return SubmitResult(201, created, replay=False)

    def _add_bulk(self, lb: LiveBulk) -> None:
        """A bulk joins the engine, and its identity's list in id order (ids only grow)."""
        lb.done.set()
        self.bulks[lb.row.bulk_id] = lb
        self._by_identity.setdefault(lb.row.identity_id, []).append(lb)

    # --- lifecycle actions --------------------------------------------------------------------------
    # Each action takes the bulk's lock for its whole length: check, stop the worker, transition, start the
    # worker, commit. The transition table (states.py) decides; nothing else here does.
    async def execute(self, principal: Principal, bulk_id: str, body: BulkProcessExecute) -> None:
        lb = self._managed(principal, bulk_id)
        async with lb.lock:
            self.check_writable()
            if not allowed(lb.row.status, BulkAction.EXECUTE):
                raise Conflict("INVALID_STATE")
            # No await from here to the transition: two bulks of one kind cannot both pass this check.
            active = self._active(lb.row.identity_id)
            if any(o.row.kind == lb.row.kind for o in active):
                raise Conflict("DUPLICATE_OPERATION_TYPE")
            if len(active) >= self.settings.max_active_bulks:
                raise Conflict("TOO_MANY_REQUESTS")
            row = lb.row
            row.status = bulk_transition(row.status, BulkAction.EXECUTE)
            row.mode = body.mode or BulkMode.ON_FAILURE_CONTINUE.value
            row.webhook_interval = body.webhookInterval
            row.execution_start = self.clock()
            self._mark(lb)
            # Started before the commit: if the commit fails it is retried until it lands, and a bulk
            # that lands RUNNING must have its worker (which waits for the store meanwhile).
            self._start_worker(lb)
            await self.flush()

    async def pause(self, principal: Principal, bulk_id: str) -> None:
        lb = self._managed(principal, bulk_id)
        async with lb.lock:
            self.check_writable()
            self._check_allowed(lb, BulkAction.PAUSE)
            await self._stop_worker(lb)
            self._check_allowed(lb, BulkAction.PAUSE)  # the last operation may have finished the bulk
            lb.row.status = bulk_transition(lb.row.status, BulkAction.PAUSE)
            self._mark(lb)
            await self.flush()

    async def resume(self, principal: Principal, bulk_id: str) -> None:
        lb = self._managed(principal, bulk_id)
        async with lb.lock:
            self.check_writable()
            self._check_allowed(lb, BulkAction.RESUME)
            lb.row.status = bulk_transition(lb.row.status, BulkAction.RESUME)
            self._mark(lb)
            self._start_worker(lb)
            await self.flush()

    async def cancel(self, principal: Principal, bulk_id: str) -> None:
        lb = self._managed(principal, bulk_id)
        async with lb.lock:
            self.check_writable()
            self._check_allowed(lb, BulkAction.CANCEL)
            await self._stop_worker(lb)
            self._check_allowed(lb, BulkAction.CANCEL)
            row = lb.row
            row.status = bulk_transition(row.status, BulkAction.CANCEL)
            row.cancelled = row.n - row.completed - row.failed
            self._pending.cancel_remaining.append(row.bulk_id)
            if row.execution_start is not None:
                row.execution_finish = self.clock()
                self._publish_bulk_event(lb, end=True)
            self._mark(lb)
            await self.flush()

    def _active(self, identity_id: str) -> list[LiveBulk]:
        """The identity's executed bulks that have not ended (RUNNING or PAUSED), in id order."""
        return [
            lb
            for lb in self._by_identity.get(identity_id, [])
            if lb.row.status in (BulkStatus.RUNNING, BulkStatus.PAUSED)
        ]

    def active_bulk_ids(self, identity_id: str) -> list[str]:
        return [str(lb.row.bulk_id) for lb in self._active(identity_id)]

    def _managed(self, principal: Principal, bulk_id: str) -> LiveBulk:
        if not principal.identity.bulk_enabled:
            raise Conflict("NO_CONFIG_FOUND")
        return self._visible(principal, bulk_id)

    @staticmethod
    def _check_allowed(lb: LiveBulk, action: BulkAction) -> None:
        if not allowed(lb.row.status, action):
            raise Conflict("INVALID_STATE")

    # --- execution ----------------------------------------------------------------------------------
    def _start_worker(self, lb: LiveBulk) -> None:
        if lb.worker is not None and not lb.worker.done():
            # Impossible by construction (actions hold the bulk's lock and stop the worker first); a second
            # worker would run operations twice, so fail loudly rather than start one.
            raise RuntimeError(f"bulk {lb.row.bulk_id} already has a worker")
        lb.stop_request = False
        lb.done.clear()
        lb.worker = asyncio.create_task(self._work(lb), name=f"bulk-{lb.row.bulk_id}")

    async def _stop_worker(self, lb: LiveBulk) -> None:
        """Ask the worker to stop after the operation in flight and wait until it has."""
        if lb.worker is None or lb.worker.done():
            return
        lb.stop_request = True
        lb.wake.set()  # a worker waiting for the store gives way
        self.presenter.wake()  # an operation held by a paused world gives way
        await lb.done.wait()

    async def _work(self, lb: LiveBulk) -> None:
        try:
            await self._run_operations(lb)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker of bulk %s crashed", lb.row.bulk_id)
        finally:
            lb.in_flight = None
            lb.worker = None
            lb.done.set()

    async def _run_operations(self, lb: LiveBulk) -> None:
        row = lb.row
        pending = await self.store.pending_operations(row.bulk_id)
        # Operations already run but not yet committed are impossible here: pause/cancel flush before
        # answering, and a restart reloads from the file. Guard anyway against running one twice.
        done_in_memory = row.completed + row.failed + row.cancelled
        pending = pending[max(0, len(pending) - (row.n - done_in_memory)) :]
        interval = None
        if row.webhook_interval is not None:
            interval = max(row.webhook_interval, math.ceil(row.n / 4))
        run = _Run(
            lb,
            self.world.identities[row.identity_id],
            self.world.programmes[row.programme],
            row.mode == BulkMode.ON_FAILURE_STOP,
            interval,
        )
        since_yield = 0
        busy_turns = 0  # turns of the loop still given every YIELD_EVERY operations since a request came in
        due: float | None = None  # when the last operation's delay ended (loop time), for paced_due
        loop_time = asyncio.get_running_loop().time
        # The loop keeps awaits and attribute chains off the common path: it is the simulator's inner loop
        # (~10 µs per transfer; profiled in benchmarks/sim_execute.py). Everything unusual — a store outage,
        # a test's gate, a delay, the presenter, a fault plan — is one test each.
        for seq, _op_id, target, payload in pending:
            if self.store_down is not None and not await self._wait_for_store(lb):
                return
            if lb.stop_request or row.status != BulkStatus.RUNNING:
                return
            lb.in_flight = seq
            if self.before_operation is not None:
                await self.before_operation(row.bulk_id, seq)  # the operation is RUNNING meanwhile
            delay: float = self.settings.op_delay_ms
            presenter_active = self.presenter.active
            if presenter_active:
                delay = self.presenter.scaled_ms(delay)
            if delay > 0:
                now = loop_time()
                due = paced_due(due, now, delay / 1000)
                await asyncio.sleep(due - now)
                since_yield = 0
            elif since_yield >= YIELD_EVERY:
                # Let HTTP handlers in without awaiting per operation; back-pressure on a slow disk.
                if len(self._pending.op_updates) >= self.settings.batch_ops * AHEAD_BATCHES:
                    since_yield = 0
                    await self._commit_caught_up()
                else:
                    if self.requests_seen:
                        self.requests_seen = False
                        busy_turns = BUSY_TURNS
                    if busy_turns > 0 or since_yield >= YIELD_EVERY_IDLE:
                        busy_turns = max(busy_turns - 1, 0)
                        since_yield = 0
                        await asyncio.sleep(0)
            since_yield += 1
            if presenter_active or self.faults.operations:
                done = await self._run_unusual(run, seq, target, payload, presenter_active)
            else:
                done = self._run_one(run, seq, target, payload, None, self.clock())
            if done:
                return
        if row.status == BulkStatus.RUNNING and row.completed + row.failed + row.cancelled >= row.n:
            self._finish(lb)

    async def _run_unusual(
        self, run: _Run, seq: int, target: str | None, payload: str, presenter_active: bool
    ) -> bool:
        """One operation under the presenter or a fault plan; True when the run ends here."""
        lb, row = run.lb, run.lb.row
        fault = None
        if presenter_active:
            # A paused world (or a hold at this operation) holds it here (RUNNING); "fault now" replaces it.
            if not await self.presenter.hold(lb, seq):
                return True  # the bulk was paused or cancelled while held: this operation did not run
            fault = self.presenter.take_fault(row, seq, self.faults.operations)
        # Fault plan hook (simulator/faults/operations.py): None unless a plan has operation rules.
        if fault is None and self.faults.operations:
            fault = self.faults.operations.check(row, seq, target, loads(payload) if payload else None)
        if fault is not None and fault.latency_ms:
            latency: float = fault.latency_ms
            if self.presenter.active:
                latency = self.presenter.scaled_ms(latency)
            await asyncio.sleep(latency / 1000)  # a slow operation stays RUNNING longer
        # Replaces the operation: no world change, no transaction webhook.
        forced = fault.result if fault is not None else None
        return self._run_one(run, seq, target, payload, forced, self.clock())

    def _run_one(
        self, run: _Run, seq: int, target: str | None, payload: str, forced: OpResult | None, now: int
    ) -> bool:
        """Run one operation (or take ``forced`` as its result) and record it in the pending batch, with the
        world rows it changed and the events it caused. Synchronous, so all of it lands in one batch.
        True when the run ends with it."""
        lb, row = run.lb, run.lb.row
        batch = self._pending
        world = self.world
        if forced is not None:
            result = forced
        else:
            spec = lb.spec
            try:
                result = run.handler(
                    world,
                    run.identity,
                    {spec.path_param: target} if spec.path_param else {},
                    loads(payload) if payload else None,
                    now,
                )
            except Exception:  # a simulator bug fails the operation, never the whole bulk
                log.exception("operation %s of bulk %s raised", seq, row.bulk_id)
                result = OpResult(500, dict(INTERNAL_ERROR), [])
        succeeded = 200 <= result.status < 300
        body = result.body
        response = "" if body is None else compact_json(body)
        batch.op_updates.append((_SUCCEEDED if succeeded else _FAILED, response, row.bulk_id, seq))
        created = world.new_transactions
        if created:
            # A transaction that is the operation's response is stored once, as the response (schema 3).
            for tx in created:
                if tx.body is body:
                    batch.transactions.append((tx.id, tx.kind, tx.identity_id, None, row.bulk_id, seq))
                else:
                    batch.transactions.append(
                        (tx.id, tx.kind, tx.identity_id, compact_json(tx.body), None, None)
                    )
            created.clear()
        lb.in_flight = None
        if succeeded:
            row.completed += 1
        else:
            row.failed += 1
        if result.tx_events and self.publisher.transaction_webhooks:
            for ev in result.tx_events:
                batch.events.append(
                    self.publisher.transaction_event(
                        run.programme, ev.path, ev.payload, now, run.bulk_id_text
                    )
                )
        self._dirty_bulks.add(row.bulk_id)
        attempted = row.completed + row.failed
        if not succeeded and run.stop_on_failure:
            row.cancelled = row.n - attempted
            batch.cancel_remaining.append(row.bulk_id)
            self._finish(lb)
            return True
        if attempted + row.cancelled >= row.n:
            self._finish(lb)
            return True
        if run.interval is not None and attempted % run.interval == 0:
            self._publish_bulk_event(lb, end=False)
        # Kicked when the batch reaches batch_ops (it grows by one per operation), not again for every
        # operation after it while the commit in flight keeps the flusher busy (~2 % of a run at delay 0):
        # only a flush clears the kick, and it takes the whole batch right after.
        pending = len(batch.op_updates)
        if pending >= self.settings.batch_ops:
            if pending == self.settings.batch_ops:
                self._kick.set()
        elif self._flush_scheduled is None:
            self._schedule_flush()
        return False

    def _finish(self, lb: LiveBulk) -> None:
        row = lb.row
        row.status = bulk_transition(row.status, BulkAction.FINISH, n=row.n, completed=row.completed)
        row.execution_finish = self.clock()
        self._publish_bulk_event(lb, end=True)
        self._mark(lb)
        self._kick.set()  # a final state is worth committing at once

    def _publish_bulk_event(self, lb: LiveBulk, *, end: bool) -> None:
        row = lb.row
        counts = {
            "SUBMITTED": row.n - row.completed - row.failed - row.cancelled,
            "RUNNING": 0,
            "COMPLETED": row.completed,
            "FAILED": row.failed,
            "CANCELLED": row.cancelled,
        }
        event = BulkProcessProgressEvent(
            bulkId=str(row.bulk_id),
            status=row.status if end else "RUNNING",
            submittedItemsCount=row.n,
            operationStatusCounts=status_counts(counts),
        )
        path = BULK_END_PATH if end else self.publisher.progress_path
        self._pending.events.append(
            self.publisher.event(
                self.world.programmes[row.programme],
                path,
                event.dump(),
                now_ms=self.clock(),
                bulk_id=str(row.bulk_id),
                bulk_event=True,
            )
        )

    # --- control API helpers ------------------------------------------------------------------------
    def world_view(self, identity_id: str) -> dict[str, Any] | None:
        """An identity's instruments and users as last committed (never ahead of the file)."""
        if identity_id not in self.world.identities:
            return None
        instruments = [
            {
                "id": i.id,
                "type": i.type,
                "currency": i.currency,
                "state": i.state,
                "balance": i.balance if i.balance is not None else 0,
                "mode": i.mode,
                "blockedReason": i.blocked_reason,
                "destroyedReason": i.destroyed_reason,
                "spendRules": i.spend_rules or None,
            }
            for i in self._stored_instruments.values()
            if i.identity_id == identity_id
        ]
        users = [
            {
                "id": u.id,
                "email": u.email,
                "name": u.name,
                "surname": u.surname,
                "roles": u.roles,
                "credentialType": u.credential_type,
                "active": u.active,
                "invitesSent": u.invites_sent,
                "inviteConsumed": u.password is not None,
            }
            for u in self._stored_users.values()
            if u.identity_id == identity_id
        ]
        strip = lambda d: {k: v for k, v in d.items() if v is not None}  # noqa: E731
        return {"instruments": [strip(i) for i in instruments], "users": [strip(u) for u in users]}


__all__ = ["Conflict", "Engine", "InvalidTransition", "NotFound", "SubmitResult"]
