"""``bulkdash train``: the dashboard on the Scenarios screen, on a fresh embedded simulator played slowly.

Training needs no connection flags: its simulator is always the embedded one on a throw-away database (the
packs set up their own world), so ``--url``, ``--profile`` and the embedded simulator's flags are refused
rather than ignored; only ``--read-only`` applies. Read-only, the Scenarios screen lists the packs and their
customers' reports but starts none (starting one submits and runs a bulk, and the trainee's keys are the very
actions read-only hides); the screen says so instead of offering "Start".

Each pack plays at its own pace (``[run] speed``: its op delay slowed for a person) and waits, paused, until
the trainee starts it on its run's screen (space); ``--speed`` scales that pace further (1: as the pack says).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bulkdash.cli.options import add_speed_option

if TYPE_CHECKING:
    from bulkdash.cli.dashboard import Connector
    from bulkdash.session import Session

#: The dashboard flags ``train`` uses (the others are refused).
HONOURS = frozenset({"--read-only"})


def add_train_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = commands.add_parser(
        "train",
        help="training mode: the Scenarios screen on a fresh simulator database",
        description=(
            "Open the dashboard on the Scenarios screen, with the embedded simulator on a throw-away "
            "database: pick a customer's report, investigate the run it plays, answer its checklist (k). "
            "Presenter controls: P pauses the world, . steps one operation, + and - change the speed, "
            "! triggers the next fault now. A scenario's run waits for you: space starts it (and plays or "
            "pauses the world)."
        ),
    )
    add_speed_option(train, "playback speed of the simulator, 0.1 to 10, on top of each scenario's own pace")
    # SUPPRESS: `bulkdash --read-only train` (the dashboard's own flag) must not be reset here.
    train.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help=(
            "hide every action that changes something, presenter controls included (for projecting): "
            "the scenarios and their reports are listed, none can be started"
        ),
    )
    train.set_defaults(handler=run_training, honours=HONOURS)


def training_connector() -> Connector:
    """The embedded simulator on a throw-away database, sending transaction webhooks too (the packs are
    small and some questions are about them)."""

    async def embedded() -> Session:
        from bulkdash.session import EmbeddedOptions, Session

        return await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=50, transaction_webhooks=True))

    return embedded


def run_training(args: argparse.Namespace) -> int:
    """The Scenarios screen first, on a fresh simulator at the chosen playback speed."""
    from bulkdash.ui.app import BulkdashApp  # Textual is imported only when the dashboard runs

    app = BulkdashApp(
        training_connector(),
        read_only=bool(getattr(args, "read_only", False)),
        start="scenarios",
        speed=getattr(args, "speed", None),
    )
    return int(app.run() or 0)
