"""The one-line summaries, and the receiver's import hygiene (no Textual, so it runs headless)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from bulkdash.webhooks import EventKind, KeyVerdict, SignatureVerdict, TimestampVerdict, format_line
from bulkdash.webhooks.records import EventFacts
from tests.webhooks.test_webhook_store import draft


def test_line_of_an_accepted_bulk_event() -> None:
    line = format_line(dataclasses.replace(draft(), id=1))
    assert "204  POST /bulk_process_end/watch  bulk 1000042 RUNNING 25/100" in line
    assert "(submitted 75, completed 24, failed 1)" in line
    assert line.endswith("sig ✓")


def test_line_flags_everything_wrong() -> None:
    record = dataclasses.replace(
        draft(status=401),
        signature_v2=SignatureVerdict.INVALID,
        webhooks_key=KeyVerdict.MISSING,
        timestamp=TimestampVerdict.STALE,
        duplicate_of=7,
    )
    line = format_line(record)
    assert "sig ✗ key -" in line and "STALE-TIMESTAMP" in line and "DUPLICATE of #7" in line
    assert line.endswith("(rejected)")
    ascii_line = format_line(record, unicode=False)
    assert ascii_line.isascii() and "sig BAD key -" in ascii_line


def test_line_of_a_key_only_bulk_webhook_says_so() -> None:
    record = dataclasses.replace(
        draft(),
        signature_v2=SignatureVerdict.MISSING,
        signature_v1=SignatureVerdict.MISSING,
        webhooks_key=KeyVerdict.VALID,
    )
    assert format_line(record).endswith("  key only — body not signed")
    assert format_line(record, unicode=False).endswith("  key only - body not signed")
    # The same credentials on a transaction path are refused, and read as a missing signature.
    refused = dataclasses.replace(record, path="/transfers/watch", http_status=401, error="sig missing")
    assert "sig - key ✓" in format_line(refused) and "key only" not in format_line(refused)


def test_line_of_a_bulk_webhook_without_its_facts_says_why() -> None:
    empty = dataclasses.replace(draft(), json={}, facts=EventFacts())
    assert "bulk ? (no status in the body)" in format_line(empty)
    not_json = dataclasses.replace(draft(status=400), body=b"nope", json=None, facts=EventFacts())
    assert "bulk ? (body not JSON)" in format_line(not_json)
    cut = dataclasses.replace(draft(status=413), json=None, body_truncated=True, facts=EventFacts())
    assert "bulk ? (body over the size limit)" in format_line(cut)
    array = dataclasses.replace(draft(status=400), json=[1, 2], facts=EventFacts())
    assert "bulk ? (body not a JSON object)" in format_line(array)
    odd = dataclasses.replace(draft(), json={"bulkId": "1", "status": 7}, facts=EventFacts(bulk_id="1"))
    assert "bulk 1 (status 7 not understood)" in format_line(odd)


def test_line_of_a_bulk_event_without_counts_shows_none() -> None:
    # The schema requires no counts: an end event with only its status printed "0/None" (a user's trial).
    bare = EventFacts(bulk_id="7", bulk_status="COMPLETED")
    line = format_line(dataclasses.replace(draft(), json={"bulkId": "7", "status": "COMPLETED"}, facts=bare))
    assert "bulk 7 COMPLETED  " in line + "  " and "None" not in line and "0/" not in line
    counted = dataclasses.replace(bare, counts={"COMPLETED": 3})
    assert "bulk 7 COMPLETED 3/? (completed 3)" in format_line(dataclasses.replace(draft(), facts=counted))


def test_line_of_a_transaction_and_of_an_unknown_path() -> None:
    transfer = dataclasses.replace(
        draft(), kind=EventKind.SEND, facts=EventFacts(event_type="SCHEDULED", object_id="77")
    )
    assert "send 77 SCHEDULED" in format_line(transfer)
    unknown = dataclasses.replace(draft(), kind=EventKind.UNKNOWN, path="/x", json=None, facts=EventFacts())
    assert "/x  sig ✓" in format_line(unknown)


def test_receiver_and_cli_import_no_textual() -> None:
    code = (
        "import sys\n"
        "import bulkdash.webhooks, bulkdash.webhooks.app, bulkdash.webhooks.receiver\n"
        "import bulkdash.webhooks.store, bulkdash.webhooks.summary, bulkdash.webhooks.verify, bulkdash.cli\n"
        "bulkdash.cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


SILENT_RUN = """
import asyncio, sys, tempfile, pathlib
import httpx
from bulkdash.webhooks import ReceiverSettings, WebhookReceiver

def broken(record):
    raise RuntimeError("listener bug")

async def main():
    db = pathlib.Path(tempfile.mkdtemp()) / "w.db"
    async with WebhookReceiver(ReceiverSettings(signing_key="k", db_path=db)) as receiver:
        receiver.add_listener(broken)
        async with httpx.AsyncClient() as client:
            for body in (b"{}", b"not json"):
                await client.post(receiver.url + "/transfers/watch", content=body)
            await client.get(receiver.url + "/")
        assert await receiver.count() == 3

asyncio.run(main())
"""


def test_receiver_prints_nothing_even_when_things_go_wrong() -> None:
    """No logging configured (as under Textual): errors and uvicorn chatter must not reach the terminal."""
    result = subprocess.run([sys.executable, "-c", SILENT_RUN], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
