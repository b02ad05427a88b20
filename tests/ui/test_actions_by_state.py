"""The lifecycle keys (x p r c) follow the bulk's state (``bulkdash.service.actions.ALLOWED_FROM``, §5.1):
offered in the footer, the bindings and the palette only when the state allows them, and doing nothing
otherwise; ``l``, ``e``, ``t`` are in the footer where they apply; read-only mode wears a badge; ``esc`` on
a run goes to the bulks, as its footer says, even for a run opened from another run."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from bulkdash.service.actions import ALLOWED_FROM, BulkAction, allowed
from bulkdash.session import EmbeddedOptions, Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.readonly import READ_ONLY_BADGE
from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.widgets.bulks_table import BulksTable
from bulkdash.ui.widgets.status_bar import StatusBar
from tests.ui.helpers import Gate, connected, execute, make_app, submit_bulk, until

WIDE = (160, 50)
LIFECYCLE_KEYS = {"x": "execute", "p": "pause", "r": "resume", "c": "cancel"}


def footer_keys(app: BulkdashApp) -> set[str]:
    return {key.key for key in app.screen.query(FooterKey)}


def offered(app: BulkdashApp) -> set[str]:
    """The lifecycle keys the screen's bindings offer (shown and enabled)."""
    active = app.screen.active_bindings
    return {key for key in LIFECYCLE_KEYS if key in active and active[key].enabled}


def palette_titles(app: BulkdashApp) -> set[str]:
    return {command.title for command in app.get_system_commands(app.screen)}


def record_acts(app: BulkdashApp) -> list[tuple[str, BulkAction]]:
    """Every action the dashboard sends to the service from now on (a key that does nothing sends none)."""
    calls: list[tuple[str, BulkAction]] = []
    act = app.service.act

    def recording(bulk_id: str, action: BulkAction, **kwargs: object) -> None:
        calls.append((bulk_id, action))
        act(bulk_id, action, **kwargs)  # type: ignore[arg-type]

    app.service.act = recording  # type: ignore[method-assign]
    return calls


async def footer_shows(pilot: Pilot, keys: set[str], hidden: frozenset[str] | set[str] = frozenset()) -> None:
    app = pilot.app
    assert isinstance(app, BulkdashApp)
    await until(
        pilot,
        lambda: keys <= footer_keys(app) and not hidden & footer_keys(app),
        what=f"the footer to show {sorted(keys)} and not {sorted(hidden)}",
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("SUBMITTED", {BulkAction.EXECUTE, BulkAction.CANCEL}),
        ("RUNNING", {BulkAction.PAUSE, BulkAction.CANCEL}),
        ("PAUSED", {BulkAction.RESUME, BulkAction.CANCEL}),
        ("COMPLETED", set()),
        ("PARTIALLY_COMPLETED", set()),
        ("FAILED", set()),
        ("CANCELLED", set()),
    ],
)
def test_the_state_table_is_the_matrix_of_behaviour_5_1(status: str, expected: set[BulkAction]) -> None:
    assert {action for action in BulkAction if allowed(status, action)} == expected
    assert {action for action in BulkAction if status in ALLOWED_FROM[action]} == expected


def test_an_unknown_state_is_neither_allowed_nor_refused() -> None:
    # None: the key is greyed (Textual's check_action), not hidden, until the status is known.
    assert allowed(None, BulkAction.PAUSE) is None
    assert allowed("ARCHIVED", BulkAction.CANCEL) is None


async def test_a_submitted_bulk_offers_execute_and_cancel() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await connected(pilot)
        await submit_bulk(pilot, size=5, fail_percent=0)
        await footer_shows(pilot, {"x", "c"}, {"p", "r"})
        assert offered(app) == {"x", "c"}
        titles = palette_titles(app)
        assert {"Execute bulk", "Cancel bulk"} <= titles
        assert not {"Pause bulk", "Resume bulk"} & titles


