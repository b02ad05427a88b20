"""``bulkdash listen`` (in-process and as a real process with signals), and the command without a command."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bulkdash import cli
from bulkdash.cli import listen
from bulkdash.webhooks import ReceiverSettings, WebhookReceiver
from tests.webhooks.webhook_helpers import (
    BULK_PATH,
    SPEC_BODY,
    SPEC_CALL_REF,
    SPEC_KEY,
    SPEC_SIGNATURE,
    SPEC_SIGNATURE_V2,
    SPEC_TIMESTAMP,
    WAIT_S,
    signed_headers,
)

SPEC_HEADERS = {
    "call-ref": SPEC_CALL_REF,
    "published-timestamp": SPEC_TIMESTAMP,
    "signature": SPEC_SIGNATURE,
    "signature-v2": SPEC_SIGNATURE_V2,
}
#: A child Python process has to import the whole stack before it prints anything.
PROCESS_START_S = 30.0


class WatchedOutput(io.StringIO):
    """A text stream whose writes can be awaited: wait on the output, never sleep."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = asyncio.Event()

    def write(self, text: str) -> int:
        self._changed.set()
        return super().write(text)

    def lines(self) -> list[str]:
        return self.getvalue().splitlines()

    async def wait_for_lines(self, count: int) -> list[str]:
        async with asyncio.timeout(WAIT_S):
            while len(self.lines()) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.lines()


async def test_listen_prints_one_line_per_webhook(tmp_path: Path) -> None:
    out = WatchedOutput()
    stop = asyncio.Event()
    ready: asyncio.Future[WebhookReceiver] = asyncio.get_running_loop().create_future()
    settings = ReceiverSettings(signing_key=SPEC_KEY, db_path=tmp_path / "w.db")
    task = asyncio.create_task(
        listen.receive(settings, out=out, stop=stop, on_ready=ready.set_result, handle_signals=False)
    )
    receiver = await asyncio.wait_for(ready, WAIT_S)
    url = receiver.url + BULK_PATH
    async with httpx.AsyncClient(timeout=WAIT_S) as client:
        assert (await client.post(url, content=SPEC_BODY, headers=SPEC_HEADERS)).status_code == 204
        banner, first = await out.wait_for_lines(2)
        assert (await client.post(url, content=SPEC_BODY, headers=SPEC_HEADERS)).status_code == 204
        bad = SPEC_HEADERS | {"signature-v2": SPEC_SIGNATURE}
        assert (await client.post(url, content=SPEC_BODY, headers=bad)).status_code == 401
        *_, duplicate, rejected = await out.wait_for_lines(4)
    stop.set()
    await asyncio.wait_for(task, WAIT_S)

    assert receiver.url in banner and str(tmp_path / "w.db") in banner
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3}  204  POST /bulk_process_end/watch  ", first)
    assert "bulk 1000042 RUNNING 25/100 (submitted 75, completed 24, failed 1)" in first
    assert "sig ✓" in first and "DUPLICATE" not in first
    assert "DUPLICATE of #1" in duplicate
    assert "401" in rejected and "sig ✗" in rejected and "signature-v2 does not match" in rejected
    assert SPEC_KEY not in out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
async def test_listen_process_prints_and_exits_cleanly_on_signal(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("BULKDASH_WEBHOOK_SIGNING_KEY", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bulkdash", "listen", "--port", "0", "--key", SPEC_KEY,
        "--db", str(tmp_path / "w.db"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        banner = (await asyncio.wait_for(proc.stdout.readline(), PROCESS_START_S)).decode()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
        assert found, banner
        body = b'{"eventType":"COMPLETED","transfer":{"id":{"type":"transfers","id":"1000005"}}}'
        async with httpx.AsyncClient(timeout=WAIT_S) as client:
            response = await client.post(
                f"{found.group(0)}/transfers/watch", content=body, headers=signed_headers(body)
            )
        assert response.status_code == 204
        line = (await asyncio.wait_for(proc.stdout.readline(), WAIT_S)).decode()
        assert "POST /transfers/watch" in line and "transfer 1000005 COMPLETED" in line and "sig ✓" in line

        proc.send_signal(stop_signal)
        assert await asyncio.wait_for(proc.wait(), WAIT_S * 2) == 0
        assert (await proc.stderr.read()) == b""  # nothing from uvicorn, no traceback
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_listen_requires_a_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(listen.SIGNING_KEY_ENV, raising=False)
    assert cli.main(["listen", "--port", "0"]) == 2
    assert "signing key is required" in capsys.readouterr().err


def test_listen_rejects_bad_settings_without_echoing_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["listen", "--key", "super-secret-key", "--tolerance", "-1"]) == 2
    err = capsys.readouterr().err
    assert "tolerance_s" in err and "super-secret-key" not in err


@pytest.mark.parametrize("tolerance", ["inf", "1e308", "nan"])
def test_listen_refuses_a_tolerance_past_any_use_in_one_line(
    tolerance: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # inf and 1e308 ended in a traceback (OverflowError: cannot convert float infinity to integer).
    assert cli.main(["listen", "--key", "k", "--port", "0", "--tolerance", tolerance]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bulkdash listen: tolerance_s: ") and len(err.strip().splitlines()) == 1, err


def test_listen_key_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(listen.SIGNING_KEY_ENV, "from-env")
    args = cli.build_parser().parse_args(["listen"])
    assert (args.key, args.port, args.host, args.history_db, args.tolerance) == (
        "from-env",
        9000,
        "127.0.0.1",
        None,
        300.0,
    )
    assert "from-env" not in cli.build_parser().format_help()


def test_no_command_runs_the_dashboard(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[argparse.Namespace] = []
    monkeypatch.setattr(cli, "run_dashboard", lambda args: calls.append(args) or 0)
    assert cli.main([]) == 0
    assert len(calls) == 1 and calls[0].command is None


def test_listen_refuses_the_dashboards_flags_instead_of_ignoring_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--db", "sim.db", "--url", "https://x.test/multi", "listen", "--key", "k"]) == 2
    err = capsys.readouterr().err
    assert err == "bulkdash listen: --url, --db do not apply to `bulkdash listen`\n"


@pytest.mark.parametrize("content", [b"hello, not SQLite", b"SQLite format 3\x00" + b"\x07" * 200])
def test_listen_on_a_file_that_is_no_history_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    """A user's trial: not SQLite, or a damaged one, gave 43 lines of traceback. One line, exit 2, the file
    untouched."""
    history = tmp_path / "history.db"
    history.write_bytes(content)
    assert cli.main(["listen", "--key", "k", "--port", "0", "--db", str(history)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"bulkdash listen: cannot use the webhook history {history}:")
    assert history.read_bytes() == content
