"""The ``bulkdash-sim`` command line (also ``python -m simulator``): :func:`main`.

``bulkdash-sim serve`` runs the simulator on its own (:mod:`.serve`); ``bulkdash-sim scenario list | run``
lists the training packs or plays one headless (:mod:`.scenario`, with the harness in :mod:`.runner`).
Whatever keeps a command from starting ends it with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from simulator.cli.scenario import add_scenario_command
from simulator.cli.serve import add_serve_command

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bulkdash-sim", description="Simulator of Weavr's bulk-process API")
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_command(commands)
    add_scenario_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
