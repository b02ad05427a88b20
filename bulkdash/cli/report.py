"""``bulkdash report BULK_ID``: write one bulk's run report (report.md, operations.jsonl, webhooks.jsonl).

It connects like the dashboard (``--profile``, ``--url``, or the embedded simulator on ``--db``), with the
same start-up checks, and reports what that endpoint has; webhooks come from the receiver's history.

A report paces itself within the request budget (a 10,000-operation bulk takes more than a minute of Weavr's
quota): on a terminal, one line on stderr, rewritten in place, says how far it is and what it waits for — the
words of the dashboard's report panel (``bulkdash.model.report_progress``). Ctrl-C cancels it cleanly: the
session closes, nothing is written (files are written only once everything is fetched), exit status 130.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bulkdash.cli.options import fail

if TYPE_CHECKING:
    from bulkdash.model.report_progress import Progress

COMMAND = "report"
#: The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
#: The dashboard flags ``report`` uses to connect (the others are refused).
HONOURS = frozenset({"--profile", "--config", "--url", "--email", "--receiver-port", "--db"})
#: A bulk id as Weavr's path parameter takes it (docs/behaviour.md §3.1, §3.6: ``^[0-9]+$``).
ID_PATTERN = re.compile(r"[0-9]+")


def add_report_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        COMMAND,
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
        "--out",
        type=Path,
        default=None,
        help="directory to write, its files replaced (default: a new directory bulkdash/reports/"
        "bulkdash-report-BULK_ID, -2, -3… if taken, in your Documents, or in the user data dir without one; "
        "the full path is printed)",
    )
    report.add_argument("--status", default=None, help="only operations of this status in operations.jsonl")
    # SUPPRESS: the same flags given before `report` must not be reset by this subparser's defaults.
    report.add_argument("--profile", metavar="NAME", default=argparse.SUPPRESS, help="a config profile")
    report.add_argument("--url", default=argparse.SUPPRESS, help="base URL of the Multi API")
    # With --url, its credentials after the command too (``bulkdash report --url U --api-key K 7`` was refused
    # by argparse; only ``bulkdash --url U --api-key K report 7`` worked). Defaults as the dashboard's: the
    # environment, read by the top-level parser.
    report.add_argument("--api-key", default=argparse.SUPPRESS, help="the programme's api-key")
    report.add_argument("--token", default=argparse.SUPPRESS, help="a user's access token")
    report.add_argument("--email", default=argparse.SUPPRESS, help="log in with this user's email")
    report.add_argument("--password", default=argparse.SUPPRESS, help="the user's password")
    report.add_argument(
        "--db", type=Path, default=argparse.SUPPRESS, help="the embedded simulator's database"
    )
    # A report reads the webhooks already received; it does not listen for more (a dashboard on the same
    # profile holds the receiver's port, and the report failed with "Address already in use").
    report.set_defaults(handler=report_command, honours=HONOURS, serve_webhooks=False)


class ProgressLine:
    """One line on ``stream``, rewritten in place (``\r`` and erase to its end) at each step; nothing when
    ``stream`` is not a terminal (a log file gets no carriage returns)."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.shown = False

    def __call__(self, progress: Progress) -> None:
        from bulkdash.model.report_progress import progress_text

        if self.tty:
            self.stream.write(f"\r\x1b[K{COMMAND}: {progress_text(progress)}")
            self.stream.flush()
            self.shown = True

    def end(self) -> None:
        """Leave the line (the next output starts on a line of its own)."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


def report_command(args: argparse.Namespace) -> int:
    from bulkdash.api.budget import BudgetExhausted
    from bulkdash.api.client import ApiError
    from bulkdash.cli.dashboard import checked_connector
    from bulkdash.contract.refusals import syntax_error

    # Weavr would answer a 400 (REGEX) for an id that is not digits: say so before connecting at all.
    if not ID_PATTERN.fullmatch(args.bulk_id):
        return fail(COMMAND, syntax_error("bulk_id", "REGEX", ["^[0-9]+$"]))
    connector, problem = checked_connector(args)
    if connector is None:
        return fail(COMMAND, problem or "cannot connect")

    async def run() -> Path:
        from bulkdash.report import build_report

        session = await connector()
        try:
            hooks = (
                await session.receiver.history(bulk_id=args.bulk_id, limit=10_000) if session.receiver else []
            )
            report = await build_report(
                session.client, args.bulk_id, webhooks=hooks, status=args.status, progress=line
            )
        finally:
            # Also when cancelled (Ctrl-C): the embedded simulator and the receiver close their databases.
            await session.close()
        written.append(report.write(args.out))  # no --out: a new directory under the reports folder
        return written[-1]

    line = ProgressLine(sys.stderr)
    written: list[Path] = []  # set in the loop, where a Ctrl-C cannot land half-way through writing
    try:
        out = asyncio.run(run())
    except KeyboardInterrupt:
        line.end()
        if written:  # it came while the (complete) report was being written: it stands
            print(written[-1])
            return 0
        print(f"bulkdash {COMMAND}: cancelled, nothing written", file=sys.stderr)
        return INTERRUPTED
    except (ApiError, BudgetExhausted, OSError) as exc:
        line.end()
        print(f"bulkdash {COMMAND}: {exc}", file=sys.stderr)
        return 1
    line.end()
    print(out)
    return 0
