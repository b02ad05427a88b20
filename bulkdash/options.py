"""Command-line options shared by more than one ``bulkdash`` command (``train`` and ``serve --train``)."""

from __future__ import annotations

import argparse

#: The presenter's playback speeds range (the simulator refuses others).
MIN_SPEED, MAX_SPEED = 0.1, 10.0
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
