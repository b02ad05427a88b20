"""``bulkdash-sim scenario list | run NAME [--seed N] [--db PATH] [--answers] | lint [FILE...]
| validate FILE... | new NAME [--dir DIR] | schema``.

The scenario packs (shipped, the trainer's folder, ``--packs DIR``); one of them played headless
(:mod:`simulator.cli.runner`) with the run's facts and MATCH or MISMATCH (exit 0 or 1), and the checklist's
answer key only with ``--answers``; packs checked for questions a trainee could guess
(:mod:`simulator.scenarios.lint`, exit 1 on any problem); and the trainer's tools
(:mod:`simulator.scenarios.authoring`): every problem of a pack file by line and field, a commented template,
the format's JSON Schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROG = "bulkdash-sim"
CANNOT_START = 2


def add_scenario_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scenario = commands.add_parser("scenario", help="training scenarios: list them, or play one headless")
    scenario.add_argument(
        "--packs",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also read the packs in DIR (repeatable; beside the shipped ones and your pack folder)",
    )
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    scenario_sub.add_parser("list", help="list the scenarios (shipped, your pack folder, --packs)")
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
    validate = scenario_sub.add_parser(
        "validate", help="check pack files: every problem with its line and field; exit 1 on any"
    )
    validate.add_argument("files", nargs="+", type=Path, help="pack files (.toml)")
    new = scenario_sub.add_parser("new", help="write a commented pack to start from (NAME.toml)")
    new.add_argument("name", help="the pack's name: lower-case letters, digits and dashes")
    new.add_argument(
        "--dir", type=Path, help="folder to write it in (default: your pack folder, see 'scenario list')"
    )
    scenario_sub.add_parser("schema", help="print the JSON Schema of the pack format (for editors)")
    replay = scenario_sub.add_parser(
        "from-report", help="write a pack that replays the run a report folder records (anonymised)"
    )
    replay.add_argument("report", type=Path, help="the folder a run report was written to")
    replay.add_argument("--name", help="the pack's name (default: replay-<bulk id>)")
    replay.add_argument(
        "--dir", type=Path, help="folder to write it in (default: your pack folder, see 'scenario list')"
    )
    replay.add_argument(
        "--keep",
        default="",
        metavar="FIELDS",
        help="comma-separated fields to keep from the report instead of anonymising: amount,description,tag",
    )
    scenario.set_defaults(handler=scenario_command)


def scenario_command(args: argparse.Namespace) -> int:
    from simulator.faults import PlanError
    from simulator.scenarios import get_scenario, list_scenarios
    from simulator.scenarios.sources import use_pack_dirs

    use_pack_dirs(args.packs)
    if args.scenario_command in _AUTHORING:
        return _AUTHORING[args.scenario_command](args)
    if args.scenario_command == "lint":
        return _lint(args.files)
    try:
        scenarios = list_scenarios()
    except (PlanError, OSError) as exc:
        print(f"{PROG}: a scenario pack is invalid:\n{exc}", file=sys.stderr)
        return CANNOT_START
    if args.scenario_command == "list":
        return _list(scenarios)
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


def _list(scenarios: list) -> int:
    from simulator.scenarios import pack_problems
    from simulator.scenarios.sources import extra_dirs, user_packs_dir

    width = max(len(s.name) for s in scenarios)
    for s in scenarios:
        print(f"{s.name:<{width}}  {s.title}  ({s.bulk.size} × {s.bulk.kind.value}, {s.execute.mode})")
    folders = [str(user_packs_dir()), *map(str, extra_dirs())]
    # On stderr: stdout stays one line per pack, for scripts.
    print(f"pack folders read besides the shipped packs: {', '.join(folders)}", file=sys.stderr)
    problems = pack_problems()
    for problem in problems:
        print(f"left out, invalid: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _validate(args: argparse.Namespace) -> int:
    from simulator.scenarios.authoring import validate_file

    bad = 0
    for path in args.files:
        problems = validate_file(path)
        for problem in problems:
            print(problem)
        if problems:
            bad += 1
        else:
            print(f"{path}: OK")
    return 1 if bad else 0


def _new(args: argparse.Namespace) -> int:
    from simulator.scenarios.authoring import check_name, template
    from simulator.scenarios.sources import user_packs_dir

    why = check_name(args.name)
    if why is not None:
        print(f"{PROG}: cannot name a pack {args.name!r}: {why}", file=sys.stderr)
        return CANNOT_START
    folder = args.dir if args.dir is not None else user_packs_dir()
    path = _write_new(folder, args.name, template(args.name))
    if path is None:
        return CANNOT_START
    print(f"wrote {path}\nedit it, then: {PROG} scenario validate {path}")
    return 0


def _write_new(folder: Path, name: str, text: str) -> Path | None:
    """Write a new pack file (never over an existing one); None after saying why it could not."""
    path = folder / f"{name}.toml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # never overwrite a trainer's pack
            out.write(text)
    except FileExistsError:
        print(f"{PROG}: {path} exists already; choose another name or remove it", file=sys.stderr)
        return None
    except OSError as exc:
        print(f"{PROG}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return None
    return path


def _from_report(args: argparse.Namespace) -> int:
    from simulator.scenarios.authoring import check_name, validate_file
    from simulator.scenarios.from_report import KEEPABLE, ReportError, pack_text, read_incident
    from simulator.scenarios.sources import user_packs_dir

    keep = [k.strip() for k in args.keep.split(",") if k.strip()]
    unknown = sorted(set(keep) - set(KEEPABLE))
    if unknown:
        print(f"{PROG}: --keep {','.join(unknown)}: only {', '.join(KEEPABLE)} can be kept", file=sys.stderr)
        return CANNOT_START
    try:
        incident = read_incident(args.report)
    except ReportError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return CANNOT_START
    name = args.name or f"replay-{args.report.resolve().name.removeprefix('bulkdash-report-')}".lower()
    why = check_name(name)
    if why is not None:
        print(f"{PROG}: cannot name a pack {name!r}: {why} (give --name)", file=sys.stderr)
        return CANNOT_START
    folder = args.dir if args.dir is not None else user_packs_dir()
    path = _write_new(folder, name, pack_text(incident, name, str(args.report), keep))
    if path is None:
        return CANNOT_START
    problems = validate_file(path)
    for problem in problems:
        print(f"to fix: {problem}")
    print(f"wrote {path}\nedit its narrative and questions, then: {PROG} scenario run {name}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    import json

    from simulator.scenarios.authoring import schema

    print(json.dumps(schema(), indent=2))
    return 0


_AUTHORING = {"validate": _validate, "new": _new, "schema": _schema, "from-report": _from_report}
