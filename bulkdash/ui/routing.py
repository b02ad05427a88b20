"""What each event of the dashboard service (``bulkdash.service.events``) does on screen: which screen gets
which message, which screen opens; its notice, if any, becomes a toast.

``route`` runs in the app's handler of ``ServiceEvent`` (so it may touch widgets), never once quitting.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bulkdash.service import events as ev
from bulkdash.ui.format import clip, presenter_summary
from bulkdash.ui.messages import BulksFetched, RunUpdated, ScenariosLoaded

if TYPE_CHECKING:
    from bulkdash.ui.app import BulkdashApp

#: The longest notice text shown.
NOTICE_LIMIT = 400


def route(app: BulkdashApp, event: ev.Event) -> None:
    if (apply := ROUTES.get(type(event))) is not None:
        apply(app, event)
    if (notice := event.notice) is not None:
        # Notices quote the server (ids, errors): a 10,000-character id must not make a screen-sized toast.
        app.notify(
            clip(notice.text, NOTICE_LIMIT),
            title=clip(notice.title, 80),
            severity=notice.severity,
            timeout=notice.timeout,
            markup=False,
        )


def _connected(app: BulkdashApp, _: ev.Connected) -> None:
    app.home.session_ready()
    for screen in app.screen_stack:
        if screen.id == "scenarios":
            screen.load()  # type: ignore[attr-defined]


def _connect_failed(app: BulkdashApp, event: ev.ConnectFailed) -> None:
    app.home.session_failed(event.error)
    # The connect and webhooks screens are imported when first shown (off the start-up path): a screen whose
    # module is not loaded is not on the stack either.
    connect = sys.modules.get("bulkdash.ui.screens.connect")
    if app.choices and not (connect is not None and isinstance(app.screen, connect.ConnectScreen)):
        app.choose_connection()  # pick again (or fix the profile) rather than stay unconnected


def _webhook_received(app: BulkdashApp, event: ev.WebhookReceived) -> None:
    app.refresh_status_bars()
    webhooks = sys.modules.get("bulkdash.ui.screens.webhooks")
    if webhooks is None:
        return
    for screen in app.screen_stack:
        if isinstance(screen, webhooks.WebhooksScreen):
            screen.add_record(event.record)


def _run_changed(app: BulkdashApp, event: ev.RunChanged) -> None:
    if (screen := app.run_screen(event.bulk_id)) is not None:
        screen.post_message(RunUpdated(event.bulk_id, event.update))


def _submitted(app: BulkdashApp, event: ev.BulkSubmitted) -> None:
    if event.bulk_id is not None and event.error is None:
        app.open_bulk(event.bulk_id)


def _action_done(app: BulkdashApp, event: ev.ActionDone) -> None:
    if (screen := app.run_screen(event.bulk_id)) is not None:
        screen.refresh_brief()  # "your move: execute" is done


def _report_progressed(app: BulkdashApp, event: ev.ReportProgressed) -> None:
    if (screen := app.run_screen(event.bulk_id)) is not None:
        screen.report_progressed(event.progress)


def _report_written(app: BulkdashApp, event: ev.ReportWritten) -> None:
    if (screen := app.run_screen(event.bulk_id)) is not None:
        screen.report_ended()


def _scenarios_listed(app: BulkdashApp, event: ev.ScenariosListed) -> None:
    for screen in app.screen_stack:
        if screen.id == "scenarios":
            screen.post_message(ScenariosLoaded(event.scenarios, event.error))


def _training_started(app: BulkdashApp, event: ev.TrainingStarted) -> None:
    if event.training is not None:
        app.open_bulk(event.training.bulk_id)


def _presenter_changed(app: BulkdashApp, event: ev.PresenterChanged) -> None:
    if event.state is not None:
        app.refresh_status_bars()
        if not event.quiet:
            app.notify(presenter_summary(event.state), title="Presenter", timeout=3, key="presenter")


ROUTES: dict[type, Callable[[BulkdashApp, Any], None]] = {
    ev.Connected: _connected,
    ev.ConnectFailed: _connect_failed,
    ev.ConnectionChanged: lambda app, _: app.refresh_status_bars(),
    ev.WebhookReceived: _webhook_received,
    ev.BulksListed: lambda app, event: app.home.post_message(BulksFetched(event.page)),
    ev.RunChanged: _run_changed,
    ev.BulkSubmitted: _submitted,
    ev.ActionDone: _action_done,
    ev.ReportProgressed: _report_progressed,
    ev.ReportWritten: _report_written,
    ev.ScenariosListed: _scenarios_listed,
    ev.TrainingStarted: _training_started,
    ev.PresenterChanged: _presenter_changed,
}
