"""What the service tells its listeners: plain dataclasses, one per thing that happened, and an async stream
of them for tests and scripts.

An event that deserves a toast carries its ``notice`` (the sentence, its title, severity and how long it
stays): the words are decided here, once, and the dashboard only shows them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from bulkdash.model.follow import RunUpdate
from bulkdash.service.actions import BulkAction
from bulkdash.service.bulks import BulksPage

if TYPE_CHECKING:
    from bulkdash.contract.scenarios import ScenarioSummary
    from bulkdash.model.training import Training
    from bulkdash.report import ReportProgress
    from bulkdash.webhooks import ReceivedWebhook

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    title: str = ""
    severity: Severity = "information"
    timeout: float | None = None  # None: the dashboard's default


@dataclass(frozen=True, slots=True)
class Connected:
    label: str
    notice = None


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    error: str  # a sentence, never a traceback

    @property
    def notice(self) -> Notice:
        return Notice(self.error, title="Not connected", severity="error")


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """Connecting, connected, unreachable: the status bar redraws."""

    state: str
    notice = None


@dataclass(frozen=True, slots=True)
class WebhookReceived:
    record: ReceivedWebhook
    notice = None


@dataclass(frozen=True, slots=True)
class BulksListed:
    page: BulksPage
    notice = None


@dataclass(frozen=True, slots=True)
class RunChanged:
    bulk_id: str
    update: RunUpdate
    notice = None


@dataclass(frozen=True, slots=True)
class BulkSubmitted:
    """A submission's answer. Weavr's 201 requires none of its fields: ``bulk_id`` and ``count`` may be
    missing from an accepted submission (then the bulk can only be found in the list)."""

    bulk_id: str | None
    count: int | None
    error: str | None = None
    #: No answer came (the connection dropped, a timeout), retries included: the bulk may exist all the same.
    unanswered: bool = False

    @property
    def notice(self) -> Notice:
        if self.error and self.unanswered:
            # Not "refused": the server may have created it, and a second submission would be a second bulk.
            return Notice(
                f"{self.error}. The server may have created the bulk all the same: look for it in the list "
                "before submitting again.",
                title="Submission: no answer",
                severity="warning",
                timeout=15,
            )
        if self.error:
            return Notice(self.error, title="Submission refused", severity="error", timeout=10)
        size = "" if self.count is None else f": {self.count:,} operations"
        if self.bulk_id is None:
            return Notice(
                f"Submitted{size}, but the server sent no bulk id: find the bulk in the list.",
                title="Submission accepted",
                severity="warning",
                timeout=10,
            )
        return Notice(f"Bulk {self.bulk_id} submitted{size}. Press x to execute.")


@dataclass(frozen=True, slots=True)
class ActionDone:
    """A lifecycle action was answered; ``error`` when refused or failed (``code``: the 409's errorCode)."""

    bulk_id: str
    action: BulkAction
    error: str | None = None
    code: str | None = None

    @property
    def notice(self) -> Notice:
        if self.error is not None:
            # The refusal in words, what to do, and the errorCode in brackets (bulkdash.contract.refusals):
            # "Cannot pause bulk 7: Bulk 7 is SUBMITTED, and pausing needs it RUNNING. … [INVALID_STATE]".
            return Notice(
                f"Cannot {self.action.verb} bulk {self.bulk_id}: {self.error}", severity="error", timeout=12
            )
        return Notice(f"{self.action.done}: bulk {self.bulk_id}", timeout=4)


@dataclass(frozen=True, slots=True)
class ReportProgressed:
    """A report being written fetched a page, or waits for the request budget (``bulkdash.report``)."""

    bulk_id: str
    progress: ReportProgress
    notice = None  # the run screen's report panel shows it


@dataclass(frozen=True, slots=True)
class ReportWritten:
    """A report ended: written to ``path``, failed (``error``), or ``cancelled`` (nothing written)."""

    bulk_id: str
    path: Path | None
    error: str | None = None
    cancelled: bool = False

    @property
    def notice(self) -> Notice:
        if self.cancelled:
            return Notice("Report cancelled: nothing was written", title=f"Bulk {self.bulk_id}", timeout=4)
        if self.path is None:
            return Notice(f"Report not written: {self.error}", severity="error", timeout=8)
        return Notice(f"Report written to {self.path}", title=f"Bulk {self.bulk_id}", timeout=8)


@dataclass(frozen=True, slots=True)
class ScenariosListed:
    scenarios: list[ScenarioSummary]
    error: str | None = None
    notice = None  # the Scenarios screen says it in place


@dataclass(frozen=True, slots=True)
class TrainingStarted:
    training: Training | None
    error: str | None = None

    @property
    def notice(self) -> Notice:
        t = self.training
        if t is None:
            return Notice(f"Scenario not set up: {self.error}", severity="error", timeout=8)
        if t.execute_refused:
            # The bulk exists; the simulator refused to run it now (another bulk of its kind is running).
            return Notice(
                f"Bulk {t.bulk_id} was submitted but not executed: {t.execute_refused}. "
                "Execute it (x) once the other bulk has ended.",
                title=t.scenario.title,
                severity="warning",
                timeout=12,
            )
        if t.phase == "ready":
            # The simulator waits (paused) until the trainee, now on the run's screen, starts it.
            first = "execute it (x)" if not t.executed else "press space"  # as ``Training.prompt`` says
            return Notice(
                f"Bulk {t.bulk_id} is set up: {first} to start. k opens the checklist.",
                title=t.scenario.title,
            )
        move = "execute it (x) and act on it" if not t.executed else "it is running"
        return Notice(f"Bulk {t.bulk_id}: {move}. k opens the checklist.", title=t.scenario.title)


@dataclass(frozen=True, slots=True)
class TrainingChanged:
    """The scenario's run now waits for the trainee's move (``Training.phase`` "your move")."""

    training: Training

    @property
    def notice(self) -> Notice | None:
        prompt = self.training.prompt()
        return None if prompt is None else Notice(prompt, title=self.training.scenario.title, timeout=8)


@dataclass(frozen=True, slots=True)
class TrainingEnded:
    training: Training

    @property
    def notice(self) -> Notice:
        t = self.training
        total = len(t.questions)
        # "0/3 correct" read as three wrong answers when none was given.
        result = f"{t.score}/{total} correct" if t.answered else f"0 of {total} answered"
        return Notice(f"{t.scenario.title}: {result}. Its faults are cleared.", title="Scenario ended")


@dataclass(frozen=True, slots=True)
class PresenterChanged:
    """The simulator's playback state after a presenter control (``error`` when the control failed)."""

    state: dict[str, object] | None
    error: str | None = None
    quiet: bool = False  # the starting speed, set by the service itself: no toast
    #: ``error`` is a control the world's state does not allow (a step while it runs), said as a sentence:
    #: a warning, not a failure.
    refused: bool = False

    @property
    def notice(self) -> Notice | None:
        # A change is worded by the dashboard with its status bar's summary (``ui.format.presenter_summary``).
        if self.state is not None:
            return None
        if self.refused:
            return Notice(self.error or "", title="Presenter", severity="warning", timeout=6)
        return Notice(f"Presenter: {self.error}", severity="error", timeout=6)


#: A step asked of a running world (the simulator's 409 ``WORLD_NOT_PAUSED``), in words.
STEP_NEEDS_PAUSE = "Step runs one operation while the world is paused: press P to pause it first."


@dataclass(frozen=True, slots=True)
class TaskFailed:
    """Background work ended with an exception nobody expected (a bug): said once, never a traceback."""

    task: str
    error: str

    @property
    def notice(self) -> Notice:
        return Notice(self.error, title=f"Unexpected error ({self.task})", severity="error", timeout=10)


Event = (
    Connected
    | ConnectFailed
    | ConnectionChanged
    | WebhookReceived
    | BulksListed
    | RunChanged
    | BulkSubmitted
    | ActionDone
    | ReportProgressed
    | ReportWritten
    | ScenariosListed
    | TrainingStarted
    | TrainingChanged
    | TrainingEnded
    | PresenterChanged
    | TaskFailed
)
Listener = Callable[[Event], None]
E = TypeVar("E")


class EventStream:
    """The service's events from now on, in order (``async for``, or ``next_of`` to wait for one kind).

    ``async with service.events() as events: ...`` unsubscribes at the end.
    """

    def __init__(self, subscribe: Callable[[Listener], Callable[[], None]]) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._unsubscribe = subscribe(self._queue.put_nowait)

    def close(self) -> None:
        self._unsubscribe()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()

    async def until(self, condition: Callable[[], object], *, timeout: float = 10.0) -> None:
        """Return once ``condition()`` holds, checking it now and after each event; AssertionError after
        ``timeout`` s. (Checked first: the event that made it true may have been taken already.)"""
        if not condition():
            await self.next_of(object, lambda _: condition(), timeout=timeout)

    async def next_of(
        self, kind: type[E], where: Callable[[E], object] = lambda _: True, *, timeout: float = 10.0
    ) -> E:
        """The next event of ``kind`` for which ``where`` holds; AssertionError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                # asyncio.timeout, not wait_for: see bulkdash/waiting.py.
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    event = await self._queue.get()
            except TimeoutError:
                raise AssertionError(f"no {kind.__name__} within {timeout} s") from None
            if isinstance(event, kind) and where(event):
                return event
