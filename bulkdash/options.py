"""What more than one ``bulkdash`` command shares: the playback speed option (``train``, ``serve --train``)
and running a server until it is stopped (``listen``, ``serve``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bulkdash.contract.presenter import MAX_SPEED, MIN_SPEED

TRAINING_SPEED = 0.25  # slow enough to follow a 12-operation scenario by eye


def playback_speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(f"must be between {MIN_SPEED:g} and {MAX_SPEED:g}, not {value:g}")
    return value


def add_speed_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, help: str) -> None:
    parser.add_argument(
        "--speed",
        type=playback_speed,
        default=TRAINING_SPEED,
        metavar="X",
        help=f"{help} (default: %(default)s)",
    )


def run_server(command: str, host: str, port: int, serve: Callable[[], object]) -> int:
    """Run ``serve`` until it returns or Ctrl-C: 0, or 1 with one line (no traceback) when it cannot start
    (the port is taken, the address does not exist, a directory cannot be created)."""
    try:
        serve()
    except OSError as exc:
        print(f"bulkdash {command}: cannot start on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass  # where the loop cannot install signal handlers (Windows): still a clean stop
    return 0
