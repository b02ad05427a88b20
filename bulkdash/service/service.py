"""``DashboardService``: what the dashboard does that is not drawing — connecting, following the bulk list and
the open runs, submitting, the lifecycle actions, reports, training and the presenter controls — without
Textual, so plain tests drive it against the embedded simulator (tests/service).

Every call that talks to a server returns a future: await it (tests, scripts) or drop it (the dashboard). Its
outcome is also emitted as an event (``bulkdash.service.events``), which is how the dashboard hears of it. The
service owns every task it starts; ``aclose`` ends them all, and the session with its embedded simulator,
receiver and their databases, within a time bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulkdash.api.budget import BudgetExhausted
from bulkdash.api.client import ApiError, LinkState, WeavrClient
from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.refusals import Context, KnownBulk
from bulkdash.model.follow import RunFollower, RunUpdate
from bulkdash.model.run import RunModel
from bulkdash.service.actions import BulkAction, request
from bulkdash.service.bulks import BulksFollower, BulksPage
from bulkdash.service.connection import ConnectionState
from bulkdash.service.events import (
    STEP_NEEDS_PAUSE,
    ActionDone,
    BulksListed,
    BulkSubmitted,
    Connected,
    ConnectFailed,
    ConnectionChanged,
    Event,
    EventStream,
    Listener,
    PresenterChanged,
    ReportProgressed,
    ReportWritten,
    RunChanged,
    ScenariosListed,
    TaskFailed,
    TrainingChanged,
    TrainingEnded,
    TrainingStarted,
    WebhookReceived,
)
from bulkdash.service.tasks import NotConnected, Tasks, attempt, describe

if TYPE_CHECKING:
    # Training (scenarios, the simulator's control API) is imported when first used: start-up time is at its
    # 1 s target and most sessions never train. The session (the receiver: uvicorn, starlette, SQLite) is
    # imported when connecting, after the first screen is painted (issue 16).
    from bulkdash.contract.scenarios import ScenarioSummary
    from bulkdash.model.training import Training
    from bulkdash.session import Session
    from bulkdash.simctl import SimControl
    from bulkdash.webhooks import ReceivedWebhook

log = logging.getLogger(__name__)

Connector = Callable[[], Awaitable["Session"]]
PresenterCall = Callable[["SimControl"], Awaitable[dict[str, Any]]]

#: The most quitting may wait for the service: a connect under way, then its tasks, the simulator, the
#: receiver and their databases (~0.2 s normally). A safety net, not a pace: past it whatever is left is
#: abandoned, and a database left open keeps its thread, and so the process, alive.
CLOSE_TIMEOUT_S = 3.0
#: After an unexpected error (not an ApiError, which the follower handles itself), following restarts after:
RESTART_DELAY_S = 5.0
#: Playback speeds the presenter steps through with ``faster`` and ``slower``.
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)
MAX_WEBHOOKS = 2000


class DashboardService:
    def __init__(
        self,
        connect: Connector,
        *,
        report_dir: Path | None = None,
        speed: float | None = None,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
    ) -> None:
        """``connect`` builds the session in this event loop (an embedded simulator must share it).

        ``report_dir``: where reports go (default: ``report.default_report_root``); ``speed``: the simulator's
        playback speed to set once connected (presenter controls).
        """
        self._connector = connect
        self.report_dir = report_dir
        self.initial_speed = speed
        self.close_timeout_s = close_timeout_s
        self.session: Session | None = None
        self.connection = ConnectionState()
        self.connection.on_change.append(self._connection_changed)
        self.webhooks: deque[ReceivedWebhook] = deque(maxlen=MAX_WEBHOOKS)
        self.webhook_count = 0
        #: bulk id -> last status seen: each change becomes a state entry of the bulk's delivery timeline.
        self.known_bulks: dict[str, str] = {}
        #: bulk id -> its ``operation`` ("POST /transfers"), as listed: a refusal names the bulk's kind.
        self.known_operations: dict[str, str] = {}
        self.bulks = BulksFollower(self._on_bulks_page)
        self.runs: dict[str, RunFollower] = {}
        self.training: Training | None = None
        #: Whether something keeps the training's answers once the dashboard quits (a classroom does;
        #: ``bulkdash train`` keeps none, so quitting part-way through a checklist is asked about first).
        self.training_kept = False
        self.presenter_state: dict[str, object] | None = None
        self.last_report: Path | None = None
        #: bulk id -> its report under way.
        self.reports: dict[str, asyncio.Future[ReportWritten]] = {}
        self._listeners: list[Listener] = []
        self._tasks = Tasks(self._task_failed)
        self._following: dict[str, asyncio.Future[None]] = {}
        self._connecting: asyncio.Future[Session | None] | None = None
        self._starting: asyncio.Future[TrainingStarted] | None = None
        #: Plays every scenario at this speed instead of its own pace (``[run] speed``); None: the pack's.
        self.scenario_speed: float | None = None
        self._presenter_asked: asyncio.Future[PresenterChanged] | None = None
        # Presenter changes reach the simulator one at a time, in the order pressed; the speed last asked
        # for (not yet answered) is what the next + or - steps from. Pressed in a burst, six - from 10x ended
        # at 4x: each press stepped from the speed last *answered*, and the calls could overtake each other.
        self._presenter_lock = asyncio.Lock()
        self._presenter_calls = 0  # changes asked for and not answered yet
        self._speed_asked: float | None = None
        # A bulk's lifecycle actions reach the server one at a time, in the order asked: p r p r pressed
        # fast were four requests racing each other, and ended PAUSED with a refusal in between.
        self._action_locks: dict[str, asyncio.Lock] = {}
        #: bulk id -> the status this dashboard's last accepted action left it in, until the next
        #: observation of it (a refusal of the next key is worded from it, not from the state before).
        self._after_own_action: dict[str, str] = {}
        #: bulk id -> the status the actions asked for (sent or queued) will leave it in, and how many are
        #: under way: the keys a screen offers follow it, so p r pressed together resume after pausing (r
        #: was dropped, as a RUNNING bulk's key that does not apply, and the bulk stayed PAUSED).
        self._expected: dict[str, str] = {}
        self._acting: dict[str, int] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._closed: asyncio.Future[None] | None = None

    # --- events -------------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every event, in this loop, until the returned function is called."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def events(self) -> EventStream:
        return EventStream(self.subscribe)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _task_failed(self, name: str, exc: BaseException) -> None:
        log.debug("task %s failed", name, exc_info=exc)
        self._emit(TaskFailed(name, describe(exc)))

    # --- connection ---------------------------------------------------------------------------------
    @property
    def closing(self) -> bool:
        return self._closed is not None

    def connect(self, connector: Connector | None = None) -> asyncio.Future[Session | None]:
        """Build the session (with ``connector``, else the service's own): emits Connected or ConnectFailed.
        One at a time: while a connect is under way, this returns it."""
        if self._connecting is not None and not self._connecting.done():
            return self._connecting
        self.connection.connecting()
        self._connecting = self._tasks.spawn(self._connect(connector or self._connector), "connect")
        return self._connecting

    async def _connect(self, connector: Connector) -> Session | None:
        outcome = await attempt(connector)
        session = outcome.value
        if session is None:
            exc = outcome.exc
            error = f"cannot start: {exc.strerror or exc}" if isinstance(exc, OSError) else outcome.error
            self.connection.failed(error or "no session")
            self._emit(ConnectFailed(error or "no session"))
            return None
        self.session = session
        if self.closing:
            return session  # quitting meanwhile: ``aclose`` closes it, nothing more starts
        self.connection.label = session.label
        self.connection.attach(session.client.link)
        self._unsubscribe.append(session.on_webhook(self._on_webhook))
        self._unsubscribe.append(session.on_end(self._session_ended))
        self.bulks.client = session.client
        self._tasks.spawn(self.bulks.run(), "bulks")
        self._emit(Connected(session.label))
        if self.initial_speed is not None and session.sim_control() is not None:
            self.set_speed(self.initial_speed, quiet=True)
        return session

    def _connection_changed(self) -> None:
        self._emit(ConnectionChanged(self.connection.state))
        link = self.connection.link
        if link is not None and link.state is LinkState.CONNECTED and self.presenter_state is not None:
            # The server answers again after failing to: a simulator restarted meanwhile starts with its
            # world playing, so the presenter's state shown ("⏸ world paused") is read again rather than
            # kept (it stayed until P was pressed twice; a user's trial).
            self._ask_presenter()

    def _session_ended(self, reason: str) -> None:
        """The embedded simulator's own process died under the dashboard: say why, in words (issue 16)."""
        self.connection.failed(reason)
        self._emit(ConnectFailed(reason))

    async def connected(self, timeout: float) -> None:
        """Wait (up to ``timeout`` s) for a connect under way to end, however it ends."""
        if self._connecting is not None and not self._connecting.done():
            await asyncio.wait([self._connecting], timeout=timeout)

    def _client(self) -> WeavrClient:
        if self.session is None:
            raise NotConnected("Not connected yet")
        return self.session.client

    # --- webhooks and the state timeline ------------------------------------------------------------
    def _on_webhook(self, record: ReceivedWebhook) -> None:
        # Called by the receiver before it answers: quick, no I/O. A bulk webhook stands in for a poll.
        self.webhooks.append(record)
        self.webhook_count += 1
        if record.accepted and record.bulk_id and record.bulk_status and record.counts is not None:
            follower = self.runs.get(record.bulk_id)
            if follower is not None:
                follower.note_webhook(record.bulk_status, dict(record.counts))
            self.bulks.wake()
        self._emit(WebhookReceived(record))

    def _note_state(self, bulk_id: str | None, status: str | None) -> None:
        """Record a state change in the bulk's delivery timeline, once per change whoever saw it (a bulk
        without an id or a status has nothing to record)."""
        if bulk_id is None or status is None:
            return
        previous = self.known_bulks.get(bulk_id)
        if previous == status:
            return
        self.known_bulks[bulk_id] = status
        if self.session is not None and previous is not None:
            self.session.timeline.add_state(bulk_id, self.session.now_ms(), previous, status)

    # --- following the bulks and the runs -----------------------------------------------------------
    def _observed(self, bulk_id: str | None) -> None:
        """``bulk_id``'s state was seen (a poll, a webhook, a listing): what our own actions implied gives way
        to it, unless an action of ours is still under way."""
        if bulk_id is None:
            return
        self._after_own_action.pop(bulk_id, None)
        if not self._acting.get(bulk_id):
            self._expected.pop(bulk_id, None)

    def _on_bulks_page(self, page: BulksPage) -> None:
        # How the exchanges went is the client's link (the status bar reads it): a failed poll is the page's.
        if not page.error and page.page_key == self.bulks.key:
            for bulk in page.bulks:
                if bulk.bulkId is not None and bulk.operation:
                    self.known_operations[bulk.bulkId] = bulk.operation
                if bulk.bulkId in self.runs:
                    # Followed: its follower polls it more often (and hears its webhooks). A listing that was
                    # answered before an action must not turn its state back in the timeline.
                    continue
                self._observed(bulk.bulkId)
                self._note_state(bulk.bulkId, None if bulk.status is None else str(bulk.status))
        self._emit(BulksListed(page))

    def clock(self) -> float:
        """Now on the clock that deadlines (``retry_at``) are on: the client's budget clock."""
        return self.bulks.clock()

    def follow_run(self, bulk_id: str, model: RunModel | None = None) -> RunFollower:
        """Follow ``bulk_id`` into ``model`` (each update is emitted as RunChanged) until ``unfollow_run``."""
        follower = self.runs.get(bulk_id)
        if follower is not None and (model is None or follower.model is model):
            return follower
        self.unfollow_run(bulk_id)
        follower = RunFollower(
            self._client(), model or RunModel(bulk_id), lambda update: self._on_run_update(bulk_id, update)
        )
        follower.model.set_world_paused(self._world_paused())  # its polls rest while the world is paused
        self.runs[bulk_id] = follower
        self._following[bulk_id] = self._tasks.spawn(self._follow(follower), f"follow-{bulk_id}")
        return follower

    def unfollow_run(self, bulk_id: str) -> None:
        self.runs.pop(bulk_id, None)
        if (task := self._following.pop(bulk_id, None)) is not None:
            task.cancel()

    def watch_run(self, bulk_id: str, on_screen: bool) -> None:
        """The run is shown (poll at its pace, now) or hidden (poll slowly)."""
        if (follower := self.runs.get(bulk_id)) is not None:
            follower.on_screen = on_screen
            if on_screen:
                follower.wake()

    def wake_run(self, bulk_id: str) -> None:
        if (follower := self.runs.get(bulk_id)) is not None:
            follower.wake()

    async def _follow(self, follower: RunFollower) -> None:
        while True:
            try:
                await follower.run()
            except Exception as exc:  # the follower handles API errors itself; anything else must not end it
                log.exception("following bulk %s failed", follower.model.bulk_id)
                error = f"Unexpected error: {type(exc).__name__}: {exc}"
                follower.on_update(RunUpdate(error=error, retry_at=self.clock() + RESTART_DELAY_S))
                await asyncio.sleep(RESTART_DELAY_S)

    def _on_run_update(self, bulk_id: str, update: RunUpdate) -> None:
        if update.change is not None:
            self._observed(bulk_id)
        if not update.error:
            follower = self.runs.get(bulk_id)
            status = follower.model.status if follower is not None else None
            if update.change is not None and update.change.status_changed and status:
                self._note_state(bulk_id, status)
            training = self.training
            if follower is not None and training is not None and training.bulk_id == bulk_id:
                # The checklist tells from these when each of the trainee's actions was answered.
                training.note_run(status, follower.model.counts)
        training = self.training
        if training is not None and training.bulk_id == bulk_id and training.awaits_hold:
            self._ask_presenter()  # has the world stopped at the brief's "your move" yet?
        self._emit(RunChanged(bulk_id, update))

    # --- submitting and the lifecycle actions -------------------------------------------------------
    def submit(self, kind: OperationKind, items: list[dict[str, Any]]) -> asyncio.Future[BulkSubmitted]:
        return self._tasks.spawn(self._submit(kind, items), "submit")

    async def _submit(self, kind: OperationKind, items: list[dict[str, Any]]) -> BulkSubmitted:
        outcome = await attempt(lambda: self._client().submit(kind, items))
        created = outcome.value
        if created is None:
            unanswered = isinstance(outcome.exc, ApiError) and outcome.exc.status is None
            event = BulkSubmitted(None, len(items), outcome.error, unanswered=unanswered)
            if unanswered:
                self.bulks.wake()  # if it was created, the list shows it
        else:
            event = BulkSubmitted(created.bulkId, created.operationCount)
            if created.bulkId is not None:
                self.known_operations[created.bulkId] = KINDS[kind].operation
            self.bulks.wake()
        self._emit(event)
        return event

    def act(
        self,
        bulk_id: str,
        action: BulkAction,
        *,
        mode: str | None = None,
        webhook_interval: int | None = None,
    ) -> asyncio.Future[ActionDone]:
        """Execute (with ``mode`` and ``webhook_interval``), pause, resume or cancel ``bulk_id``."""
        action = BulkAction(action)
        self._expected[bulk_id] = action.leaves
        self._acting[bulk_id] = self._acting.get(bulk_id, 0) + 1
        work = self._act(bulk_id, action, mode, webhook_interval)
        return self._tasks.spawn(work, f"{action}-{bulk_id}")

    def expected_status(self, bulk_id: str) -> str | None:
        """What the actions this dashboard asked for will leave ``bulk_id`` in, until it is seen (None: no
        action under way or unobserved; the screens then go by what they saw)."""
        return self._expected.get(bulk_id)

    async def _act(
        self, bulk_id: str, action: BulkAction, mode: str | None, interval: int | None
    ) -> ActionDone:
        lock = self._action_locks.setdefault(bulk_id, asyncio.Lock())
        try:
            async with lock:  # fair: the actions asked while one is under way follow in order
                done = await self._act_now(bulk_id, action, mode, interval)
        finally:
            self._acting[bulk_id] -= 1
        if done.error is not None and not self._acting[bulk_id]:
            self._expected.pop(bulk_id, None)  # refused, and nothing more asked: back to what is seen
        return done

    async def _act_now(
        self, bulk_id: str, action: BulkAction, mode: str | None, interval: int | None
    ) -> ActionDone:
        training = self.training
        if training is not None and training.bulk_id == bulk_id and training.phase == "ready":
            # The first lifecycle key starts the scenario, as space does: the world plays, then the action.
            await self._control(lambda c: c.set_presenter(paused=False), quiet=True)
        outcome = await attempt(lambda: request(self._client(), bulk_id, action, mode, interval))
        exc = outcome.exc
        if exc is None:
            event = ActionDone(bulk_id, action)
            self._after_own_action[bulk_id] = action.leaves
            training = self.training
            if action is BulkAction.EXECUTE and training is not None and training.bulk_id == bulk_id:
                training.executed = True
            if training is not None and training.bulk_id == bulk_id and training.acted(str(action)):
                self._ask_presenter()  # the move made, the simulator plays on: the status bar says so
        elif isinstance(exc, BudgetExhausted):
            event = ActionDone(bulk_id, action, f"not sent: {exc.reason}")
        else:
            # The refusal in words, with what the service knows: the bulk's state and kind, the others.
            error = describe(exc, self._refusal_context(bulk_id, action))
            event = ActionDone(bulk_id, action, error, exc.code if isinstance(exc, ApiError) else None)
        self.wake_run(bulk_id)
        self.bulks.wake()
        self._emit(event)
        return event

    def _refusal_context(self, bulk_id: str, action: BulkAction) -> Context:
        """What the service already knows to phrase a refusal of ``action`` on ``bulk_id``: its state and
        kind as last seen, and every other bulk seen (a followed bulk as its follower last saw it). Nothing
        is asked of the server: a refusal must not cost a request of the budget."""
        statuses = dict(self.known_bulks)
        operations = dict(self.known_operations)
        for followed, follower in self.runs.items():
            details = follower.model.details
            if follower.model.status is not None:
                statuses[followed] = follower.model.status
            if details is not None and details.operation:
                operations[followed] = details.operation
        if (own := self._after_own_action.get(bulk_id)) is not None:
            statuses[bulk_id] = own  # newer than any observation: our own action, just accepted
        known = tuple(
            KnownBulk(other, status, operations.get(other))
            for other, status in statuses.items()
            if other != bulk_id
        )
        return Context(str(action), bulk_id, statuses.get(bulk_id), operations.get(bulk_id), known)

    # --- reports ------------------------------------------------------------------------------------
    def export_report(self, bulk_id: str) -> asyncio.Future[ReportWritten]:
        """The bulk's story into ``report_dir/bulkdash-report-<bulkId>`` (``bulkdash.report``): paced within
        the request budget (background work), its progress emitted as ``ReportProgressed``, cancellable with
        ``cancel_report``. One report per bulk at a time: asking again returns the one under way."""
        running = self.reports.get(bulk_id)
        if running is not None and not running.done():
            return running
        task = self._tasks.spawn(self._export_report(bulk_id), f"report-{bulk_id}")
        self.reports[bulk_id] = task
        task.add_done_callback(lambda done: self._report_ended(bulk_id, done))
        return task

    def _report_ended(self, bulk_id: str, task: asyncio.Future[ReportWritten]) -> None:
        if self.reports.get(bulk_id) is task:
            del self.reports[bulk_id]

    def report_running(self, bulk_id: str) -> bool:
        return bulk_id in self.reports

    def cancel_report(self, bulk_id: str) -> bool:
        """Stop the report of ``bulk_id`` under way (nothing is written); False when there is none."""
        task = self.reports.get(bulk_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _export_report(self, bulk_id: str) -> ReportWritten:
        try:
            outcome = await attempt(lambda: self._write_report(bulk_id))
        except asyncio.CancelledError:
            # Nothing was written: a report writes its files only once everything is fetched.
            self._emit(ReportWritten(bulk_id, None, cancelled=True))
            raise
        if outcome.value is not None:
            self.last_report = outcome.value
        event = ReportWritten(bulk_id, outcome.value, outcome.error)
        self._emit(event)
        return event

    async def _write_report(self, bulk_id: str) -> Path:
        from bulkdash.report import build_report  # only when asked

        client = self._client()
        assert self.session is not None
        session = self.session
        hooks = await session.receiver.history(bulk_id=bulk_id, limit=10_000) if session.receiver else []
        report = await build_report(
            client,
            bulk_id,
            webhooks=hooks,
            timeline=session.timeline,
            progress=lambda progress: self._emit(ReportProgressed(bulk_id, progress)),
            reply=self.training.reply_for(bulk_id) if self.training is not None else None,
        )
        return report.write(root=self.report_dir)  # a new folder: never replaces another report

    # --- training -----------------------------------------------------------------------------------
    def _sim(self) -> SimControl:
        from bulkdash.simctl import SimControlError

        if self.session is None:
            # Pressed while connecting (the first frame comes well before the first poll): not a real one.
            raise SimControlError("not connected yet: scenarios and presenter controls work once connected")
        control = self.session.sim_control()
        if control is None:
            raise SimControlError(
                "scenarios and presenter controls need the simulator (this is a real endpoint)"
            )
        return control

    @property
    def has_simulator(self) -> bool:
        """Scenarios and presenter controls can work: False on a real endpoint (True until connected)."""
        return self.session is None or self.session.sim_root is not None

    def list_scenarios(self) -> asyncio.Future[ScenariosListed]:
        return self._tasks.spawn(self._list_scenarios(), "scenarios")

    async def _list_scenarios(self) -> ScenariosListed:
        outcome = await attempt(self._scenarios)
        event = ScenariosListed(outcome.value or [], outcome.error)
        self._emit(event)
        return event

    async def _scenarios(self) -> list[ScenarioSummary]:
        from bulkdash.contract.scenarios import ScenarioSummary

        return [ScenarioSummary.model_validate(s) for s in await self._sim().scenarios()]

    @property
    def starting_scenario(self) -> bool:
        return self._starting is not None and not self._starting.done()

    def start_scenario(self, scenario: ScenarioSummary) -> asyncio.Future[TrainingStarted]:
        """Set ``scenario`` up on the simulator (fault plan, bulk, maybe execute); one at a time."""
        if self._starting is None or self._starting.done():
            self._starting = self._tasks.spawn(self._start_scenario(scenario), "scenario")
        return self._starting

    async def _start_scenario(self, scenario: ScenarioSummary) -> TrainingStarted:
        outcome = await attempt(lambda: self._set_up(scenario))
        if outcome.value is not None:
            self.training = outcome.value
            self.bulks.wake()
            if self.presenter_state is not None:
                self._emit(PresenterChanged(self.presenter_state, quiet=True))  # "world paused" shows
        event = TrainingStarted(outcome.value, outcome.error)
        self._emit(event)
        return event

    async def _set_up(self, scenario: ScenarioSummary) -> Training:
        from bulkdash.model.training import Move, Training

        started_ms = self.session.now_ms() if self.session is not None else None
        # ``trainee``: the simulator waits (paused) until the trainee starts the run on its screen, and
        # holds at the brief's "your move" operation.
        result = await self._sim().start_scenario(scenario.name, trainee=True, speed=self.scenario_speed)
        training = Training(
            scenario,
            str(result["bulkId"]),
            bool(result.get("executed")),
            identity=str(result.get("identity", "1001")),
            execute_refused=result.get("executeRefused"),
        )
        if started_ms is not None:
            training.started_ms = started_ms  # its fault plan applies from here: so do its API facts
        if result.get("waiting"):
            training.phase = "ready"
        move = result.get("move")
        if isinstance(move, dict) and move.get("action") in ("pause", "cancel"):
            training.move = Move(move["action"], int(move["operation"]))
        if isinstance(state := result.get("presenter"), dict):
            self._set_presenter_state(state)
        return training

    def resume_scenario(
        self, scenario: ScenarioSummary, bulk_id: str, answers: dict[int, int], started_ms: int | None = None
    ) -> Training:
        """Pick a scenario's run up again without setting anything up (a classroom tab reloaded: its bulk is
        in the trainee's world): the training of ``bulk_id`` with the answers already given (question index →
        choice), announced as started so its run opens."""
        from bulkdash.model.training import Training

        training = Training(scenario, bulk_id, True)
        if started_ms is not None:
            training.started_ms = started_ms
        for index, choice in sorted(answers.items()):
            if 0 <= index < len(training.questions):
                training.answer(index, choice)
        self.training = training
        self.bulks.wake()
        self._emit(TrainingStarted(training))
        return training

    def end_scenario(self) -> Training | None:
        """Stop training now; the scenario's fault plan leaves the simulator in the background (its bulks
        stay). Returns the training that ended, if any."""
        training, self.training = self.training, None
        if training is not None:
            self._tasks.spawn(self._clear_faults(training), "end-scenario")
            self._emit(TrainingEnded(training))
        return training

    async def _clear_faults(self, training: Training) -> None:
        outcome = await attempt(lambda: self._sim().clear_faults(training.identity))
        if outcome.exc is not None:
            self._emit(PresenterChanged(None, f"the scenario's faults stay: {outcome.exc}"))
        if training.move is not None and not training.moved:
            await self._control(lambda c: c.clear_holds(), quiet=True)  # nobody is there to make the move
        if training.waiting:
            await self._control(lambda c: c.set_presenter(paused=False), quiet=True)

    def play_scenario(self) -> asyncio.Future[PresenterChanged]:
        """Start the scenario's run (it waits, paused, until the trainee is on its screen), or let it go on
        past the brief's "your move": the world plays."""
        training = self.training
        if training is not None:
            training.start()
        return self._presenter(lambda c: c.set_presenter(paused=False))

    def _ask_presenter(self) -> None:
        """Read the presenter's state again (one read at a time): it moves on by itself at a hold."""
        if self._presenter_asked is None or self._presenter_asked.done():
            self._presenter_asked = self._tasks.spawn(
                self._control(lambda c: c.presenter(), quiet=True, read=True), "presenter"
            )

    # --- presenter controls -------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        return float((self.presenter_state or {}).get("speed", 1.0))  # type: ignore[arg-type]

    def toggle_world(self) -> asyncio.Future[PresenterChanged]:
        """Pause the whole world, or let it run again; while a scenario waits for the trainee (to be started,
        or at its "your move"), play it (space)."""
        if self.training is not None and self.training.waiting:
            return self.play_scenario()
        return self._presenter(lambda c: c.set_presenter(paused=not self._world_paused()))

    @property
    def world_running(self) -> bool:
        """The simulator's world is known to be running (not paused): a step would be refused."""
        return (self.presenter_state or {}).get("paused") is False

    def step_world(self) -> asyncio.Future[PresenterChanged]:
        """While the world is paused, run exactly one more operation. While it is known to run, say so
        without asking the simulator (it would answer 409 ``WORLD_NOT_PAUSED``), and change nothing."""
        if self.world_running:
            event = PresenterChanged(None, STEP_NEEDS_PAUSE, refused=True)
            self._emit(event)
            done: asyncio.Future[PresenterChanged] = asyncio.get_running_loop().create_future()
            done.set_result(event)
            return done
        return self._tasks.spawn(self._step(), "presenter")

    async def _step(self) -> PresenterChanged:
        event = await self._control(lambda c: c.step(), quiet=False)
        if event.error is None:
            self._note_presenter("step")  # only a step taken changed the run (a 409 changed nothing)
            delay_ms = (self.presenter_state or {}).get("effectiveOpDelayMs")
            after_s = min(2.0, float(delay_ms) / 1000) if isinstance(delay_ms, int | float) else 0.0
            for follower in self.runs.values():
                follower.expect_step(after_s)
        return event

    def faster(self) -> asyncio.Future[PresenterChanged]:
        now = self._speed_asked if self._speed_asked is not None else self.speed
        return self.set_speed(next((s for s in SPEEDS if s > now + 1e-9), SPEEDS[-1]))

    def slower(self) -> asyncio.Future[PresenterChanged]:
        now = self._speed_asked if self._speed_asked is not None else self.speed
        return self.set_speed(next((s for s in reversed(SPEEDS) if s < now - 1e-9), SPEEDS[0]))

    def set_speed(self, speed: float, *, quiet: bool = False) -> asyncio.Future[PresenterChanged]:
        if not quiet:
            self._note_presenter("speed", f"{speed:g}×")
        self._speed_asked = speed
        return self._presenter(lambda c: c.set_presenter(speed=speed), quiet=quiet)

    def fault_now(self) -> asyncio.Future[PresenterChanged]:
        """The next operation fails."""
        self._note_presenter("fault")
        return self._presenter(lambda c: c.fault_now())

    def _world_paused(self) -> bool:
        return bool((self.presenter_state or {}).get("paused"))

    def _set_presenter_state(self, state: dict[str, object]) -> None:
        """The simulator's presenter state, as last read; each run's model learns whether the world is paused
        (no rate or ETA then, and the paused time is no running time)."""
        self.presenter_state = state
        paused = self._world_paused()
        for follower in self.runs.values():
            follower.model.set_world_paused(paused)

    def _note_presenter(self, what: str, detail: str = "") -> None:
        # The checklist says when the presenter changed the trainee's run (a question may no longer apply).
        if self.training is not None:
            self.training.note_presenter(what, detail)

    def _presenter(self, call: PresenterCall, *, quiet: bool = False) -> asyncio.Future[PresenterChanged]:
        return self._tasks.spawn(self._control(call, quiet), "presenter")

    async def _control(self, call: PresenterCall, quiet: bool, read: bool = False) -> PresenterChanged:
        if read:
            outcome = await attempt(lambda: call(self._sim()))
        else:
            self._presenter_calls += 1
            try:
                async with self._presenter_lock:
                    outcome = await attempt(lambda: call(self._sim()))
            finally:
                self._presenter_calls -= 1
            if not self._presenter_calls:
                self._speed_asked = None  # all answered: the simulator's speed is the one to step from
        if outcome.value is not None:
            before = self.presenter_state or {"paused": False, "heldAt": None}  # a world not read yet runs
            self._set_presenter_state(outcome.value)
            if any(before.get(k) != outcome.value.get(k) for k in ("paused", "heldAt")):
                # The world stopped or goes on: a poll shows where it is at once. Nothing else a presenter
                # does changes what a poll would show (a step is seen by ``expect_step``): a poll on every
                # speed key spent the request budget (a trainee pressed + and - eighteen times, and the
                # counts froze ~20 s waiting for it). A mere read wakes them only on such a change too.
                for follower in self.runs.values():
                    follower.wake()
            training = self.training
            if training is not None and training.observe(outcome.value) and training.phase == "your move":
                self._emit(TrainingChanged(training))  # its notice: "Your move: pause the bulk now (p)"
        event = PresenterChanged(outcome.value, outcome.error, quiet=quiet)
        if _world_not_paused(outcome.exc):
            # The world ran after all (played from elsewhere: another tab, the instructor): say it in words,
            # and read the presenter again so the status bar stops saying "paused".
            event = PresenterChanged(None, STEP_NEEDS_PAUSE, quiet=quiet, refused=True)
            self._ask_presenter()
        self._emit(event)
        return event

    # --- quitting -----------------------------------------------------------------------------------
    async def aclose(self, timeout: float | None = None) -> None:
        """Quit within ``timeout`` s (default ``close_timeout_s``): say nothing more, cancel every task, let a
        connect under way finish, then close the session — client, embedded simulator, receiver and their
        databases. Safe to call again (and concurrently): later calls wait for the same close."""
        if self._closed is None:
            limit = self.close_timeout_s if timeout is None else timeout
            self._closed = asyncio.ensure_future(self._close(limit))
        await asyncio.shield(self._closed)

    async def _close(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def left() -> float:
            return max(0.0, deadline - loop.time())

        self._listeners.clear()  # whoever listened (the dashboard's screens) may be gone already
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        connecting = self._connecting
        # Half the time at most for the tasks: a task that will not end must not leave the session's close
        # nothing, or its databases stay open and their threads keep the process from exiting.
        await self._tasks.cancel_all(left() / 2, keep=[connecting] if connecting is not None else [])
        # Cancelled half-way, a connect would leave a half-started simulator behind whose database is still
        # open when the loop closes (aiosqlite's thread then fails on the closed loop, or keeps the process
        # alive). It is short: let it finish, then close what it built. Past the bound (a remote endpoint that
        # does not answer, where cancelling is harmless), cancel it.
        await self.connected(left())
        if connecting is not None and not connecting.done():
            log.warning("quitting while still connecting after %.1f s", timeout)
            connecting.cancel()
        if self.session is not None:
            try:
                async with asyncio.timeout(left()):  # not wait_for: bulkdash/waiting.py
                    await self.session.close()
            except Exception as exc:  # quitting must never fail on a courtesy close (nor hang on one)
                log.warning("the session did not close cleanly: %s", describe(exc))


def _world_not_paused(exc: Exception | None) -> bool:
    """``exc`` is the simulator's refusal of a step because its world runs (409 ``WORLD_NOT_PAUSED``)."""
    if exc is None:
        return False
    from bulkdash.simctl import SimControlError  # imported with the service's client already

    return isinstance(exc, SimControlError) and exc.status == 409 and "WORLD_NOT_PAUSED" in str(exc)
