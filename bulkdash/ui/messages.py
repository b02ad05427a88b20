"""Messages that carry the dashboard service's events to the app and its screens: every result of I/O
reaches a widget only through one of these.

The service calls the app's listener in this event loop (its tasks, the webhook receiver), which posts a
``ServiceEvent``; the app's handler passes what concerns a screen on as that screen's message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # annotations only: the first screen is drawn before the service's modules are imported
    from bulkdash.contract.scenarios import ScenarioSummary
    from bulkdash.model.follow import RunUpdate
    from bulkdash.service.bulks import BulksPage
    from bulkdash.service.events import Event
    from bulkdash.webhooks import ReceivedWebhook


class ServiceEvent(Message):
    """An event of ``bulkdash.service.events``, for the app."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class BulksFetched(Message):
    """One poll of the bulk list, for the home screen."""

    def __init__(self, page: BulksPage) -> None:
        super().__init__()
        self.page = page


class RunUpdated(Message):
    """A ``RunUpdate`` from the follower of one bulk, for its run screen."""

    def __init__(self, bulk_id: str, update: RunUpdate) -> None:
        super().__init__()
        self.bulk_id = bulk_id
        self.update = update


class ScenariosLoaded(Message):
    """The simulator's scenario packs (``error`` instead when they could not be listed)."""

    def __init__(self, scenarios: list[ScenarioSummary], error: str | None = None) -> None:
        super().__init__()
        self.scenarios = scenarios
        self.error = error


class WebhookHistoryLoaded(Message):
    def __init__(self, records: list[ReceivedWebhook]) -> None:
        super().__init__()
        self.records = records