async def test_a_running_bulk_offers_pause_and_cancel_then_a_paused_one_resume() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=50, fail_percent=0)
        assert app.session is not None
        gate = Gate(app.session, at=11)
        await execute(pilot)
        await until(pilot, lambda: gate.reached and run.model.status == "RUNNING", what="RUNNING")
        await footer_shows(pilot, {"p", "c"}, {"x", "r"})
        assert offered(app) == {"p", "c"}
        acts = record_acts(app)
        await pilot.press("x", "r")  # not allowed while RUNNING: nothing is sent, no dialog opens
        await pilot.pause()
        assert acts == [] and app.screen is run

        await pilot.press("p")
        await until(pilot, lambda: gate.stop_requested(run.bulk_id), what="the pause to reach the simulator")
        gate.release()
        await until(pilot, lambda: run.model.status == "PAUSED", what="PAUSED")
        await footer_shows(pilot, {"r", "c"}, {"x", "p"})
        assert offered(app) == {"r", "c"}
        assert acts == [(run.bulk_id, BulkAction.PAUSE)]


async def test_a_completed_bulk_offers_no_lifecycle_key_and_p_does_nothing() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=5, fail_percent=0)
        await execute(pilot)
        await until(pilot, lambda: run.model.status == "COMPLETED", what="COMPLETED")
        await footer_shows(pilot, set(), set(LIFECYCLE_KEYS))
        assert offered(app) == set()
        assert not {"Execute bulk", "Pause bulk", "Resume bulk", "Cancel bulk"} & palette_titles(app)
        acts = record_acts(app)
        await pilot.press("p", "x", "r", "c")
        await pilot.pause()
        assert acts == []
        assert app.screen is run  # no execute dialog, no cancel confirmation


async def test_the_home_keys_follow_the_selected_bulk() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await connected(pilot)
        done = await submit_bulk(pilot, size=3, fail_percent=0)
        await execute(pilot)
        await until(pilot, lambda: done.model.is_final, what="the first bulk's end")
        await pilot.press("escape")
        await submit_bulk(pilot, size=3, fail_percent=0)  # stays SUBMITTED
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        table = app.home.query_one(BulksTable)
        await until(pilot, lambda: len(table.shown) == 2, what="both bulks listed")
        await until(pilot, lambda: "COMPLETED" in table.shown[done.bulk_id], what="the first one COMPLETED")
        table.move_cursor(row=0)  # newest first: the SUBMITTED one
        await footer_shows(pilot, {"x", "c"}, {"p", "r"})
        table.move_cursor(row=1)  # the COMPLETED one
        await footer_shows(pilot, set(), set(LIFECYCLE_KEYS))
        acts = record_acts(app)
        await pilot.press("p", "r")
        await pilot.pause()
        assert acts == []


async def test_l_e_and_t_are_in_the_footer_where_they_apply() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await connected(pilot)
        await footer_shows(pilot, {"l"})
        await submit_bulk(pilot, size=3, fail_percent=0)
        await footer_shows(pilot, {"l", "e", "t"})
        labels = {key.key: key.description for key in app.screen.query(FooterKey)}
        assert labels["e"] == "Report" and labels["t"] == "Timeline" and labels["l"] == "API calls"


async def test_read_only_mode_wears_a_badge() -> None:
    async def connect() -> Session:
        return await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))

    app = BulkdashApp(connect, token="t", read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        bar = app.home.query_one(StatusBar)
        await until(pilot, lambda: str(bar.content).startswith(f" {READ_ONLY_BADGE} "), what="the badge")
        assert bar.region.width == 80  # the whole line, first thing on it: never cut


async def test_no_badge_when_not_read_only() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        bar = app.home.query_one(StatusBar)
        await until(pilot, lambda: "connected" in str(bar.content), what="the status")
        assert READ_ONLY_BADGE not in str(bar.content)


async def test_esc_from_a_run_opened_from_another_run_goes_to_the_bulks() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await connected(pilot)
        first = await submit_bulk(pilot, size=3, fail_percent=0)
        second = await submit_bulk(pilot, size=3, fail_percent=0)  # n pressed on the first one's screen
        assert second is not first and app.screen is second
        esc = next(key for key in second.query(FooterKey) if key.key == "escape")
        assert esc.description == "Bulks"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), what="the bulks")
        assert app.screen is app.home
        assert not any(isinstance(screen, RunScreen) for screen in app.screen_stack)
