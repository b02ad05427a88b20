"""``BulkdashApp``: the Textual shell of the dashboard. ``DashboardService`` (``bulkdash.service``) does the
work — connecting, polling, actions, reports, training, quitting in order; the app turns its events into
screen messages and toasts (``routing.py``), and key presses into its calls.

Screens: home (bulks) → run (one bulk, installed so it keeps following off screen) → operation detail;
webhooks (received + delivery timeline) → webhook detail; dialogs for a new bulk, execute, confirm; help.

Start-up (issue 16): this module and the home screen import Textual and the dashboard's own widgets only. The
service — and with it the client (httpx), pydantic and the contract's models, ~0.13 s of imports — is built
after the first frame is painted (``_start_service``), or earlier on demand (``service``: tests, scripts).
Until then nothing on the first screen asks for it (``started_service``). An import-hygiene test keeps it so.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerFailed, WorkerState

from bulkdash.ui import flows, palette, sheets
from bulkdash.ui.format import Display, clip
from bulkdash.ui.guard import Guarded
from bulkdash.ui.messages import ServiceEvent
from bulkdash.ui.notices import NoticesMixin
from bulkdash.ui.readonly import ReadOnlyApp
from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:  # imported when the service is built, after the first paint
    from bulkdash.connect import ConnectChoice
    from bulkdash.service import Connector, DashboardService
    from bulkdash.service.events import Event
    from bulkdash.ui.screens.run import RunScreen

#: Run screens kept alive (following slowly) after they are left; older ones are dropped.
MAX_RUN_SCREENS = 6
#: Actions that need a simulator's control API (hidden on a real endpoint).
#: How long the service closes alone before Textual restores the terminal (see ``on_exit_app``).
CLOSE_HEAD_START_S = 0.1
SIMULATOR_ACTIONS = frozenset(
    {"scenarios", "world_pause", "world_step", "speed_up", "speed_down", "fault_now"}
)
#: More unexpected errors than this within ``ERROR_STORM_S`` is a loop (a widget that fails at every frame):
#: then Textual's own handling ends the app with the traceback, rather than a notice per frame forever.
ERROR_STORM = 20
ERROR_STORM_S = 5.0

log = logging.getLogger(__name__)
# Logged errors go where the host application sends them, never over the dashboard (logging's last resort).
log.addHandler(logging.NullHandler())


class _OfService:
    """An attribute of the app that is the service's state (for tests, benchmarks and scripts)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, app: BulkdashApp | None, owner: type | None = None) -> Any:
        return self if app is None else getattr(app.service, self.name)

    def __set__(self, app: BulkdashApp, value: object) -> None:
        setattr(app.service, self.name, value)


def _calls(name: str) -> Callable[[BulkdashApp], None]:
    """An action that calls the service's method ``name``."""

    def action(app: BulkdashApp) -> None:
        getattr(app.service, name)()

    return action


