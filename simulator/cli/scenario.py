"""``bulkdash-sim scenario list | run NAME [--seed N] [--db PATH]``: the shipped scenario packs, or one of
them played headless (:mod:`simulator.cli.runner`) with a summary and MATCH or MISMATCH (exit 0 or 1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROG = "bulkdash-sim"
CANNOT_START = 2


def add_scenario_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scenario = commands.add_parser("scenario", help="training scenarios: list them, or play one headless")
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    scenario_sub.add_parser("list", help="list the shipped scenarios")
    run = scenario_sub.add_parser("run", help="submit, execute and follow a scenario; MATCH or MISMATCH")
    run.add_argument("name", help="scenario name (see 'scenario list')")
    run.add_argument(
        "--seed", type=int, help="seed of the fault plan and generated items (default: the pack's)"
    )
    run.add_argument("--db", type=Path, help="SQLite file to run on (default: a temporary one)")
    scenario.set_defaults(handler=scenario_command)


def scenario_command(args: argparse.Namespace) -> int:
    from simulator.faults import PlanError
    from simulator.scenarios import get_scenario, list_scenarios

    try:
        scenarios = list_scenarios()
    except PlanError as exc:
        print(f"{PROG}: a scenario pack is invalid:\n{exc}", file=sys.stderr)
        return CANNOT_START
    if args.scenario_command == "list":
        width = max(len(s.name) for s in scenarios)
        for s in scenarios:
            print(f"{s.name:<{width}}  {s.title}  ({s.bulk.size} × {s.bulk.kind.value}, {s.execute.mode})")
        return 0
    found = get_scenario(args.name)
    if found is None:
        print(f"{PROG}: no scenario {args.name!r}; try '{PROG} scenario list'", file=sys.stderr)
        return CANNOT_START
    from simulator.cli.runner import run_scenario_sync
    from simulator.store.store import StoreError

    try:
        return run_scenario_sync(found, args.seed, db=args.db)
    except StoreError as exc:  # --db names a file that cannot serve
        print(f"{PROG}: {exc}", file=sys.stderr)
        return CANNOT_START
