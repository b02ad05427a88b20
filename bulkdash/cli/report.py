"""``bulkdash report BULK_ID``: write one bulk's run report (report.md, operations.jsonl, webhooks.jsonl).

It connects like the dashboard (``--profile``, ``--url``, or the embedded simulator on ``--db``), with the
same start-up checks, and reports what that endpoint has; webhooks come from the receiver's history.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bulkdash.cli.options import fail

COMMAND = "report"
#: The dashboard flags ``report`` uses to connect (the others are refused).
HONOURS = frozenset({"--profile", "--config", "--url", "--email", "--receiver-port", "--db"})


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
        "--out", type=Path, default=None, help="directory to write (default: ./bulkdash-report-BULK_ID)"
    )
    report.add_argument("--status", default=None, help="only operations of this status in operations.jsonl")
    # SUPPRESS: the same flags given before `report` must not be reset by this subparser's defaults.
    report.add_argument("--profile", metavar="NAME", default=argparse.SUPPRESS, help="a config profile")
    report.add_argument("--url", default=argparse.SUPPRESS, help="base URL of the Multi API")
    report.add_argument(
        "--db", type=Path, default=argparse.SUPPRESS, help="the embedded simulator's database"
    )
    report.set_defaults(handler=report_command, honours=HONOURS)


def report_command(args: argparse.Namespace) -> int:
    from bulkdash.api.budget import BudgetExhausted
    from bulkdash.api.client import ApiError
    from bulkdash.cli.dashboard import check_args, connector_for
    from bulkdash.config import ConfigError

    problem = check_args(args)
    if problem is not None:
        return fail(COMMAND, problem)
    try:
        connector = connector_for(args)
    except ConfigError as exc:
        return fail(COMMAND, str(exc))

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
        print(f"bulkdash {COMMAND}: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0
