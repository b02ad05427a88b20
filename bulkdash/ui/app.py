"""``BulkdashApp``: the dashboard. Connects in a worker, owns the session, fans webhooks out to the screens,
and runs every request the user asks for (submit, execute, pause, resume, cancel) in a worker.

Screens: home (bulks) → run (one bulk, installed so it keeps following off screen) → operation detail;
webhooks (received + delivery timeline) → webhook detail; dialogs for a new bulk, execute, confirm; help.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from bulkdash.api.budget import BudgetExhausted
from bulkdash.api.client import ApiError
from bulkdash.config import ConfigError
from bulkdash.connect import ConnectChoice
from bulkdash.session import Session
from bulkdash.ui.connection import ConnectionState
from bulkdash.ui.format import Display, presenter_summary
from bulkdash.ui.messages import (
    BulkActionDone,
    BulkSubmitted,
    PresenterChanged,
    SessionFailed,
    SessionReady,
    TrainingStarted,
    WebhookArrived,
)
from bulkdash.ui.readonly import READ_ONLY_MESSAGE, ReadOnlyAware, refused
from bulkdash.ui.screens.confirm import ConfirmScreen
from bulkdash.ui.screens.connect import ConnectScreen, SecretPromptScreen
from bulkdash.ui.screens.execute import ExecuteChoice, ExecuteScreen
from bulkdash.ui.screens.help import HelpScreen
from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.screens.new_bulk import NewBulkChoice, NewBulkScreen
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.screens.webhooks import WebhooksScreen
from bulkdash.ui.widgets.status_bar import StatusBar
from bulkdash.webhooks import ReceivedWebhook

if TYPE_CHECKING:
    # Training (scenarios, checklist, the simulator's control API) is imported when first used: start-up
    # time is at its 1 s target and most sessions never train.
    from bulkdash.contract.scenarios import ScenarioSummary
    from bulkdash.model.training import Training
    from bulkdash.simctl import SimControl

STYLES = Path(__file__).parent / "styles"
#: Run screens kept alive (following slowly) after they are left; older ones are dropped.
MAX_RUN_SCREENS = 6
VERBS = {"execute": "execute", "pause": "pause", "resume": "resume", "cancel": "cancel"}
DONE = {"execute": "Execution started", "pause": "Paused", "resume": "Resumed", "cancel": "Cancelled"}
#: Playback speeds the presenter steps through with + and -.
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)
#: Actions that need a simulator's control API (hidden on a real endpoint).
SIMULATOR_ACTIONS = frozenset(
    {"scenarios", "world_pause", "world_step", "speed_up", "speed_down", "fault_now"}
)

Connector = Callable[[], Awaitable[Session]]


class BulkdashApp(App[int]):
    TITLE = "bulkdash"
    CSS_PATH = [
        STYLES / "app.tcss",
        STYLES / "home.tcss",
        STYLES / "run.tcss",
        STYLES / "dialogs.tcss",
        STYLES / "webhooks.tcss",
        STYLES / "api_log.tcss",
        STYLES / "connect.tcss",
        STYLES / "training.tcss",
    ]
    BINDINGS = [
        Binding("n", "new_bulk", "New bulk", id="app.new_bulk"),
        Binding("w", "webhooks", "Webhooks", id="app.webhooks"),
        # Hidden from the footer (it is in the command palette), which keeps the footers as they were.
        Binding("l", "api_log", "API calls", id="app.api_log", show=False),
        Binding("s", "scenarios", "Scenarios", id="app.scenarios", show=False),
        # Shown (and enabled) only while a scenario is being trained.
        Binding("k", "checklist", "Checklist", id="app.checklist"),
        # Presenter controls (simulator only): hidden from the footer, listed in help and the palette.
        Binding("P", "world_pause", "Pause world", id="app.world_pause", show=False),
        Binding("full_stop", "world_step", "Step one operation", id="app.world_step", show=False),
        Binding("plus", "speed_up", "Faster", id="app.speed_up", show=False),
        Binding("minus", "speed_down", "Slower", id="app.speed_down", show=False),
        Binding("exclamation_mark", "fault_now", "Fault now", id="app.fault_now", show=False),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        connect: Connector,
        *,
        frozen: bool = False,
        token: str | None = None,
        choices: Sequence[ConnectChoice] | None = None,
        config_path: Path | None = None,
        read_only: bool = False,
        report_dir: Path | None = None,
        start: str = "home",
        speed: float | None = None,
    ) -> None:
        """``connect`` builds the session in this app's event loop (an embedded simulator must share it).

        ``choices`` (the embedded simulator and the config file's profiles, from ``config_path``) show the
        connect screen first; the chosen one's ``connect`` then runs in the same connect worker.

        ``frozen`` draws times, rates and request counts as fixed placeholders (snapshots, screenshots);
        ``token`` fixes the suffix that makes generated emails unique.

        ``read_only`` hides and refuses every action that changes something (``bulkdash.ui.readonly``);
        ``report_dir`` is where ``e`` writes run reports (default: the current directory).

        ``start="scenarios"`` opens the Scenarios screen over the bulks (``bulkdash train``); ``speed`` is the
        simulator's playback speed to set once connected (presenter controls).
        """
        super().__init__()
        self._connect = connect
        self.choices: list[ConnectChoice] = list(choices or [])
        self.config_path = config_path
        self._choice: ConnectChoice | None = None
        self.display_ = Display(frozen=frozen)
        self.token = token
        self.read_only = read_only
        self.report_dir = report_dir
        self.session: Session | None = None
        self.connection = ConnectionState()
        self.webhooks: deque[ReceivedWebhook] = deque(maxlen=2000)
        self.webhook_count = 0
        self.known_bulks: dict[
            str, str
        ] = {}  # bulk id -> last status seen (for the timeline's state entries)
        self._run_screens: deque[str] = deque()
        self.last_report: Path | None = None
        self.start = start
        self.initial_speed = speed
        self.training: Training | None = None
        self._starting_scenario = False
        self.presenter_state: dict[str, object] | None = None
        self.home = HomeScreen()
        self._unsubscribe: list[Callable[[], None]] = []
        if frozen:
            self.animation_level = "none"

    # --- connection ---------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.connection.on_change.append(self._refresh_status_bars)
        self.push_screen(self.home)
        if self.start == "scenarios":
            self.action_scenarios()
        if self.choices:
            self.choose_connection()
        else:
            self.connect()

    def choose_connection(self) -> None:
        """The connect screen; the choice is connected in the worker (``_build_session``)."""

        def chosen(choice: ConnectChoice | None) -> None:
            if choice is not None:
                self._choice = choice
                self.connect()

        self.push_screen(ConnectScreen(self.choices, self.config_path), chosen)

    def _refresh_status_bars(self) -> None:
        for bar in self.screen.query(StatusBar):
            bar.refresh_status()

    def connect(self) -> None:
        self.connection.connecting()
        self.run_worker(
            self._build_session(), name="connect", group="connect", exclusive=True, exit_on_error=False
        )

    async def _build_session(self) -> None:
        try:
            if self._choice is not None:
                session = await self._choice.connect(self._ask_secret)
            else:
                session = await self._connect()
        except (ApiError, ConfigError) as exc:
            self.post_message(SessionFailed(str(exc)))
        except OSError as exc:
            self.post_message(SessionFailed(f"cannot start: {exc.strerror or exc}"))
        except Exception as exc:  # whatever it is, it becomes a sentence on screen, never a traceback
            self.post_message(SessionFailed(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(SessionReady(session))

    async def _ask_secret(self, prompt: str) -> str | None:
        """A secret a profile leaves out, asked for with a masked input (called from the connect worker)."""
        return await self.push_screen_wait(SecretPromptScreen(prompt))

    def on_session_ready(self, message: SessionReady) -> None:
        self.session = message.session
        self.connection.label = message.session.label
        self.connection.ok()
        self._unsubscribe.append(message.session.on_webhook(self._on_webhook))
        self.home.session_ready()
        for screen in self.screen_stack:
            if screen.id == "scenarios":
                screen.load()  # type: ignore[attr-defined]
        if self.initial_speed is not None and message.session.sim_control() is not None:
            speed = self.initial_speed
            self._presenter(lambda c: c.set_presenter(speed=speed), quiet=True)

    def on_session_failed(self, message: SessionFailed) -> None:
        self.connection.failed(message.error)
        self.home.session_failed(message.error)
        self.notify(message.error, title="Not connected", severity="error", markup=False)
        if self.choices and not isinstance(self.screen, ConnectScreen):
            self.choose_connection()  # pick again (or fix the profile) rather than stay unconnected

    async def on_unmount(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self.session is not None:
            try:
                await self.session.close()
            except Exception:  # quitting must never fail on a courtesy close
                pass

    # --- webhooks -----------------------------------------------------------------------------------
    def _on_webhook(self, record: ReceivedWebhook) -> None:
        # Called by the receiver in this loop: hand over as a message, the handler touches the screens.
        self.post_message(WebhookArrived(record))

    def on_webhook_arrived(self, message: WebhookArrived) -> None:
        record = message.record
        self.webhooks.append(record)
        self.webhook_count += 1
        self._refresh_status_bars()
        if record.accepted and record.bulk_id and record.bulk_status and record.counts is not None:
            screen = self.run_screen(record.bulk_id)
            if screen is not None:
                screen.note_webhook(record.bulk_status, dict(record.counts))
            self.home.wake()
        for screen in self.screen_stack:
            if isinstance(screen, WebhooksScreen):
                screen.add_record(record)

    def note_state(self, bulk_id: str, status: str) -> None:
        """Record a state change in the bulk's delivery timeline, once per change whoever saw it."""
        previous = self.known_bulks.get(bulk_id)
        if previous == status:
            return
        self.known_bulks[bulk_id] = status
        if self.session is not None and previous is not None:
            self.session.timeline.add_state(bulk_id, int(time.time() * 1000), previous, status)

    # --- screens ------------------------------------------------------------------------------------
    def run_screen(self, bulk_id: str) -> RunScreen | None:
        name = f"run-{bulk_id}"
        if not self.is_screen_installed(name):
            return None
        screen = self.get_screen(name)
        return screen if isinstance(screen, RunScreen) else None

    def open_bulk(self, bulk_id: str) -> None:
        if self.session is None:
            self.notify("Not connected yet", severity="warning")
            return
        name = f"run-{bulk_id}"
        if self.screen.id == name:
            return
        if not self.is_screen_installed(name):
            self.install_screen(RunScreen(bulk_id), name=name)
            self._run_screens.append(name)
            self._drop_old_run_screens()
        elif any(s.id == name for s in self.screen_stack):
            # Already in the stack below: go back to it rather than stacking a second copy.
            while self.screen.id != name:
                self.pop_screen()
            return
        self.push_screen(name)

    def _drop_old_run_screens(self) -> None:
        in_stack = {s.id for s in self.screen_stack}
        for name in list(self._run_screens):
            if len(self._run_screens) <= MAX_RUN_SCREENS:
                break
            if name not in in_stack:
                self._run_screens.remove(name)
                self.uninstall_screen(name)

    def show_webhooks(self, *, bulk_id: str | None = None, tab: str = "received") -> None:
        for screen in self.screen_stack:
            if isinstance(screen, WebhooksScreen):
                while self.screen is not screen:
                    self.pop_screen()
                if bulk_id:
                    screen.bulk_id = bulk_id
                    screen.query_one("#timeline-bulk").value = bulk_id  # type: ignore[attr-defined]
                screen.action_tab(tab)
                return
        self.push_screen(WebhooksScreen(bulk_id=bulk_id, tab=tab))

    # --- actions ------------------------------------------------------------------------------------
    def action_new_bulk(self) -> None:
        if self.session is None:
            self.notify("Not connected yet", severity="warning")
            return

        def submit(choice: NewBulkChoice | None) -> None:
            if choice is not None:
                self.submit_bulk(choice)

        self.push_screen(NewBulkScreen(token=self.token), submit)

    def action_webhooks(self) -> None:
        self.show_webhooks()

    def action_api_log(self) -> None:
        from bulkdash.ui.screens.api_log import ApiLogScreen

        if not isinstance(self.screen, ApiLogScreen):
            self.push_screen(ApiLogScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def submit_bulk(self, choice: NewBulkChoice) -> None:
        self.notify(f"Submitting {len(choice.items):,} {choice.kind.value} item(s)…", timeout=3)
        self.run_worker(self._submit(choice), name="submit", group="submit", exit_on_error=False)

    async def _submit(self, choice: NewBulkChoice) -> None:
        assert self.session is not None
        try:
            created = await self.session.client.submit(choice.kind, choice.items)
        except (ApiError, BudgetExhausted) as exc:
            self.post_message(BulkSubmitted(None, len(choice.items), str(exc)))
        except Exception as exc:
            self.post_message(BulkSubmitted(None, len(choice.items), f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(BulkSubmitted(created.bulkId, created.operationCount))

    def on_bulk_submitted(self, message: BulkSubmitted) -> None:
        if message.error or message.bulk_id is None:
            self.notify(
                message.error or "no bulk id",
                title="Submission refused",
                severity="error",
                timeout=10,
                markup=False,
            )
            return
        self.notify(f"Bulk {message.bulk_id} submitted: {message.count:,} operations. Press x to execute.")
        self.home.wake()
        self.open_bulk(message.bulk_id)

    def request_execute(self, bulk_id: str) -> None:
        def go(choice: ExecuteChoice | None) -> None:
            if choice is not None:
                self.bulk_action(
                    bulk_id, "execute", mode=choice.mode, webhook_interval=choice.webhook_interval
                )

        training = self.training
        if training is not None and training.bulk_id == bulk_id:
            s = training.scenario
            suggested = ExecuteChoice(s.mode, s.webhookInterval)
            self.push_screen(ExecuteScreen(bulk_id, suggested, f"The options of “{s.title}”."), go)
            return
        self.push_screen(ExecuteScreen(bulk_id), go)

    def request_cancel(self, bulk_id: str) -> None:
        def go(yes: bool | None) -> None:
            if yes:
                self.bulk_action(bulk_id, "cancel")

        self.push_screen(
            ConfirmScreen(
                f"Cancel bulk {bulk_id}?",
                "Operations not run yet become CANCELLED; this cannot be undone.",
                yes="Cancel bulk",
            ),
            go,
        )

    def bulk_action(
        self, bulk_id: str, action: str, *, mode: str | None = None, webhook_interval: int | None = None
    ) -> None:
        if self.session is None:
            self.notify("Not connected yet", severity="warning")
            return
        self.run_worker(
            self._bulk_action(bulk_id, action, mode, webhook_interval),
            name=f"{action}-{bulk_id}",
            group="actions",
            exit_on_error=False,
        )

    async def _bulk_action(self, bulk_id: str, action: str, mode: str | None, interval: int | None) -> None:
        assert self.session is not None
        client = self.session.client
        try:
            if action == "execute":
                await client.execute(bulk_id, mode, interval)
            elif action == "pause":
                await client.pause(bulk_id)
            elif action == "resume":
                await client.resume(bulk_id)
            elif action == "cancel":
                await client.cancel(bulk_id)
            else:
                raise ValueError(f"unknown action {action}")
        except ApiError as exc:
            self.post_message(BulkActionDone(bulk_id, action, str(exc), exc.code))
        except BudgetExhausted as exc:
            self.post_message(BulkActionDone(bulk_id, action, f"not sent: {exc.reason}", None))
        except Exception as exc:
            self.post_message(BulkActionDone(bulk_id, action, f"{type(exc).__name__}: {exc}", None))
        else:
            self.post_message(BulkActionDone(bulk_id, action, None))

    def on_bulk_action_done(self, message: BulkActionDone) -> None:
        verb = VERBS.get(message.action, message.action)
        if message.error is not None:
            # The 409 errorCode is the answer a person needs ("Cannot pause bulk 7: INVALID_STATE").
            reason = message.code or message.error
            self.notify(
                f"Cannot {verb} bulk {message.bulk_id}: {reason}", severity="error", timeout=8, markup=False
            )
        else:
            self.notify(f"{DONE.get(message.action, message.action)}: bulk {message.bulk_id}", timeout=4)
            training = self.training
            if message.action == "execute" and training is not None and training.bulk_id == message.bulk_id:
                training.executed = True
        screen = self.run_screen(message.bulk_id)
        if screen is not None:
            screen.refresh_brief()
            screen.wake()
        self.home.wake()

    # --- read-only --------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if refused(self, action):
            return False
        if action in {"checklist", "end_scenario"} and self.training is None:
            return False
        if action in SIMULATOR_ACTIONS and self.session is not None and self.session.sim_root is None:
            return False  # a real Weavr endpoint has no scenarios and no presenter
        return super().check_action(action, parameters)

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:  # type: ignore[no-untyped-def]
        """An action refused by read-only mode says so (a key or the palette can still name one)."""
        target, name, _params = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        if refused(self, name) and (target is self or isinstance(target, ReadOnlyAware)):
            self.notify(READ_ONLY_MESSAGE, severity="warning", timeout=3)
            return False
        return await super().run_action(action, default_namespace, namespaces)

    # --- reports ------------------------------------------------------------------------------------
    def export_report(self, bulk_id: str) -> None:
        if self.session is None:
            self.notify("Not connected yet", severity="warning")
            return
        self.run_worker(
            self._export_report(bulk_id), name=f"report-{bulk_id}", group="report", exit_on_error=False
        )

    async def _export_report(self, bulk_id: str) -> None:
        from bulkdash.report import build_report, default_dirname

        session = self.session
        assert session is not None
        try:
            hooks = await session.receiver.history(bulk_id=bulk_id, limit=10_000) if session.receiver else []
            report = await build_report(session.client, bulk_id, webhooks=hooks, timeline=session.timeline)
            out = report.write((self.report_dir or Path.cwd()) / default_dirname(bulk_id))
        except (ApiError, BudgetExhausted, OSError) as exc:
            self.notify(f"Report not written: {exc}", severity="error", timeout=8, markup=False)
        except Exception as exc:
            self.notify(f"Report not written: {type(exc).__name__}: {exc}", severity="error", markup=False)
        else:
            self.last_report = out
            self.notify(f"Report written to {out}", title=f"Bulk {bulk_id}", timeout=8, markup=False)

    # --- training -----------------------------------------------------------------------------------
    def _sim(self) -> SimControl:
        from bulkdash.simctl import SimControlError

        control = self.session.sim_control() if self.session is not None else None
        if control is None:
            raise SimControlError(
                "scenarios and presenter controls need the simulator (this is a real endpoint)"
            )
        return control

    async def list_scenarios(self) -> list[ScenarioSummary]:
        """The simulator's packs (called from the Scenarios screen's worker)."""
        from bulkdash.contract.scenarios import ScenarioSummary

        return [ScenarioSummary.model_validate(s) for s in await self._sim().scenarios()]

    def action_scenarios(self) -> None:
        from bulkdash.ui.screens.scenarios import ScenariosScreen

        for screen in self.screen_stack:
            if isinstance(screen, ScenariosScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(ScenariosScreen())

    def start_scenario(self, scenario: ScenarioSummary) -> None:
        """Set ``scenario`` up on the simulator, then open its run (``on_training_started``)."""
        if refused(self, "start_scenario"):
            self.notify(READ_ONLY_MESSAGE, severity="warning", timeout=3)
            return
        if self.session is None:
            self.notify("Not connected yet", severity="warning")
            return
        if self._starting_scenario:
            return
        self._starting_scenario = True
        self.notify(f"Setting up “{scenario.title}”…", timeout=3)
        self.run_worker(
            self._start_scenario(scenario), name="scenario", group="scenario", exit_on_error=False
        )

    async def _start_scenario(self, scenario: ScenarioSummary) -> None:
        from bulkdash.model.training import Training

        try:
            result = await self._sim().start_scenario(scenario.name)
            training = Training(
                scenario,
                str(result["bulkId"]),
                bool(result.get("executed")),
                identity=str(result.get("identity", "1001")),
                execute_refused=result.get("executeRefused"),
            )
        except Exception as exc:  # SimControlError and anything else: a sentence, never a traceback
            self.post_message(TrainingStarted(None, str(exc)))
        else:
            self.post_message(TrainingStarted(training))

    def on_training_started(self, message: TrainingStarted) -> None:
        self._starting_scenario = False
        if message.training is None:
            self.notify(f"Scenario not set up: {message.error}", severity="error", timeout=8, markup=False)
            return
        training = self.training = message.training
        self.home.wake()
        self.open_bulk(training.bulk_id)
        if training.execute_refused:
            # The bulk exists; the simulator refused to run it now (another bulk of its kind is running).
            self.notify(
                f"Bulk {training.bulk_id} was submitted but not executed: {training.execute_refused}. "
                "Execute it (x) once the other bulk has ended.",
                title=training.scenario.title,
                severity="warning",
                timeout=12,
            )
            return
        move = "execute it (x) and act on it" if not training.executed else "it is running"
        self.notify(f"Bulk {training.bulk_id}: {move}. k opens the checklist.", title=training.scenario.title)

    def action_end_scenario(self) -> None:
        """Stop training: the scenario's fault plan leaves the simulator (its bulks stay)."""
        training = self.training
        if training is None:
            return
        self.training = None

        async def clear() -> None:
            try:
                await self._sim().clear_faults(training.identity)
            except Exception as exc:
                self.post_message(PresenterChanged(None, f"the scenario's faults stay: {exc}"))

        self.run_worker(clear(), name="end-scenario", group="scenario", exit_on_error=False)
        t = training
        self.notify(
            f"{t.scenario.title}: {t.score}/{len(t.questions)} correct. Its faults are cleared.",
            title="Scenario ended",
        )

    def action_checklist(self) -> None:
        if self.training is None:
            self.notify("No scenario is being trained: s lists them", severity="warning", timeout=3)
            return
        from bulkdash.ui.screens.checklist import ChecklistScreen

        if isinstance(self.screen, ChecklistScreen):
            return
        self.push_screen(ChecklistScreen(self.training))

    # --- presenter controls -------------------------------------------------------------------------
    def _presenter(self, call: Callable[[SimControl], Awaitable[dict]], *, quiet: bool = False) -> None:
        async def run() -> None:
            try:
                state = await call(self._sim())
            except Exception as exc:
                self.post_message(PresenterChanged(None, str(exc)))
            else:
                self.post_message(PresenterChanged(state, quiet=quiet))

        self.run_worker(run(), name="presenter", group="presenter", exit_on_error=False)

    def on_presenter_changed(self, message: PresenterChanged) -> None:
        if message.state is None:
            self.notify(f"Presenter: {message.error}", severity="error", timeout=6, markup=False)
            return
        self.presenter_state = message.state
        self._refresh_status_bars()
        if not message.quiet:
            self.notify(presenter_summary(message.state), title="Presenter", timeout=3)
        for screen in self.screen_stack:
            if isinstance(screen, RunScreen):
                screen.wake()

    def _speed(self) -> float:
        return float((self.presenter_state or {}).get("speed", 1.0))  # type: ignore[arg-type]

    def action_world_pause(self) -> None:
        paused = bool((self.presenter_state or {}).get("paused"))
        self._presenter(lambda c: c.set_presenter(paused=not paused))

    def action_world_step(self) -> None:
        self._presenter(lambda c: c.step())

    def action_speed_up(self) -> None:
        faster = next((s for s in SPEEDS if s > self._speed() + 1e-9), SPEEDS[-1])
        self._presenter(lambda c: c.set_presenter(speed=faster))

    def action_speed_down(self) -> None:
        slower = next((s for s in reversed(SPEEDS) if s < self._speed() - 1e-9), SPEEDS[0])
        self._presenter(lambda c: c.set_presenter(speed=slower))

    def action_fault_now(self) -> None:
        self._presenter(lambda c: c.fault_now())

    # --- command palette ----------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if not self.read_only:
            yield SystemCommand("New bulk", "Submit a new bulk (n)", self.action_new_bulk)
        for action, title, help_text in (
            ("scenarios", "Scenarios", "Training scenarios: a customer's report to investigate (s)"),
            ("checklist", "Checklist", "The questions of the scenario being trained (k)"),
            ("end_scenario", "End the scenario", "Clear its fault plan from the simulator; its bulks stay"),
            ("world_pause", "Pause / resume the world", "Presenter: hold every operation and webhook (P)"),
            (
                "world_step",
                "Step one operation",
                "Presenter: while the world is paused, run one operation (.)",
            ),
            ("speed_up", "Faster playback", "Presenter: double the simulator's speed (+)"),
            ("speed_down", "Slower playback", "Presenter: halve the simulator's speed (-)"),
            ("fault_now", "Trigger the next fault now", "Presenter: the next operation fails (!)"),
        ):
            if self.check_action(action, ()):
                yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))
        for action, title, help_text in (
            ("execute", "Execute bulk", "Execute the bulk on screen or selected (x)"),
            ("pause", "Pause bulk", "Pause the running bulk (p)"),
            ("resume", "Resume bulk", "Resume the paused bulk (r)"),
            ("cancel", "Cancel bulk", "Cancel the bulk, after confirming (c)"),
            ("filter", "Filter", "Filter by status (/ on the bulks screen, f on a run)"),
            ("search", "Search operations", "Search the operations on this page (/)"),
            ("timeline", "Delivery timeline", "API calls, state changes and webhooks of this bulk (t)"),
            ("export", "Export report", "Markdown report and JSON Lines of this bulk (e)"),
        ):
            if hasattr(screen, f"action_{action}") and not refused(self, action):
                yield SystemCommand(title, help_text, lambda a=action, s=screen: s.run_action(a))
        yield SystemCommand("Webhooks", "Every webhook received (w)", self.action_webhooks)
        yield SystemCommand("API calls", "Every request made, copyable as curl (l)", self.action_api_log)
        yield SystemCommand("Help", "Keys and screens (?)", self.action_help)
        yield from super().get_system_commands(screen)