class BulkdashApp(Guarded, NoticesMixin, ReadOnlyApp, App[int]):
    TITLE = "bulkdash"
    CSS_PATH = sheets.FIRST  # the other screens load the rest (``bulkdash.ui.sheets``)
    BINDINGS = [
        Binding("n", "new_bulk", "New bulk", id="app.new_bulk"),
        Binding("w", "webhooks", "Webhooks", id="app.webhooks"),
        Binding("l", "api_log", "API calls", id="app.api_log"),
        # Hidden from the footer (it is in the command palette and help): training only.
        Binding("s", "scenarios", "Scenarios", id="app.scenarios", show=False),
        # Shown (and enabled) only while a scenario is being trained.
        Binding("k", "checklist", "Checklist", id="app.checklist"),
        # Presenter controls (simulator only): hidden from the footer, listed in help and the palette.
        Binding("P", "world_pause", "Pause world", id="app.world_pause", show=False),
        # Play / pause, as in a player; it starts a scenario's run that waits for the trainee.
        Binding("space", "world_pause", "Play", id="app.world_play", show=False),
        Binding("full_stop", "world_step", "Step one operation", id="app.world_step", show=False),
        Binding("plus", "speed_up", "Faster", id="app.speed_up", show=False),
        Binding("minus", "speed_down", "Slower", id="app.speed_down", show=False),
        Binding("exclamation_mark", "fault_now", "Fault now", id="app.fault_now", show=False),
        Binding("N", "notifications", "Notifications", id="app.notifications", show=False),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        # Like a terminal program, from anywhere: a priority binding also reaches past a dialog or the palette
        # (a modal screen hides the app's other bindings; a trainee found ctrl+c dead in New bulk).
        Binding("ctrl+c", "quit", "Quit", id="app.interrupt", show=False, priority=True),
    ]
    session = _OfService()
    connection = _OfService()
    training = _OfService()
    presenter_state = _OfService()
    webhooks = _OfService()
    webhook_count = _OfService()
    known_bulks = _OfService()
    last_report = _OfService()
    report_dir = _OfService()

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
        """``connect``, ``report_dir`` and ``speed``: see ``DashboardService``. ``choices`` (the embedded
        simulator and the config file's profiles, from ``config_path``) show the connect screen first.

        ``frozen`` draws times, rates and request counts as fixed placeholders (snapshots, screenshots);
        ``token`` fixes the suffix that makes generated emails unique; ``read_only`` hides and refuses every
        action that changes something (``bulkdash.ui.readonly``); ``start="scenarios"`` opens the Scenarios
        screen over the bulks (``bulkdash train``).
        """
        super().__init__()
        self._service: DashboardService | None = None
        self._service_args = (connect, report_dir, speed)
        self.choices: list[ConnectChoice] = list(choices or [])
        self.config_path = config_path
        self._choice: ConnectChoice | None = None
        self.display_ = Display(frozen=frozen)
        self.token = token
        self.read_only = read_only
        self.start = start
        self.home = HomeScreen()
        self._run_screens: deque[str] = deque()
        #: The bulk last chosen in the Webhooks screen's delivery timeline: shown again on the next visit
        #: (it came back empty, "choose a bulk"; a user's trial).
        self.timeline_bulk: str | None = None
        self._closing = False
        #: Every unexpected exception caught by ``report_exception`` (tests check it stays empty).
        self.caught: list[BaseException] = []
        self._recent_errors: deque[float] = deque(maxlen=ERROR_STORM)
        if frozen:
            self.animation_level = "none"

    # --- the service and the connection -------------------------------------------------------------
    @property
    def service(self) -> DashboardService:
        """The dashboard's service, built (its modules imported) on first use."""
        if self._service is None:
            from bulkdash.service import DashboardService

            connect, report_dir, speed = self._service_args
            self._service = DashboardService(connect, report_dir=report_dir, speed=speed)
            self._service.subscribe(self._hear)
        return self._service

    @property
    def started_service(self) -> DashboardService | None:
        """The service if it is built yet: what the first screen's widgets ask, so as not to build it."""
        return self._service

    def get_default_screen(self) -> HomeScreen:
        # The bulks are the first screen, not pushed over Textual's empty default one: that one was composed,
        # styled, resized and laid out before the first frame for nothing.
        return self.home

    def on_mount(self) -> None:
        self._catch_signals()
        if self.start == "scenarios":
            self.action_scenarios()
        if self.choices:
            self.choose_connection()
        # Paint first, then build the service and connect (issue 16): importing the service, the client and
        # pydantic, then the session, and starting the servers would otherwise hold the first frame back.
        self.call_after_refresh(self._start_service)

    async def action_quit(self) -> None:
        """Quit; but with a checklist part-answered that nothing keeps (``bulkdash train``), ask first: a
        trainee whose key meant for the reply box went to the app lost every answer, without a word. Asked,
        ``q`` (or ctrl+c) again quits."""
        service = self.started_service
        training = service.training if service is not None else None
        if (
            training is None
            or service is None
            or service.training_kept
            or training.answered == 0
            or training.finished
            or self.screen.id == "confirm"
        ):
            self.exit()
            return
        from bulkdash.ui.screens.confirm import QuitConfirmScreen

        detail = (
            f"{training.scenario.title}: {training.answered} of {len(training.questions)} questions "
            "answered. bulkdash train keeps no answers once it quits."
        )
        self.push_screen(
            QuitConfirmScreen("Quit, and lose these answers?", detail, yes="Quit"),
            lambda quit_now: self.exit() if quit_now else None,
        )

    def _start_service(self) -> None:
        """After the first frame: build the service, tell the first screen, connect (unless a connection is
        being chosen). The footer and palette ask the service what applies (training, a simulator): again."""
        if self._closing:
            return
        service = self.service
        self.home.service_started(service)
        self.refresh_status_bars()
        if not self.choices and service.session is None:  # (a key may have built it, and connected, first)
            self.connect()
        self.refresh_bindings()

    def connect(self) -> None:
        """Connect (again) with the chosen profile, or the app's connector."""
        choice = self._choice
        self.service.connect(None if choice is None else lambda: choice.connect(self._ask_secret))

    def choose_connection(self) -> None:
        def chosen(choice: ConnectChoice | None) -> None:
            if choice is not None:
                self._choice = choice
                self.connect()

        from bulkdash.ui.screens.connect import ConnectScreen  # with profiles only: off the start-up path

        self.push_screen(ConnectScreen(self.choices, self.config_path), chosen)

    async def _ask_secret(self, prompt: str) -> str | None:
        """A secret a profile leaves out, asked for with a masked input (while the service connects)."""
        from bulkdash.ui.screens.connect import SecretPromptScreen

        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.push_screen(SecretPromptScreen(prompt), lambda value: answer.done() or answer.set_result(value))
        return await answer

    # --- service events -----------------------------------------------------------------------------
    def _hear(self, event: Event) -> None:
        # Called by the service in this loop (its tasks, the webhook receiver): a message, drawn by its
        # handler. (Not ``_on_service_event``: Textual would take that name for the message's own handler.)
        if not self._closing:
            self.post_message(ServiceEvent(event))

    def on_service_event(self, message: ServiceEvent) -> None:
        if self._closing or not self.screen_stack:
            return  # quitting: nothing touches a screen any more
        from bulkdash.ui import routing  # with the service's events: after the first paint

        routing.route(self, message.event)

    def refresh_status_bars(self) -> None:
        if not self._closing and self.screen_stack:
            for bar in self.screen.query(StatusBar):
                bar.refresh_status()

    # --- the last line of defence (``bulkdash.ui.guard``) ------------------------------------------------
    def report_exception(self, error: BaseException, where: str) -> None:
        """An exception escaped a handler, a timer or a worker: say it (notice and log), stay up."""
        self.caught.append(error)
        log.error("unexpected error in %s", where, exc_info=error)
        self.log.error(f"unexpected error in {where}: {error!r}")
        if self._closing:
            return
        now = time.monotonic()
        self._recent_errors.append(now)
        if len(self._recent_errors) == ERROR_STORM and now - self._recent_errors[0] < ERROR_STORM_S:
            super()._handle_exception(error)  # type: ignore[arg-type]  # a loop: Textual's way, the traceback
            return
        from bulkdash.service.tasks import describe

        self.notify(
            clip(describe(error), 500),
            title="Unexpected error",
            severity="error",
            timeout=10,
            markup=False,
        )

    def _handle_exception(self, error: Exception) -> None:
        # Textual's handler of every unhandled exception (callbacks, timers, workers that exit on error,
        # rendering), which always ends the app: kept for what happens before the app runs or while it quits.
        if self._closing or not self.is_running or not self.screen_stack:
            super()._handle_exception(error)
            return
        cause = error.error if isinstance(error, WorkerFailed) else error
        self.report_exception(cause, "the app")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a Textual worker's failure is said (the service's tasks say theirs: TaskFailed)."""
        if event.state is WorkerState.ERROR and not self._closing and event.worker.error is not None:
            from bulkdash.service.tasks import describe

            error = describe(event.worker.error)
            self.notify(
                error, title=f"Unexpected error ({event.worker.name})", severity="error", markup=False
            )

    # --- screens ------------------------------------------------------------------------------------
    def run_screen(self, bulk_id: str) -> RunScreen | None:
        from bulkdash.ui.screens.run import RunScreen, screen_name

        name = screen_name(bulk_id)
        if not self.is_screen_installed(name):
            return None
        screen = self.get_screen(name)
        return screen if isinstance(screen, RunScreen) else None

    def open_bulk(self, bulk_id: str) -> None:
        if not flows.connected(self):
            return
        from bulkdash.ui.screens.run import RunScreen, screen_name

        name = screen_name(bulk_id)
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

    def show_bulks(self) -> None:
        """Back to the bulks (home), whatever was opened on the way: a run opened from another run (``n``, a
        scenario), the webhooks, the API calls. ``esc`` on a run says "Bulks", so it goes there."""
        if self.home not in self.screen_stack:
            self.pop_screen()
            return
        while self.screen is not self.home:
            self.pop_screen()

    def _drop_old_run_screens(self) -> None:
        from bulkdash.ui.screens.run import RunScreen

        in_stack = {s.id for s in self.screen_stack}
        for name in list(self._run_screens):
            if len(self._run_screens) <= MAX_RUN_SCREENS:
                break
            if name not in in_stack:
                self._run_screens.remove(name)
                screen = self.get_screen(name)
                self.uninstall_screen(name)
                if isinstance(screen, RunScreen):
                    self.service.unfollow_run(screen.bulk_id)  # an uninstalled screen is never closed

    def show_webhooks(self, *, bulk_id: str | None = None, tab: str = "received") -> None:
        from bulkdash.ui.screens.webhooks import WebhooksScreen  # off the start-up path

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

    # --- keys ---------------------------------------------------------------------------------------
    def action_new_bulk(self) -> None:
        flows.new_bulk(self)

    def action_webhooks(self) -> None:
        self.show_webhooks()

    def action_api_log(self) -> None:
        from bulkdash.ui.screens.api_log import ApiLogScreen

        if not isinstance(self.screen, ApiLogScreen):
            self.push_screen(ApiLogScreen())

    def action_help(self) -> None:
        from bulkdash.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_scenarios(self) -> None:
        from bulkdash.ui.screens.scenarios import ScenariosScreen  # training: not on the start-up path

        for screen in self.screen_stack:
            if isinstance(screen, ScenariosScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(ScenariosScreen())

    def action_checklist(self) -> None:
        training = self.service.training
        if training is None:
            self.notify("No scenario is being trained: s lists them", severity="warning", timeout=3)
            return
        from bulkdash.ui.screens.checklist import ChecklistScreen

        # Opened already, under the API calls or the webhooks looked up for an answer: back up to it. A second
        # one would clash with the first (one screen id) and hide that the answers are kept.
        for screen in self.screen_stack:
            if isinstance(screen, ChecklistScreen):
                while self.screen is not screen:
                    self.pop_screen()
                if screen.training is training:
                    return
                self.pop_screen()  # an ended scenario's checklist: the new one takes its place
                break
        self.push_screen(ChecklistScreen(training))

    # Presenter controls: straight to the service (it says how they went: PresenterChanged).
    action_world_pause = _calls("toggle_world")
    action_world_step = _calls("step_world")
    action_speed_up = _calls("faster")
    action_speed_down = _calls("slower")
    action_fault_now = _calls("fault_now")
    action_end_scenario = _calls("end_scenario")

    # --- training- and simulator-only actions (read-only ones: ``ReadOnlyApp``); the palette -------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        service = self._service  # not built yet (the first frame): nothing trained, no simulator known
        if action in {"checklist", "end_scenario"} and (service is None or service.training is None):
            return False
        if action == "checklist" and self.screen.id == "checklist":
            return False  # on it already: its footer has better use for the room (its own keys)
        if action in SIMULATOR_ACTIONS and (service is None or not service.has_simulator):
            return False  # a real Weavr endpoint has no scenarios and no presenter
        return super().check_action(action, parameters)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from palette.commands(self, screen)
        yield from super().get_system_commands(screen)

    # --- quitting -----------------------------------------------------------------------------------
    def _catch_signals(self) -> None:
        """SIGTERM and SIGINT quit in order, like ``q`` (a headless app shares its process: tests)."""
        if self.is_headless:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows; not the main thread
                loop.add_signal_handler(sig, self.exit)

    async def on_exit_app(self) -> None:
        # Every way out (q, ctrl+c, a signal, a closed browser tab) posts ExitApp. Restoring the terminal then
        # blocks this loop for ~0.2 s (Textual joins its input thread), so the service starts closing first:
        # a connect under way needs the loop to finish (it is not cut short), and the servers' shutdown waits,
        # once begun, run out during that block rather than after it.
        self._closing = True
        service = self._service
        if service is None:
            return  # quit before the first frame: nothing was started
        closing = asyncio.ensure_future(service.aclose())
        await service.connected(timeout=service.close_timeout_s)
        await asyncio.wait([closing], timeout=CLOSE_HEAD_START_S)

    async def on_unmount(self) -> None:
        self._closing = True
        if self._service is not None:
            await self._service.aclose()

    def run(self, *args: Any, **kwargs: Any) -> int | None:
        result = super().run(*args, **kwargs)
        # The process ends next, with everything closed (``on_unmount``): its last garbage collection over the
        # whole heap would take ~0.2 s of the 0.5 s quitting may take. Frozen objects are left to the OS.
        gc.freeze()
        return result
