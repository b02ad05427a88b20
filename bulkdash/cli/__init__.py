"""The ``bulkdash`` command line, in one place: :func:`main` (``bulkdash``, ``python -m bulkdash``).

With no command it opens the dashboard (:mod:`.dashboard`); the commands are ``train``, ``listen``,
``serve``, ``classroom``, ``report`` and ``config``, one module each, sharing :mod:`.options`. Each
registers its parser and sets ``handler`` (``args -> exit status``) and ``honours`` (the dashboard flags it
uses; any other one given is refused rather than ignored). Every start-up mistake ends the command before
anything runs, with one line on stderr and exit status 2.

Heavy imports (the session, the receiver, Textual, textual-serve, the simulator) happen inside the handlers,
so ``bulkdash --help`` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from bulkdash.cli.classroom import add_classroom_command
from bulkdash.cli.config import add_config_command
from bulkdash.cli.dashboard import add_dashboard_options, flags_given, run_dashboard
from bulkdash.cli.listen import add_listen_command
from bulkdash.cli.options import fail
from bulkdash.cli.report import add_report_command
from bulkdash.cli.serve import add_serve_command
from bulkdash.cli.train import add_train_command

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulkdash",
        description="Terminal dashboard for Weavr Multi bulk processes; with no command, opens it.",
    )
    add_dashboard_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_listen_command(commands)
    add_config_command(commands)
    add_report_command(commands)
    add_train_command(commands)
    add_serve_command(commands)
    add_classroom_command(commands)
    return parser


#: The exit status of a command interrupted with ctrl+c (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # ctrl+c before the dashboard has the terminal (while it imports, ~0.2 s) or during a command
        # that does not catch it: a quiet exit, not a traceback over the user's prompt.
        return INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        return run_dashboard(args)
    ignored = [flag for flag in flags_given(args) if flag not in args.honours]
    if ignored:
        verb = "does" if len(ignored) == 1 else "do"
        return fail(args.command, f"{', '.join(ignored)} {verb} not apply to `bulkdash {args.command}`")
    return handler(args)
