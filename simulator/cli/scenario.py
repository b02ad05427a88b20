"""``bulkdash-sim scenario list | run NAME [--seed N] [--db PATH] [--answers] | lint [FILE...]``: the shipped
scenario packs; one of them played headless (:mod:`simulator.cli.runner`) with the run's facts and MATCH or
MISMATCH (exit 0 or 1), and the checklist's answer key only with ``--answers``; or packs checked for
questions a trainee could guess (:mod:`simulator.scenarios.lint`, exit 1 on any problem)."""

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
    run.add_argument(
        "--answers", action="store_true", help="also print the checklist's answer key (for presenters)"
    )
    lint = scenario_sub.add_parser("lint", help="check packs for guessable questions; exit 1 on any problem")
    lint.add_argument("files", nargs="*", type=Path, help="pack files (default: every shipped pack)")
    scenario.set_defaults(handler=scenario_command)


def scenario_command(args: argparse.Namespace) -> int:
    from simulator.faults import PlanError
    from simulator.scenarios import get_scenario, list_scenarios

    if args.scenario_command == "lint":
        return _lint(args.files)
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
        return run_scenario_sync(found, args.seed, db=args.db, answers=args.answers)
    except StoreError as exc:  # --db names a file that cannot serve
        print(f"{PROG}: {exc}", file=sys.stderr)
        return CANNOT_START


def _lint(files: list[Path]) -> int:
    from simulator.faults import PlanError
    from simulator.scenarios.lint import lint_files

    try:
        count, errors = lint_files(files)
    except PlanError as exc:  # a shipped pack does not even load
        print(f"{PROG}: a scenario pack is invalid:\n{exc}", file=sys.stderr)
        return 1
    for error in errors:
        print(error)
    packs = len({e.pack for e in errors})
    if errors:
        print(f"{len(errors)} problem{'s' * (len(errors) != 1)} in {packs} of {count} packs")
        return 1
    print(f"{count} pack{'s' * (count != 1)} OK")
    return 0
