"""Regenerate the README's screenshots (screenshots/*.svg) from a throw-away embedded simulator.

    .venv/bin/python scripts/screenshots.py [--out screenshots]

Drives the real dashboard with Textual's Pilot (``run_test``) and saves each screen with ``save_screenshot``:
home, a running bulk, a finished bulk with failures, an operation's detail, the webhooks, and help.
Waits on conditions, never on fixed sleeps, so it takes a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from bulkdash.session import EmbeddedOptions, Session  # noqa: E402
from bulkdash.ui.app import BulkdashApp  # noqa: E402
from bulkdash.ui.screens.home import HomeScreen  # noqa: E402
from bulkdash.ui.screens.run import RunScreen  # noqa: E402
from bulkdash.ui.screens.webhooks import WebhooksScreen  # noqa: E402
from bulkdash.ui.widgets.bulks_table import BulksTable  # noqa: E402
from bulkdash.ui.widgets.ops_table import OpsTable  # noqa: E402
from bulkdash.ui.widgets.webhook_table import WebhookTable  # noqa: E402

SIZE = (130, 38)


async def until(pilot: Pilot, condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"screenshot flow stuck waiting for {condition}")
        await pilot.pause(0.05)


async def submit(pilot: Pilot, kind: str, size: int, fail_percent: float) -> RunScreen:
    app = pilot.app
    await pilot.press("n")
    await until(pilot, lambda: app.screen.id == "new-bulk")
    app.screen.query_one("#new-kind").value = kind
    app.screen.query_one("#new-size").value = str(size)
    app.screen.query_one("#new-fail").value = str(fail_percent)
    app.screen.query_one("#new-size").focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.model.rows)
    assert isinstance(app.screen, RunScreen)
    return app.screen


async def execute(pilot: Pilot, interval: int | None = None) -> None:
    app = pilot.app
    await pilot.press("x")
    await until(pilot, lambda: app.screen.id == "execute")
    field = app.screen.query_one("#execute-interval")
    field.value = "" if interval is None else str(interval)
    field.focus()
    await pilot.press("enter")
    await until(pilot, lambda: app.screen.id != "execute")


async def main(out: Path) -> None:
    async def connect() -> Session:
        return await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=3, rate_limits="off"))

    app = BulkdashApp(connect, token="demo")
    async with app.run_test(size=SIZE, notifications=True) as pilot:

        async def shot(name: str, *, keep_toasts: bool = False) -> None:
            if not keep_toasts:
                app.clear_notifications()
            await pilot.pause()  # let the toast rack catch up before the picture
            app.save_screenshot(f"{name}.svg", str(out))
            print(f"wrote {out / name}.svg")

        await until(pilot, lambda: app.session is not None and app.home.polls > 0)
        finished = await submit(pilot, "transfers", 200, 7)
        await execute(pilot)
        await until(pilot, lambda: finished.model.is_final and finished.model.details.executionFinish)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))

        running = await submit(pilot, "transfers", 3000, 5)
        await execute(pilot, interval=500)
        await until(pilot, lambda: running.model.progress() > 0.35 and len(running.model.rates) > 8)
        ops = running.query_one(OpsTable)
        await until(pilot, lambda: any(cells[3] == "COMPLETED" for cells in ops.shown.values()))
        await shot("running-bulk")

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        table = app.home.query_one(BulksTable)
        await until(pilot, lambda: finished.bulk_id in table.shown and table.shown[finished.bulk_id][4])
        await shot("home")

        await until(pilot, lambda: running.model.is_final, timeout=60)
        app.open_bulk(finished.bulk_id)
        await until(pilot, lambda: app.screen is finished)
        app.clear_notifications()
        finished._announce_final()  # the toast it showed when it finished, for the picture
        await shot("finished-bulk", keep_toasts=True)

        app.clear_notifications()
        finished.query_one(OpsTable).move_cursor(row=14)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.id == "operation")
        await shot("operation-detail")
        await pilot.press("escape")

        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WebhooksScreen))
        await until(pilot, lambda: app.screen.query_one(WebhookTable).row_count >= 5)
        await shot("webhooks")

        await pilot.press("question_mark")
        await until(pilot, lambda: app.screen.id == "help")
        await shot("help")


async def training(out: Path) -> None:
    """``bulkdash train``: the Scenarios list, a scenario's run with its brief, the checklist."""

    async def connect() -> Session:
        return await Session.embedded(
            EmbeddedOptions(fresh=True, op_delay_ms=3, rate_limits="off", transaction_webhooks=True)
        )

    app = BulkdashApp(connect, token="demo", start="scenarios")
    async with app.run_test(size=SIZE, notifications=True) as pilot:

        async def shot(name: str) -> None:
            app.clear_notifications()
            await pilot.pause()
            app.save_screenshot(f"{name}.svg", str(out))
            print(f"wrote {out / name}.svg")

        await until(pilot, lambda: app.session is not None)
        table = app.screen.query_one("#scenarios-table", DataTable)
        await until(pilot, lambda: table.row_count > 0)
        table.move_cursor(row=table.get_row_index("stop-on-first-failure"))
        await shot("scenarios")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        run = app.screen
        await pilot.press("space")  # the scenario waits for its trainee
        await until(pilot, lambda: run.model.is_final and len(run.model.rows) == 12)
        await shot("scenario-run")
        await pilot.press("k")
        await until(pilot, lambda: app.screen.id == "checklist")
        await pilot.press("h", "2")  # a hint, then an answer to "Which operation stopped the run?"
        await shot("checklist")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    out_dir = parser.parse_args().out
    out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out_dir))
    asyncio.run(training(out_dir))
