"""The command palette (ctrl+p): the app's commands that are allowed now (read-only mode, training, a real
endpoint hide some), the shown screen's own actions, then webhooks, the API log and help."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from bulkdash.ui.app import BulkdashApp

#: (action of the app, title, help) — listed when ``check_action`` allows it.
APP_COMMANDS = (
    ("scenarios", "Scenarios", "Training scenarios: a customer's report to investigate (s)"),
    ("checklist", "Checklist", "The questions of the scenario being trained (k)"),
    ("end_scenario", "End the scenario", "Clear its fault plan from the simulator; its bulks stay"),
    ("world_pause", "Pause / resume the world", "Presenter: hold every operation and webhook (P)"),
    ("world_step", "Step one operation", "Presenter: while the world is paused, run one operation (.)"),
    ("speed_up", "Faster playback", "Presenter: double the simulator's speed (+)"),
    ("speed_down", "Slower playback", "Presenter: halve the simulator's speed (-)"),
    ("fault_now", "Trigger the next fault now", "Presenter: the next operation fails (!)"),
)
#: (action of a screen, title, help) — listed when the shown screen has it.
SCREEN_COMMANDS = (
    ("execute", "Execute bulk", "Execute the bulk on screen or selected (x)"),
    ("pause", "Pause bulk", "Pause the running bulk (p)"),
    ("resume", "Resume bulk", "Resume the paused bulk (r)"),
    ("cancel", "Cancel bulk", "Cancel the bulk, after confirming (c)"),
    ("filter", "Filter", "Filter by status (/ on the bulks screen, f on a run)"),
    ("search", "Search operations", "Search the operations on this page (/)"),
    ("timeline", "Delivery timeline", "API calls, state changes and webhooks of this bulk (t)"),
    ("export", "Export report", "Markdown report and JSON Lines of this bulk (e)"),
    ("cancel_report", "Cancel report", "Stop the report being written: nothing is written"),
)


def commands(app: BulkdashApp, screen: Screen) -> Iterable[SystemCommand]:
    if not app.read_only:
        yield SystemCommand("New bulk", "Submit a new bulk (n)", app.action_new_bulk)
    for action, title, help_text in APP_COMMANDS:
        if action == "world_step" and (s := app.started_service) is not None and s.world_running:
            continue  # a step needs a paused world: not offered while it runs (``.`` says why)
        if app.check_action(action, ()):
            yield SystemCommand(title, help_text, getattr(app, f"action_{action}"))
    for action, title, help_text in SCREEN_COMMANDS:
        if hasattr(screen, f"action_{action}") and screen.check_action(action, ()):  # read-only, bulk state
            yield SystemCommand(title, help_text, lambda a=action, s=screen: s.run_action(a))
    yield SystemCommand("Webhooks", "Every webhook received (w)", app.action_webhooks)
    yield SystemCommand("API calls", "Every request made, copyable as curl (l)", app.action_api_log)
    yield SystemCommand("Notifications", "Every toast shown, newest last (N)", app.action_notifications)
    yield SystemCommand("Help", "Keys and screens (?)", app.action_help)
