"""``bulkdash listen``: the webhook receiver on its own, one printed line per webhook (like `stripe listen`).

The port is checked before the receiver opens its history or prints its banner (``run_server``); the
receiver binds it itself when it starts, so losing it to another program in between ends the same way.
Neither Textual nor the simulator is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bulkdash.cli.options import fail, port_or_any, run_server

if TYPE_CHECKING:
    from bulkdash.webhooks import ReceiverSettings, WebhookReceiver

#: Environment fallbacks for the keys, so they need not appear on the command line (visible in ``ps``).
SIGNING_KEY_ENV = "BULKDASH_WEBHOOK_SIGNING_KEY"
WEBHOOKS_KEY_ENV = "BULKDASH_WEBHOOKS_KEY"
DEFAULT_LISTEN_PORT = 9000
COMMAND = "listen"


def add_listen_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listen = commands.add_parser(
        COMMAND,
        help="receive and verify webhooks, print one line each (like `stripe listen`)",
        description=(
            "Run the webhook receiver on its own: every request is verified, recorded in the history "
            "database and printed as one line. Point the sender's webhook base URL at the printed URL."
        ),
    )
    listen.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    listen.add_argument(
        "--port",
        type=port_or_any,
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
    # Its own dest: the dashboard's --db (the simulator's database) given before `listen` is refused, not
    # taken for the history.
    listen.add_argument(
        "--db",
        dest="history_db",
        type=Path,
        default=None,
        metavar="PATH",
        help="history database (default: per-user data dir)",
    )
    listen.add_argument(
        "--tolerance",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds published-timestamp may differ from now before it is flagged (default: %(default)s)",
    )
    listen.set_defaults(handler=listen_command, honours=frozenset())


def listen_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bulkdash.webhooks import ReceiverSettings

    if not args.key:
        return fail(COMMAND, f"a signing key is required (--key or ${SIGNING_KEY_ENV})")
    fields: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "signing_key": args.key,
        "webhooks_key": args.webhooks_key or None,
        "tolerance_s": args.tolerance,
    }
    if args.history_db is not None:
        fields["db_path"] = args.history_db
    try:
        settings = ReceiverSettings.model_validate(fields)
    except ValidationError as exc:
        # ``include_input=False``: the error text must not echo a key back.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        return fail(COMMAND, problems)
    return run_server(COMMAND, args.host, args.port, lambda: asyncio.run(receive(settings, out=sys.stdout)))


def _can_encode(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None)
    if encoding is None:
        return True  # an in-memory text stream holds any character
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


async def receive(
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
        try:
            await receiver.start()
        except sqlite3.DatabaseError as exc:  # not SQLite, or a damaged file: one line, the file untouched
            from bulkdash.cli.options import CannotStart

            raise CannotStart(f"cannot use the webhook history {settings.db_path}: {exc}") from None
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
