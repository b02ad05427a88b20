"""From a key press to a service call through a dialog: a new bulk, execute (mode and webhookInterval), cancel
(after confirming), and the plain lifecycle actions. Shared by the bulks screen, the run screens, the app's
keys and the command palette; the service does the rest and says how it went (``bulkdash.service.events``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bulkdash.service.actions import BulkAction

if TYPE_CHECKING:  # the dialogs are imported when a key opens one: not on the way to the first frame
    from bulkdash.ui.app import BulkdashApp
    from bulkdash.ui.screens.execute import ExecuteChoice
    from bulkdash.ui.screens.new_bulk import NewBulkChoice

#: The screens' action names of the lifecycle keys (x p r c): a ``BulkAction``'s value each, so the screens'
#: ``check_action`` asks ``bulkdash.service.actions.allowed`` whether the bulk's state allows them.
LIFECYCLE = frozenset(action.value for action in BulkAction)


def connected(app: BulkdashApp) -> bool:
    """Whether there is a session to talk to; says so when there is not."""
    if app.service.session is None:
        app.notify("Not connected yet", severity="warning")
        return False
    return True


def new_bulk(app: BulkdashApp) -> None:
    if not connected(app):
        return
    from bulkdash.ui.screens.new_bulk import NewBulkScreen

    def submit(choice: NewBulkChoice | None) -> None:
        if choice is not None:
            app.notify(f"Submitting {len(choice.items):,} {choice.kind.value} item(s)…", timeout=3)
            app.service.submit(choice.kind, choice.items)

    app.push_screen(NewBulkScreen(token=app.token), submit)


def act(
    app: BulkdashApp,
    bulk_id: str,
    action: BulkAction,
    *,
    mode: str | None = None,
    webhook_interval: int | None = None,
) -> None:
    if connected(app):
        app.service.act(bulk_id, action, mode=mode, webhook_interval=webhook_interval)


def execute(app: BulkdashApp, bulk_id: str) -> None:
    """The execute dialog (pre-filled with a training scenario's options), then execute."""
    from bulkdash.ui.screens.execute import ExecuteChoice, ExecuteScreen

    def go(choice: ExecuteChoice | None) -> None:
        if choice is not None:
            act(app, bulk_id, BulkAction.EXECUTE, mode=choice.mode, webhook_interval=choice.webhook_interval)

    training = app.service.training
    if training is not None and training.bulk_id == bulk_id:
        s = training.scenario
        suggested = ExecuteChoice(s.mode, s.webhookInterval)
        app.push_screen(ExecuteScreen(bulk_id, suggested, f"The options of “{s.title}”."), go)
        return
    app.push_screen(ExecuteScreen(bulk_id), go)


def cancel(app: BulkdashApp, bulk_id: str) -> None:
    """Ask first: cancelling cannot be undone."""
    from bulkdash.ui.screens.confirm import ConfirmScreen

    def go(yes: bool | None) -> None:
        if yes:
            act(app, bulk_id, BulkAction.CANCEL)

    app.push_screen(
        ConfirmScreen(
            f"Cancel bulk {bulk_id}?",
            "Operations not run yet become CANCELLED; this cannot be undone.",
            yes="Cancel bulk",
        ),
        go,
    )
