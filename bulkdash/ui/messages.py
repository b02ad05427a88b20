"""Messages that workers post to the UI: every result of I/O reaches a widget only through one of these.

Workers run in the app's event loop (async workers, not threads), so ``post_message`` is safe from them and
from the session's listeners (webhook receiver, API-call log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

from bulkdash.contract.models import BulkProcess, BulkProcessDetails
from bulkdash.model.follow import RunUpdate

if TYPE_CHECKING:
    from bulkdash.contract.scenarios import ScenarioSummary
    from bulkdash.model.training import Training
    from bulkdash.session import Session
    from bulkdash.webhooks import ReceivedWebhook


class SessionReady(Message):
    """The session is connected (embedded simulator started and logged in, or remote client built)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session


class SessionFailed(Message):
    """Building the session failed; ``error`` is a human sentence, never a traceback."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


@dataclass
class BulksPage:
    """One poll of the home screen: a page of bulks (newest first) and the details known for them."""

    bulks: list[BulkProcess] = field(default_factory=list)
    total: int = 0
    details: dict[str, BulkProcessDetails] = field(default_factory=dict)
    page_key: tuple[object, ...] = ()  # (status filter, page) the poll was made for
    error: str | None = None
    retry_in_s: float | None = None


class BulksFetched(Message):
    def __init__(self, page: BulksPage) -> None:
        super().__init__()
        self.page = page


class RunUpdated(Message):
    """A ``RunUpdate`` from the follower of one bulk."""

    def __init__(self, bulk_id: str, update: RunUpdate) -> None:
        super().__init__()
        self.bulk_id = bulk_id
        self.update = update


class WebhookArrived(Message):
    def __init__(self, record: ReceivedWebhook) -> None:
        super().__init__()
        self.record = record


class WebhookHistoryLoaded(Message):
    def __init__(self, records: list[ReceivedWebhook]) -> None:
        super().__init__()
        self.records = records


class BulkActionDone(Message):
    """A lifecycle action (execute, pause, resume, cancel) was answered; ``error`` when refused or failed."""

    def __init__(self, bulk_id: str, action: str, error: str | None, code: str | None = None) -> None:
        super().__init__()
        self.bulk_id = bulk_id
        self.action = action
        self.error = error
        self.code = code


class BulkSubmitted(Message):
    def __init__(self, bulk_id: str | None, count: int, error: str | None = None) -> None:
        super().__init__()
        self.bulk_id = bulk_id
        self.count = count
        self.error = error


class ScenariosLoaded(Message):
    """The simulator's scenario packs (``error`` instead when they could not be listed)."""

    def __init__(self, scenarios: list[ScenarioSummary], error: str | None = None) -> None:
        super().__init__()
        self.scenarios = scenarios
        self.error = error


class TrainingStarted(Message):
    """A scenario was set up on the simulator (``error`` instead when it could not be)."""

    def __init__(self, training: Training | None, error: str | None = None) -> None:
        super().__init__()
        self.training = training
        self.error = error


class PresenterChanged(Message):
    """The simulator's playback state after a presenter control (``error`` when the control failed)."""

    def __init__(
        self, state: dict[str, object] | None, error: str | None = None, *, quiet: bool = False
    ) -> None:
        super().__init__()
        self.state = state
        self.error = error
        self.quiet = quiet  # set by the app itself (the starting speed): no toast
