"""``bulkdash classroom``: a whole class on one machine — one shared simulator (a world per trainee), every
trainee's dashboard in their browser, the instructor's live view; ``bulkdash classroom export``: the results.

``bulkdash classroom [--host H] [--port P] [--public-url URL] [--data DIR] [--packs DIR] [--speed X]``
prints the URL trainees open and the instructor's URL (with its token), and serves until Ctrl-C. Results and
worlds live in ``--data`` (default: the per-user data dir's ``classroom`` folder), so a restart — even after
``kill -9`` — keeps every answer and every trainee's world.

``bulkdash classroom export [--data DIR] [--out DIR]`` writes ``results.csv`` and ``summary.md``.

``bulkdash classroom trainee`` is what each browser tab runs (started by the classroom, told its world and
secret in its environment); it is not listed in the help.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulkdash.cli.options import CannotStart, add_speed_option, fail, port_number, run_server

if TYPE_CHECKING:
    from bulkdash.classroom.store import ClassStore

COMMAND = "classroom"
DEFAULT_PORT = 8000
INSTRUCTOR_TOKEN_ENV = "BULKDASH_INSTRUCTOR_TOKEN"
HONOURS: frozenset[str] = frozenset()


def default_data_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path("bulkdash", appauthor=False) / "classroom"


def add_classroom_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    classroom = commands.add_parser(
        COMMAND,
        help="a class in the browser: one shared simulator, a world per trainee, the instructor's live view",
        description=(
            "Serve a training class: trainees open the URL, type a name and train in a simulated world of "
            "their own; the instructor's page (URL printed at start, with its token) shows everyone live "
            "and can start a scenario for all, pause every world, end the session. Binds to 127.0.0.1 "
            "unless --host says otherwise."
        ),
    )
    classroom.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    classroom.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port to bind (default: %(default)s)"
    )
    classroom.add_argument(
        "--public-url", metavar="URL", help="the URL trainees' browsers open (default: http://HOST:PORT)"
    )
    classroom.add_argument(
        "--data", type=Path, metavar="DIR", help="results and worlds (default: the per-user data dir)"
    )
    classroom.add_argument(
        "--packs", type=Path, action="append", default=[], metavar="DIR",
        help="also offer the scenario packs in DIR (repeatable)",
    )
    add_speed_option(classroom, "the worlds' playback speed")
    sub = classroom.add_subparsers(dest="classroom_command", metavar="{export}")
    export = sub.add_parser("export", help="write the results as results.csv and summary.md")
    # SUPPRESS: `bulkdash classroom --data DIR export` must keep the DIR given before `export`.
    export.add_argument(
        "--data", type=Path, metavar="DIR", default=argparse.SUPPRESS, help="the classroom's data folder"
    )
    export.add_argument(
        "--out", type=Path, default=Path("."), metavar="DIR", help="folder to write to (default: here)"
    )
    sub.add_parser("trainee")  # started by the classroom for each tab; not for people (no help)
    classroom.set_defaults(handler=classroom_command, honours=HONOURS)


def classroom_command(args: argparse.Namespace) -> int:
    data = args.data if args.data is not None else default_data_dir()
    if args.classroom_command == "export":
        return _export(data, args.out)
    if args.classroom_command == "trainee":
        return _trainee()
    problem = check_classroom_args(args)
    if problem is not None:
        return fail(COMMAND, problem)
    from simulator.scenarios import pack_problems
    from simulator.scenarios.sources import use_pack_dirs

    use_pack_dirs(args.packs)  # also in the environment: the hub and the trainees' dashboards see them
    for left_out in pack_problems():  # said, not skipped in silence: the class would lack the pack
        print(f"bulkdash {COMMAND}: pack left out, invalid: {left_out}", file=sys.stderr)
    import secrets  # not on every command's way (bulkdash --help, the dashboard)

    token = os.environ.get(INSTRUCTOR_TOKEN_ENV) or secrets.token_urlsafe(18)
    public = (args.public_url or f"http://{args.host}:{args.port}").rstrip("/")

    def serve() -> None:
        import asyncio

        from bulkdash.classroom.run import serve_classroom
        from bulkdash.cli.serve import is_loopback

        if not is_loopback(args.host):
            print(
                f"bulkdash {COMMAND}: WARNING: {args.host}:{args.port} is not loopback: anyone who can "
                "reach this port can join the class (the instructor's page still needs its token).",
                file=sys.stderr,
            )

        from bulkdash.filelock import InUse

        try:
            asyncio.run(serve_classroom(data, args.host, args.port, public, token, args.speed))
        except InUse as exc:  # the data folder is another classroom's now: one line, no traceback
            raise CannotStart(str(exc)) from None

    return run_server(COMMAND, args.host, args.port, serve)


def check_classroom_args(args: argparse.Namespace) -> str | None:
    """Why the class could not start as asked, or None (as ``bulkdash serve`` checks its own)."""
    from bulkdash.cli.serve import public_url_problem
    from simulator.scenarios.sources import pack_dir_problem

    if args.public_url is not None and (problem := public_url_problem(args.public_url)) is not None:
        return problem
    for folder in args.packs:
        if (problem := pack_dir_problem(folder)) is not None:
            return problem
    return None


def _questions() -> Any:
    from simulator.scenarios import get_scenario

    def texts(name: str) -> list[str]:
        found = get_scenario(name)
        return [] if found is None else [q.question for q in found.questions]

    return texts


def _export(data: Path, out: Path) -> int:
    import asyncio

    from bulkdash.classroom.export import build_export
    from bulkdash.classroom.store import ClassStore

    db = data / "class.db"
    if not db.exists():
        return fail(f"{COMMAND} export", f"no class results in {data} (give --data DIR)")

    async def run() -> tuple[Path, Path]:
        store: ClassStore = await ClassStore(db).open()
        try:
            return (await build_export(store, _questions())).write(out)
        finally:
            await store.close()

    try:
        results, summary = asyncio.run(run())
    except OSError as exc:
        return fail(f"{COMMAND} export", f"cannot write to {out}: {exc.strerror or exc}")
    print(f"wrote {results} and {summary}")
    return 0


def _trainee() -> int:
    """One browser tab's dashboard: the trainee's world on the classroom's hub, reporting to the classroom."""
    from bulkdash.classroom import env

    try:
        api, secret = os.environ[env.ENV_API], os.environ[env.ENV_SECRET]
        world, world_token = os.environ[env.ENV_WORLD], os.environ[env.ENV_WORLD_TOKEN]
        speed = float(os.environ.get(env.ENV_SPEED, "1"))
    except (KeyError, ValueError):
        return fail(f"{COMMAND} trainee", "this is started by `bulkdash classroom` for each browser tab")
    from bulkdash.classroom.trainee import run_trainee

    return run_trainee(api, secret, world, world_token, speed)
