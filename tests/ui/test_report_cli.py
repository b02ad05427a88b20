"""``bulkdash report BULK_ID`` on a terminal (issue 13): one progress line on stderr, rewritten in place, in
the words of the dashboard's report panel; Ctrl-C cancels cleanly — exit status 130, no file written."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bulkdash.cli.report import INTERRUPTED, ProgressLine
from bulkdash.report import ReportProgress
from bulkdash.serving import QuietServer

ROOT = Path(__file__).resolve().parents[2]


def test_the_progress_line_is_rewritten_in_place_on_a_terminal_only() -> None:
    terminal = io.StringIO()
    line = ProgressLine(terminal, tty=True)
    line(ReportProgress(1, 100, 0.0))
    line(ReportProgress(72, 100, 12.4, waiting=True, wait_s=51.0))
    line(ReportProgress(73, 100, 63.4))
    line.end()
    assert terminal.getvalue() == (
        "\r\x1b[Kreport: 1/100 pages"
        "\r\x1b[Kreport: 72/100 pages · waiting for the request budget · 51 s · waited 12 s"
        "\r\x1b[Kreport: 73/100 pages · waited 1 min 03 s\n"
    )
    piped = io.StringIO()
    quiet = ProgressLine(piped, tty=False)
    quiet(ReportProgress(1, None, 0.0))
    quiet.end()
    assert piped.getvalue() == ""  # a log file gets no carriage returns


class HeldServer:
    """Bulk 7 (1,000 operations) whose operations never come until released: a report stuck mid-way."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.release = asyncio.Event()
        self.server = QuietServer(self._app(), host="127.0.0.1", port=0, lifespan="off")

    def _app(self) -> Starlette:
        async def bulk(request: Request) -> Response:
            body = {"bulkId": "7", "status": "COMPLETED", "submittedItemsCount": 1_000}
            return JSONResponse({**body, "operationStatusCounts": [{"status": "COMPLETED", "count": 1_000}]})

        async def operations(request: Request) -> Response:
            self.asked.set()
            await self.release.wait()
            return JSONResponse({"count": 0, "operations": []})

        return Starlette(
            routes=[
                Route("/multi/bulks/7", bulk, methods=["GET"]),
                Route("/multi/bulks/7/operations", operations, methods=["GET"]),
            ]
        )


@pytest.mark.slow
async def test_ctrl_c_cancels_the_report_with_exit_130_and_no_file(tmp_path: Path) -> None:
    held = HeldServer()
    await held.server.start()
    out = tmp_path / "report"
    env = {
        **os.environ,
        "BULKDASH_API_KEY": "k",
        "BULKDASH_TOKEN": "t",
        "XDG_DATA_HOME": str(tmp_path / "data"),  # the receiver's history: not the user's
    }
    command = [sys.executable, "-m", "bulkdash", "report", "7", "--url", held.server.url + "/multi"]
    process = await asyncio.create_subprocess_exec(
        *command, "--out", str(out), env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    try:
        await asyncio.wait_for(held.asked.wait(), 20)  # fetching the operations: mid-report
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        held.release.set()
        await held.server.stop()
    assert process.returncode == INTERRUPTED == 130
    assert stderr.decode().strip().endswith("bulkdash report: cancelled, nothing written")
    assert not out.exists()
