"""The ``bulkdash`` command: the dashboard (no subcommand) and ``bulkdash listen`` (a headless receiver).

Subcommands are registered in :func:`build_parser`; each sets ``handler`` (``args -> exit code``) with
``set_defaults``, so other modules can add theirs the same way. Heavy imports (the receiver, the dashboard)
happen inside the handlers, so ``bulkdash --help`` stays fast and the receiver never pulls in Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bulkdash.options import add_speed_option, run_server
from bulkdash.web import add_serve_command

if TYPE_CHECKING:
    from bulkdash.webhooks import ReceiverSettings, WebhookReceiver

#: Environment fallbacks for the keys, so they need not appear on the command line (visible in ``ps``).
SIGNING_KEY_ENV = "BULKDASH_WEBHOOK_SIGNING_KEY"
API_KEY_ENV = "BULKDASH_API_KEY"
TOKEN_ENV = "BULKDASH_TOKEN"
PASSWORD_ENV = "BULKDASH_PASSWORD"
WEBHOOKS_KEY_ENV = "BULKDASH_WEBHOOKS_KEY"
SIM_TOKEN_ENV = "BULKDASH_SIM_TOKEN"
DEFAULT_LISTEN_PORT = 9000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulkdash",
        description="Terminal dashboard for Weavr Multi bulk processes; with no command, opens it.",
    )
    _add_dashboard_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_listen_command(commands)
    _add_config_command(commands)
    _add_report_command(commands)
    _add_train_command(commands)
    add_serve_command(commands)
    return parser


def _add_dashboard_options(parser: argparse.ArgumentParser) -> None:
    """Flags of the dashboard itself (no subcommand). Secrets may come from the environment instead, so they
    need not appear on the command line (visible in ``ps``)."""
    remote = parser.add_argument_group("a real Weavr endpoint (default: the embedded simulator)")
    remote.add_argument(
        "--profile", metavar="NAME", help="connect with this profile of the config file (`bulkdash config`)"
    )
    remote.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="the config file (default: $BULKDASH_CONFIG, else the per-user config dir)",
    )
    remote.add_argument("--url", help="base URL of the Multi API, e.g. https://sandbox.weavr.io/multi")
    remote.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV),
        help=f"the programme's api-key (default: ${API_KEY_ENV})",
    )
    remote.add_argument(
        "--token", default=os.environ.get(TOKEN_ENV), help=f"a user's access token (default: ${TOKEN_ENV})"
    )
    remote.add_argument("--email", help="log in with this user's email instead of a token")
    remote.add_argument(
        "--password",
        default=os.environ.get(PASSWORD_ENV),
        help=f"the user's password (default: ${PASSWORD_ENV})",
    )
    remote.add_argument(
        "--sim",
        metavar="ROOT",
        help="with --url pointing at a standalone bulkdash-sim: its root URL (e.g. http://127.0.0.1:8080), "
        "for Scenarios and presenter controls",
    )
    remote.add_argument(
        "--sim-token",
        default=os.environ.get(SIM_TOKEN_ENV),
        metavar="TOKEN",
        help="with --sim: the simulator's control token, when it requires one (bound beyond loopback, or "
        f"started with --control-token) (default: ${SIM_TOKEN_ENV})",
    )
    remote.add_argument(
        "--receiver-port",
        type=int,
        default=0,
        metavar="PORT",
        help="port of the dashboard's webhook receiver (default: any free one)",
    )
    embedded = parser.add_argument_group("the embedded simulator")
    embedded.add_argument(
        "--db", type=Path, default=None, help="simulator database (default: per-user data dir)"
    )
    embedded.add_argument(
        "--op-delay-ms",
        type=int,
        default=50,
        metavar="MS",
        help="milliseconds each simulated operation takes (default: %(default)s)",
    )
    embedded.add_argument("--fresh", action="store_true", help="a throw-away simulator database")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="hide and refuse every action that changes something (new bulk, execute, pause, resume, cancel, "
        "scenarios, presenter controls)",
    )


def _add_train_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = commands.add_parser(
        "train",
        help="training mode: the Scenarios screen on a fresh simulator database",
        description=(
            "Open the dashboard on the Scenarios screen, with the embedded simulator on a throw-away "
            "database: pick a customer's report, investigate the run it plays, answer its checklist (k). "
            "Presenter controls: P pauses the world, . steps one operation, + and - change the speed, "
            "! triggers the next fault now."
        ),
    )
    add_speed_option(train, "playback speed of the simulator, 0.1 to 10")
    # SUPPRESS: `bulkdash --read-only train` (the dashboard's own flag) must not be reset here.
    train.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="hide every action that changes something, presenter controls included (for projecting)",
    )
    train.set_defaults(handler=_train_command)


def _train_command(args: argparse.Namespace) -> int:
    from bulkdash.app import run_training  # Textual is imported only when the dashboard runs

    return run_training(args)


def _add_listen_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listen = commands.add_parser(
        "listen",
        help="receive and verify webhooks, print one line each (like `stripe listen`)",
        description=(
            "Run the webhook receiver on its own: every request is verified, recorded in the history "
            "database and printed as one line. Point the sender's webhook base URL at the printed URL."
        ),
    )
    listen.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    listen.add_argument(
        "--port",
        type=int,
        default=DEFAULT_LISTEN_PORT,
        help="port to bind, 0 for any free one (default: %(default)s)",
    )
    listen.add_argument(
        "--key",
        default=os.environ.get(SIGNING_KEY_ENV),
        help=f"the programme's api-key, which signs the webhooks (default: ${SIGNING_KEY_ENV})",
    )
    listen.add_argument(
        "--webhooks-key",
        default=os.environ.get(WEBHOOKS_KEY_ENV),
        help=(
            "the programme's webhooks key, compared with the webhooks-key header "
            f"(default: ${WEBHOOKS_KEY_ENV})"
        ),
    )
    listen.add_argument("--db", type=Path, default=None, help="history database (default: per-user data dir)")
    listen.add_argument(
        "--tolerance",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds published-timestamp may differ from now before it is flagged (default: %(default)s)",
    )
    listen.set_defaults(handler=_listen_command)


def _add_config_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = commands.add_parser(
        "config",
        help="where the config file is, what it holds (secrets hidden), or write an example",
        description="Profiles of real Weavr endpoints, for `bulkdash --profile NAME`.",
    )
    # SUPPRESS: `bulkdash --config X config show` must not be reset by this subparser's default.
    config.add_argument("--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help="the file")
    actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    actions.add_parser("path", help="print the config file's path")
    actions.add_parser("show", help="print the profiles, secrets as ***")
    init = actions.add_parser("init", help="write a commented example (mode 0600)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    config.set_defaults(handler=_config_command)


def _add_report_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="write a bulk's run report: report.md, operations.jsonl, webhooks.jsonl",
        description=(
            "Write the report of one bulk (summary, failures by errorCode, webhooks with their verification) "
            "and JSON Lines of its operations and webhooks. Connects like the dashboard: --profile, --url, "
            "or by default the embedded simulator on its default database (--db to choose another), so it "
            "reports what that simulator has; webhooks come from the receiver's history database."
        ),
    )
    report.add_argument("bulk_id", metavar="BULK_ID")
    report.add_argument(
        "--out", type=Path, default=None, help="directory to write (default: ./bulkdash-report-BULK_ID)"
    )
    report.add_argument("--status", default=None, help="only operations of this status in operations.jsonl")
    # SUPPRESS: the same flags given before `report` must not be reset by this subparser's defaults.
    report.add_argument("--profile", metavar="NAME", default=argparse.SUPPRESS, help="a config profile")
    report.add_argument("--url", default=argparse.SUPPRESS, help="base URL of the Multi API")
    report.add_argument(
        "--db", type=Path, default=argparse.SUPPRESS, help="the embedded simulator's database"
    )
    report.set_defaults(handler=_report_command)


def _report_command(args: argparse.Namespace) -> int:
    from bulkdash.api.budget import BudgetExhausted
    from bulkdash.api.client import ApiError
    from bulkdash.app import check_args, connector_from_args, connector_from_profile, profile_from_args
    from bulkdash.config import ConfigError

    problem = check_args(args)
    if problem is not None:
        print(f"bulkdash report: {problem}", file=sys.stderr)
        return 2
    try:
        connector = (
            connector_from_profile(profile_from_args(args))
            if getattr(args, "profile", None)
            else connector_from_args(args)
        )
    except ConfigError as exc:
        print(f"bulkdash report: {exc}", file=sys.stderr)
        return 2

    async def run() -> Path:
        from bulkdash.report import build_report, default_dirname

        session = await connector()
        try:
            hooks = (
                await session.receiver.history(bulk_id=args.bulk_id, limit=10_000) if session.receiver else []
            )
            report = await build_report(session.client, args.bulk_id, webhooks=hooks, status=args.status)
        finally:
            await session.close()
        return report.write(args.out or Path.cwd() / default_dirname(args.bulk_id))

    try:
        out = asyncio.run(run())
    except (ApiError, BudgetExhausted, OSError) as exc:
        print(f"bulkdash report: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


def _config_command(args: argparse.Namespace) -> int:
    from bulkdash import config

    path = config.config_path(getattr(args, "config", None))
    try:
        if args.config_action == "path":
            print(path)
        elif args.config_action == "show":
            print(f"# {path}")
            print(config.show(config.load(path, warn=sys.stderr)), end="")
        else:
            config.init(path, force=args.force)
            print(f"wrote {path} (mode 0600); edit it, then run: bulkdash --profile sandbox")
    except config.ConfigError as exc:
        print(f"bulkdash config: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        return run_dashboard_or_placeholder(args)
    return handler(args)


def run_dashboard_or_placeholder(args: argparse.Namespace) -> int:
    """``bulkdash.app.run_dashboard(args)``, imported only now; a message until the dashboard exists."""
    try:
        app_module = importlib.import_module("bulkdash.app")
    except ModuleNotFoundError as exc:
        # Only the dashboard module itself missing means "not built"; a missing dependency inside it is a bug.
        if exc.name != "bulkdash.app":
            raise
        app_module = None
    run_dashboard = getattr(app_module, "run_dashboard", None)
    if run_dashboard is None:
        print("the dashboard is not built yet", file=sys.stderr)
        return 1
    result = run_dashboard(args)
    return int(result) if isinstance(result, int) else 0


# --- bulkdash listen ---------------------------------------------------------------------------------


def _listen_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bulkdash.webhooks import ReceiverSettings

    if not args.key:
        print(f"bulkdash listen: a signing key is required (--key or ${SIGNING_KEY_ENV})", file=sys.stderr)
        return 2
    fields: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "signing_key": args.key,
        "webhooks_key": args.webhooks_key or None,
        "tolerance_s": args.tolerance,
    }
    if args.db is not None:
        fields["db_path"] = args.db
    try:
        settings = ReceiverSettings.model_validate(fields)
    except ValidationError as exc:
        # ``include_input=False``: the error text must not echo a key back.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        print(f"bulkdash listen: {problems}", file=sys.stderr)
        return 2
    return run_server("listen", args.host, args.port, lambda: asyncio.run(listen(settings, out=sys.stdout)))


def _can_encode(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None)
    if encoding is None:
        return True  # an in-memory text stream holds any character
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


async def listen(
    settings: ReceiverSettings,
    *,
    out: TextIO,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[WebhookReceiver], object] | None = None,
    handle_signals: bool = True,
) -> None:
    """Run a receiver and print a line per webhook until ``stop`` is set, or SIGINT/SIGTERM arrives.

    ``handle_signals=False`` leaves the process's signal handlers alone (for embedding and tests).
    """
    from bulkdash.webhooks import WebhookReceiver, format_line

    stop = stop or asyncio.Event()
    unicode = _can_encode(out, "✓✗")
    receiver = WebhookReceiver(settings)
    # Subscribed before start, so not even the first request can slip past the printer.
    subscription = receiver.subscribe()

    async def printer() -> None:
        async for record in subscription:
            print(format_line(record, unicode=unicode), file=out, flush=True)

    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM) if handle_signals else ():
        # Not available on Windows or off the main thread: Ctrl-C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await receiver.start()
        printing = asyncio.create_task(printer())
        try:
            print(
                f"Ready! Receiving webhooks on {receiver.url} (history: {settings.db_path}). "
                "Press Ctrl-C to quit.",
                file=out,
                flush=True,
            )
            if on_ready is not None:
                on_ready(receiver)
            await stop.wait()
        finally:
            # Stopping ends the subscription after every committed record is queued, so all lines print.
            await receiver.stop()
            await printing
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


if __name__ == "__main__":
    sys.exit(main())
