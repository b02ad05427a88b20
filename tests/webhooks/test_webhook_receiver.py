"""The receiver over real loopback HTTP: answers, what gets recorded, duplicates, live delivery, history."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bulkdash.contract.codec import MAX_JSON_DEPTH
from bulkdash.webhooks import (
    Authenticity,
    EventKind,
    KeyVerdict,
    ReceivedWebhook,
    ReceiverSettings,
    SignatureVerdict,
    TimestampVerdict,
    WebhookReceiver,
)
from bulkdash.webhooks import app as intake_module
from bulkdash.webhooks.records import REDACTED
from tests.webhooks.conftest import ReceiverFactory
from tests.webhooks.webhook_helpers import (
    BULK_PATH,
    SPEC_BODY,
    SPEC_CALL_REF,
    SPEC_KEY,
    SPEC_SIGNATURE,
    SPEC_SIGNATURE_V2,
    SPEC_TIMESTAMP,
    WAIT_S,
    WEBHOOKS_KEY,
    FakeClock,
    bulk_body,
    next_record,
    signed_headers,
)


def spec_headers() -> dict[str, str]:
    return {
        "content-type": "application/json",
        "call-ref": SPEC_CALL_REF,
        "request-ref": SPEC_CALL_REF,
        "published-timestamp": SPEC_TIMESTAMP,
        "signature": SPEC_SIGNATURE,
        "signature-v2": SPEC_SIGNATURE_V2,
    }


async def post(
    client: httpx.AsyncClient,
    receiver: WebhookReceiver,
    body: bytes,
    headers: dict[str, str],
    path: str = BULK_PATH,
) -> httpx.Response:
    return await client.post(receiver.url + path, content=body, headers=headers)


async def only_record(receiver: WebhookReceiver) -> ReceivedWebhook:
    records = await receiver.history()
    assert len(records) == 1, records
    return records[0]


async def test_spec_worked_example_is_accepted_and_recorded(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    response = await post(client, receiver, SPEC_BODY, spec_headers())
    assert response.status_code == 204
    assert response.content == b""

    record = await only_record(receiver)
    assert record.id >= 1
    assert record.http_status == 204 and record.accepted and record.error is None
    assert record.method == "POST" and record.path == BULK_PATH
    assert record.body == SPEC_BODY  # the exact bytes, never re-serialised
    assert record.json == json.loads(SPEC_BODY)
    assert record.headers["signature-v2"] == SPEC_SIGNATURE_V2
    assert record.headers["call-ref"] == SPEC_CALL_REF
    assert record.call_ref == SPEC_CALL_REF
    assert record.published_timestamp_ms == int(SPEC_TIMESTAMP)
    assert record.received_at_ms == int(SPEC_TIMESTAMP) + 1_000  # the injected clock
    assert (record.signature_v2, record.signature_v1) == (SignatureVerdict.VALID, SignatureVerdict.VALID)
    assert record.timestamp is TimestampVerdict.OK
    assert record.webhooks_key is KeyVerdict.NOT_CONFIGURED
    assert record.kind is EventKind.BULK
    assert (record.bulk_id, record.bulk_status, record.submitted_items_count) == ("1000042", "RUNNING", 100)
    assert record.counts == {"SUBMITTED": 75, "RUNNING": 0, "COMPLETED": 24, "FAILED": 1, "CANCELLED": 0}
    assert not record.duplicate and record.duplicate_of is None
    assert record.client is not None and record.client.startswith("127.0.0.1:")


async def test_bad_signature_is_401_and_recorded(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    headers = spec_headers() | {"signature-v2": SPEC_SIGNATURE}  # a valid base64 HMAC, of the wrong message
    response = await post(client, receiver, SPEC_BODY, headers)
    assert response.status_code == 401

    record = await only_record(receiver)
    assert record.http_status == 401 and not record.accepted
    assert record.signature_v2 is SignatureVerdict.INVALID
    assert record.error == "signature-v2 does not match"
    assert record.json == json.loads(SPEC_BODY)  # still shown, for diagnosis
    assert record.body == SPEC_BODY


async def test_a_timestamp_too_long_for_any_time_is_401_and_spoils_no_batch(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    """A user's trial: ``published-timestamp: 999…`` (26 digits) was answered 500 NOT_RECORDED and printed
    nothing: stored as an INTEGER it failed the insert of its whole batch, so the good webhooks arriving with
    it were refused too. It is malformed (401, recorded), and those beside it are accepted."""
    bad = spec_headers() | {"published-timestamp": "9" * 26}
    answers = await asyncio.gather(
        post(client, receiver, SPEC_BODY, bad),
        *(post(client, receiver, SPEC_BODY, spec_headers()) for _ in range(5)),
    )
    assert [a.status_code for a in answers] == [401] + [204] * 5
    records = await receiver.history()
    assert sorted(r.http_status for r in records) == [204] * 5 + [401]
    odd = next(r for r in records if r.http_status == 401)
    assert odd.timestamp is TimestampVerdict.MALFORMED and odd.published_timestamp_ms is None


async def test_tampered_body_is_401(receiver: WebhookReceiver, client: httpx.AsyncClient) -> None:
    response = await post(client, receiver, SPEC_BODY.replace(b"24", b"25"), spec_headers())
    assert response.status_code == 401
    assert (await only_record(receiver)).signature_v2 is SignatureVerdict.INVALID


async def test_missing_signature_is_401_and_recorded(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    headers = {k: v for k, v in spec_headers().items() if k not in ("signature", "signature-v2")}
    response = await post(client, receiver, SPEC_BODY, headers)
    assert response.status_code == 401

    record = await only_record(receiver)
    assert (record.signature_v2, record.signature_v1) == (SignatureVerdict.MISSING, SignatureVerdict.MISSING)
    assert record.error == "signature-v2 missing"


async def test_webhooks_key_is_checked_and_never_stored(
    make_receiver: ReceiverFactory, client: httpx.AsyncClient, db_path: Path
) -> None:
    receiver = await make_receiver(webhooks_key=WEBHOOKS_KEY)
    good = spec_headers() | {"webhooks-key": WEBHOOKS_KEY}
    bad = spec_headers() | {"webhooks-key": "not-the-key"}
    unsigned = {"request-ref": "ref-3", "published-timestamp": SPEC_TIMESTAMP, "webhooks-key": WEBHOOKS_KEY}
    assert (await post(client, receiver, SPEC_BODY, good)).status_code == 204
    assert (await post(client, receiver, SPEC_BODY, bad)).status_code == 401
    # The bulk_process_end contract secures with webhooks-key alone (A15): accepted without signatures.
    assert (await post(client, receiver, SPEC_BODY, unsigned)).status_code == 204

    first, second, third = await receiver.history()
    assert [r.webhooks_key for r in (first, second, third)] == [
        KeyVerdict.VALID,
        KeyVerdict.INVALID,
        KeyVerdict.VALID,
    ]
    assert second.error == "webhooks-key does not match"
    assert third.signature_v2 is SignatureVerdict.MISSING and third.call_ref == "ref-3"
    assert first.headers["webhooks-key"] == REDACTED
    await receiver.stop()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert WEBHOOKS_KEY.encode() not in raw and b"not-the-key" not in raw


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/transfers/watch", EventKind.TRANSFER),
        ("/send/watch", EventKind.SEND),
        ("/outgoing_wire_transfers/watch", EventKind.OWT),
        ("/bulk_process_progress/watch", EventKind.BULK),
        ("/something/else", EventKind.UNKNOWN),
    ],
)
async def test_webhooks_key_alone_is_refused_off_the_bulk_process_end_path(
    make_receiver: ReceiverFactory, client: httpx.AsyncClient, path: str, kind: EventKind
) -> None:
    """Only bulk_process_end declares the webhooks_key scheme; elsewhere the body must be signed."""
    receiver = await make_receiver(webhooks_key=WEBHOOKS_KEY)
    unsigned = {"call-ref": "ref-1", "published-timestamp": SPEC_TIMESTAMP, "webhooks-key": WEBHOOKS_KEY}
    response = await post(client, receiver, SPEC_BODY, unsigned, path=path)
    assert response.status_code == 401  # refused as a bad signature is
    assert response.json()["code"] == "UNAUTHORIZED"
    assert "signature-v2 missing" in response.json()["message"]
    record = await only_record(receiver)
    assert (record.kind, record.http_status, record.accepted) == (kind, 401, False)
    assert record.webhooks_key is KeyVerdict.VALID and record.authenticity is Authenticity.MISSING

    # The same webhook signed is accepted, and worded as signed.
    signed = signed_headers(SPEC_BODY, extra={"webhooks-key": WEBHOOKS_KEY})
    assert (await post(client, receiver, SPEC_BODY, signed, path=path)).status_code == 204
    assert (await receiver.history())[-1].authenticity is Authenticity.SIGNED


async def test_key_only_bulk_webhook_is_worded_apart_from_a_signed_one(
    make_receiver: ReceiverFactory, client: httpx.AsyncClient
) -> None:
    receiver = await make_receiver(webhooks_key=WEBHOOKS_KEY)
    key_only = {"request-ref": "ref-k", "published-timestamp": SPEC_TIMESTAMP, "webhooks-key": WEBHOOKS_KEY}
    assert (await post(client, receiver, SPEC_BODY, key_only)).status_code == 204
    assert (await post(client, receiver, SPEC_BODY, spec_headers())).status_code == 204
    key_record, signed_record = await receiver.history()
    assert key_record.authenticity is Authenticity.KEY_ONLY
    assert str(key_record.authenticity) == "key only — body not signed"
    assert signed_record.authenticity is Authenticity.SIGNED
    assert str(signed_record.authenticity) == "signature valid"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"a":' * 100_000,
        b'{"bulkId":"1","x":' + b"[" * 65 + b"]" * 65 + b"}",
        # Parsable by json.loads (under its recursion limit), but deep enough to trouble what renders it.
        b'{"bulkId":"1","x":' + b"[" * 500 + b'"x"' + b"]" * 500 + b"}",
    ],
    ids=["brackets", "objects", "just-past-the-bound", "parsable-but-deep"],
)
async def test_deeply_nested_json_is_400_with_a_json_body_and_recorded(
    receiver: WebhookReceiver, client: httpx.AsyncClient, body: bytes
) -> None:
    response = await post(client, receiver, body, signed_headers(body))
    assert response.status_code == 400
    assert response.json() == {
        "code": "BAD_REQUEST",
        "message": f"body is not valid JSON for this receiver: nested deeper than {MAX_JSON_DEPTH} levels",
    }
    # Recorded like any other malformed body: the bytes kept, nothing parsed.
    record = await only_record(receiver)
    assert (record.http_status, record.json, record.body) == (400, None, body)
    assert record.signature_v2 is SignatureVerdict.VALID
    assert record.error is not None and "JSON" in record.error
    assert (await post(client, receiver, SPEC_BODY, spec_headers())).status_code == 204  # still serving


async def test_nesting_up_to_the_bound_and_brackets_in_strings_are_fine(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    at_bound = b'{"bulkId":"1","x":' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    in_string = b'{"bulkId":"2","x":"' + b'[{\\"' * 10_000 + b'"}'
    for body in (at_bound, in_string):
        response = await post(client, receiver, body, signed_headers(body))
        assert response.status_code == 204, response.text
    assert [r.json["bulkId"] for r in await receiver.history()] == ["1", "2"]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The usual 022, under which SQLite would create the files world-readable (0644)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _modes(db_path: Path) -> dict[str, int]:
    return {
        p.name: stat.S_IMODE(p.stat().st_mode) for p in db_path.parent.glob(db_path.name + "*") if p.is_file()
    }


def _bytes_on_disk(db_path: Path) -> bytes:
    """The history file and its -wal/-shm, as they are now."""
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


@pytest.mark.usefixtures("permissive_umask")
async def test_history_file_and_its_wal_and_shm_are_private_and_hold_no_key(
    make_receiver: ReceiverFactory,
    client: httpx.AsyncClient,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = await make_receiver(webhooks_key=WEBHOOKS_KEY)
    headers = spec_headers() | {"webhooks-key": WEBHOOKS_KEY, "api-key": SPEC_KEY}
    assert (await post(client, receiver, SPEC_BODY, headers)).status_code == 204
    wrong = {"request-ref": "r", "published-timestamp": SPEC_TIMESTAMP, "webhooks-key": "wrong-" + SPEC_KEY}
    assert (await post(client, receiver, SPEC_BODY, wrong, path="/transfers/watch")).status_code == 401

    modes = _modes(db_path)
    assert set(modes) >= {"webhooks.db", "webhooks.db-wal", "webhooks.db-shm"}, modes
    assert set(modes.values()) == {0o600}, {name: oct(mode) for name, mode in modes.items()}
    on_disk = _bytes_on_disk(db_path)  # the WAL too, before the checkpoint at close folds it in
    await receiver.stop()
    on_disk += _bytes_on_disk(db_path)
    for secret in (WEBHOOKS_KEY, SPEC_KEY):
        assert secret.encode() not in on_disk
        assert secret not in caplog.text


@pytest.mark.usefixtures("permissive_umask")
async def test_a_history_file_left_readable_is_made_private(
    make_receiver: ReceiverFactory, db_path: Path
) -> None:
    first = await make_receiver()
    await first.stop()
    os.chmod(db_path, 0o644)  # as a version before this fix left it
    await make_receiver()
    assert _modes(db_path)["webhooks.db"] == 0o600


async def test_an_unexpected_failure_answers_a_json_500_logs_and_keeps_serving(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug in the receiver")

    with monkeypatch.context() as patch:
        patch.setattr(intake_module, "describe_event", broken)
        response = await post(client, receiver, SPEC_BODY, spec_headers())
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "INTERNAL_ERROR"
    failures = [r for r in caplog.records if r.name == intake_module.log.name and r.levelno == logging.ERROR]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "POST " + BULK_PATH in failures[0].getMessage()

    # The receiver keeps serving: the sender's retry goes through.
    assert (await post(client, receiver, SPEC_BODY, spec_headers())).status_code == 204
    assert (await only_record(receiver)).accepted


@pytest.mark.parametrize(
    ("clock_offset_ms", "verdict"),
    [(301_000, TimestampVerdict.STALE), (-301_000, TimestampVerdict.FUTURE), (299_000, TimestampVerdict.OK)],
)
async def test_stale_and_future_timestamps_are_flagged_not_rejected(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    clock: FakeClock,
    clock_offset_ms: int,
    verdict: TimestampVerdict,
) -> None:
    clock.now_ms = int(SPEC_TIMESTAMP) + clock_offset_ms
    response = await post(client, receiver, SPEC_BODY, spec_headers())
    # Flagged only: a retry (§6.5) carries the original timestamp hours later and must still be delivered.
    assert response.status_code == 204
    assert (await only_record(receiver)).timestamp is verdict


async def test_tolerance_is_configurable(
    make_receiver: ReceiverFactory, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    receiver = await make_receiver(tolerance_s=10)
    clock.now_ms = int(SPEC_TIMESTAMP) + 11_000
    await post(client, receiver, SPEC_BODY, spec_headers())
    assert (await only_record(receiver)).timestamp is TimestampVerdict.STALE


@pytest.mark.parametrize(
    "body",
    [b'{"bulkId": "1000042", ', b"\xff\xfe not utf-8", b"[1, 2]", b"", '{"a": 1}'.encode("utf-16")],
)
async def test_malformed_json_is_400_and_recorded(
    receiver: WebhookReceiver, client: httpx.AsyncClient, body: bytes
) -> None:
    response = await post(client, receiver, body, signed_headers(body))
    assert response.status_code == 400

    record = await only_record(receiver)
    assert record.http_status == 400
    assert record.body == body
    assert record.signature_v2 is SignatureVerdict.VALID  # authentic, just not a JSON object
    assert record.error is not None and "JSON" in record.error


async def test_oversize_body_is_413_recorded_truncated(
    make_receiver: ReceiverFactory, client: httpx.AsyncClient
) -> None:
    receiver = await make_receiver(max_body_bytes=1024)
    body = b'{"pad":"' + b"x" * 5000 + b'"}'
    response = await post(client, receiver, body, signed_headers(body))
    assert response.status_code == 413

    record = await only_record(receiver)
    assert record.http_status == 413
    assert record.body_truncated
    assert record.body_size == len(body)
    assert record.body == body[:4096]  # a preview, for the dashboard
    assert record.error == "body of 5010 bytes exceeds the 1024-byte limit"
    assert record.json is None
    assert record.signature_v2 is SignatureVerdict.UNCHECKED

    # The connection (and the receiver) still work after the unread rest of the body.
    ok = await post(client, receiver, SPEC_BODY, spec_headers())
    assert ok.status_code == 204


async def test_oversize_chunked_body_is_cut_off_at_the_limit(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    """No Content-Length: the receiver must stop reading once past 1 MiB, not buffer the whole stream."""
    chunk = b"x" * 65536
    sent = 0

    async def endless() -> object:
        nonlocal sent
        # Bounded only so a broken receiver fails the test instead of hanging it: 64 MiB.
        for _ in range(1024):
            sent += len(chunk)
            yield chunk

    try:
        response = await client.post(receiver.url + BULK_PATH, content=endless(), headers=spec_headers())
        assert response.status_code == 413
    except httpx.TransportError:
        pass  # the server may stop reading before httpx finishes writing; the record is what matters
    record = await only_record(receiver)
    assert record.http_status == 413 and record.body_truncated
    # Read just past the limit (uvicorn hands over what the socket delivered, so a little past), never on
    # to the end of the 64 MiB stream.
    assert 1024 * 1024 < record.body_size < 2 * 1024 * 1024
    assert record.body == chunk[:4096]


async def test_duplicate_call_ref_is_recorded_and_marked(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    first = await post(client, receiver, SPEC_BODY, spec_headers())
    second = await post(client, receiver, SPEC_BODY, spec_headers())
    assert (
        first.status_code == second.status_code == 204
    )  # answered like the first: the sender stops retrying

    original, repeat = await receiver.history()
    assert not original.duplicate
    assert repeat.duplicate and repeat.duplicate_of == original.id
    assert repeat.body == original.body


async def test_retry_after_a_rejected_first_try_is_not_a_duplicate(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    rejected = await post(client, receiver, SPEC_BODY, spec_headers() | {"signature-v2": "AAAA"})
    accepted = await post(client, receiver, SPEC_BODY, spec_headers())
    assert (rejected.status_code, accepted.status_code) == (401, 204)
    assert not any(r.duplicate for r in await receiver.history())


async def test_concurrent_duplicates_have_exactly_one_original(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    responses = await asyncio.gather(*(post(client, receiver, SPEC_BODY, spec_headers()) for _ in range(10)))
    assert {r.status_code for r in responses} == {204}
    records = await receiver.history()
    originals = [r for r in records if not r.duplicate]
    assert len(records) == 10 and len(originals) == 1
    assert {r.duplicate_of for r in records if r.duplicate} == {originals[0].id}
    assert originals[0].id == min(r.id for r in records)


async def test_any_path_is_accepted_and_classified(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    transfer = (
        b'{"eventType":"COMPLETED","publishedTimestamp":"1767225600130","transfer":{"id":{"type":"transfers",'
        b'"id":"1000005"},"state":"COMPLETED"}}'
    )
    paths = {
        "/transfers/watch": EventKind.TRANSFER,
        "/send/watch": EventKind.SEND,
        "/outgoing_wire_transfers/watch": EventKind.OWT,
        "/bulk_process_progress/watch": EventKind.BULK,
        "/something/else": EventKind.UNKNOWN,
    }
    for path in paths:
        response = await post(client, receiver, transfer, signed_headers(transfer), path=path)
        assert response.status_code == 204, path
    records = await receiver.history()
    assert {r.path: r.kind for r in records} == paths
    transfer_record = next(r for r in records if r.kind is EventKind.TRANSFER)
    assert (transfer_record.event_type, transfer_record.object_id) == ("COMPLETED", "1000005")


async def test_other_methods_are_405_and_recorded(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    response = await client.get(receiver.url + BULK_PATH)
    assert response.status_code == 405
    record = await only_record(receiver)
    assert (record.method, record.http_status) == ("GET", 405)


async def test_subscriber_receives_records_live_in_order(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    subscription = receiver.subscribe()
    bodies = [bulk_body(bulk_id=str(2000 + i), completed=i) for i in range(20)]
    for body in bodies:
        await post(client, receiver, body, signed_headers(body))
        # Live: each record is delivered by the time its webhook is answered.
        assert (await next_record(subscription)).body == body

    # Concurrent senders: delivery order is commit (id) order, and nothing is missed.
    more = [bulk_body(bulk_id=str(3000 + i)) for i in range(30)]
    await asyncio.gather(*(post(client, receiver, body, signed_headers(body)) for body in more))
    received = [await next_record(subscription) for _ in more]
    assert [r.id for r in received] == sorted(r.id for r in received)
    assert {r.body for r in received} == set(more)
    assert [r.id for r in received] == [r.id for r in (await receiver.history(limit=30))]


async def test_rejected_requests_reach_subscribers_too(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    subscription = receiver.subscribe()
    await post(client, receiver, b"nope", signed_headers(b"nope"))
    record = await next_record(subscription)
    assert record.http_status == 400


async def test_subscription_ends_when_the_receiver_stops(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    subscription = receiver.subscribe()
    await post(client, receiver, SPEC_BODY, spec_headers())
    await receiver.stop()
    async with asyncio.timeout(WAIT_S):
        remaining = [record async for record in subscription]
    assert [r.call_ref for r in remaining] == [SPEC_CALL_REF]


async def test_closed_subscription_gets_nothing_more(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    async with receiver.subscribe() as subscription:
        pass
    await post(client, receiver, SPEC_BODY, spec_headers())
    async with asyncio.timeout(WAIT_S):
        assert [r async for r in subscription] == []


async def test_slow_subscriber_drops_oldest_and_counts(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    subscription = receiver.subscribe(maxsize=2)
    for i in range(5):
        body = bulk_body(bulk_id=str(i))
        await post(client, receiver, body, signed_headers(body))
    assert subscription.dropped == 3
    assert [(await next_record(subscription)).bulk_id for _ in range(2)] == ["3", "4"]


async def test_listeners_are_called_and_their_errors_contained(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    seen: list[ReceivedWebhook] = []

    def broken(record: ReceivedWebhook) -> None:
        raise RuntimeError("listener bug")

    remove = receiver.add_listener(seen.append)
    receiver.add_listener(broken)
    assert (await post(client, receiver, SPEC_BODY, spec_headers())).status_code == 204
    assert [r.call_ref for r in seen] == [SPEC_CALL_REF]  # called before the answer was sent
    remove()
    await post(client, receiver, SPEC_BODY, signed_headers(SPEC_BODY))
    assert len(seen) == 1


async def test_history_filters_by_bulk_and_limits(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    for bulk_id in ["A", "B", "A", "C", "A"]:
        body = bulk_body(bulk_id=bulk_id)
        await post(client, receiver, body, signed_headers(body))
    assert [r.bulk_id for r in await receiver.history()] == ["A", "B", "A", "C", "A"]
    of_a = await receiver.history(bulk_id="A")
    assert len(of_a) == 3 and [r.id for r in of_a] == sorted(r.id for r in of_a)
    newest_two = await receiver.history(bulk_id="A", limit=2)
    assert [r.id for r in newest_two] == [r.id for r in of_a[1:]]
    assert [r.id for r in await receiver.history(bulk_id="A", before_id=of_a[1].id)] == [of_a[0].id]
    assert await receiver.history(bulk_id="Z") == []
    assert await receiver.count() == 5
    assert await receiver.get(of_a[0].id) == of_a[0]


async def test_history_survives_a_restart_on_the_same_file(
    make_receiver: ReceiverFactory, client: httpx.AsyncClient
) -> None:
    first_run = await make_receiver()
    await post(client, first_run, SPEC_BODY, spec_headers())
    await post(client, first_run, b"bad", signed_headers(b"bad"))
    before = await first_run.history()
    live = first_run.subscribe()
    await first_run.stop()
    assert [r async for r in live] == []

    second_run = await make_receiver()
    assert await second_run.history() == before
    # Dedupe spans restarts: a retry arriving after the restart is still recognised.
    assert (await post(client, second_run, SPEC_BODY, spec_headers())).status_code == 204
    retried = (await second_run.history())[-1]
    assert retried.duplicate_of == before[0].id and retried.id > before[-1].id


async def test_store_failure_answers_500_so_the_sender_retries(
    receiver: WebhookReceiver, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_append(record: ReceivedWebhook) -> ReceivedWebhook:
        raise OSError("disk full")

    monkeypatch.setattr(receiver._store, "append", failing_append)
    response = await post(client, receiver, SPEC_BODY, spec_headers())
    assert response.status_code == 500
    assert response.json()["code"] == "NOT_RECORDED"


async def test_port_zero_binds_a_free_port_and_a_taken_port_fails(make_receiver: ReceiverFactory) -> None:
    receiver = await make_receiver()
    assert receiver.port > 0
    assert receiver.url == f"http://127.0.0.1:{receiver.port}"
    with pytest.raises(OSError):
        await make_receiver(port=receiver.port)


async def test_signal_handlers_and_terminal_are_left_alone(
    make_receiver: ReceiverFactory, client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
) -> None:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    receiver = await make_receiver()
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers

    def broken(record: ReceivedWebhook) -> None:
        raise RuntimeError("listener bug, logged but never printed")

    receiver.add_listener(broken)
    await post(client, receiver, SPEC_BODY, spec_headers())
    await post(client, receiver, b"{", signed_headers(b"{"))
    await client.get(receiver.url + "/")
    await receiver.stop()
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


async def test_secrets_stay_out_of_reprs(receiver: WebhookReceiver) -> None:
    settings = ReceiverSettings(signing_key=SPEC_KEY, webhooks_key=WEBHOOKS_KEY, db_path=Path("x.db"))
    for text in (repr(settings), str(settings), settings.model_dump_json(), repr(receiver)):
        assert SPEC_KEY not in text and WEBHOOKS_KEY not in text
    assert settings.signing_key.get_secret_value() == SPEC_KEY


def test_settings_validation() -> None:
    with pytest.raises(ValueError):
        ReceiverSettings(signing_key="")
    assert ReceiverSettings(signing_key="k", webhooks_key="").webhooks_key is None
    default = ReceiverSettings(signing_key="k")
    assert (default.host, default.port, default.tolerance_s, default.max_body_bytes) == (
        "127.0.0.1",
        0,
        300.0,
        1024 * 1024,
    )
    assert default.db_path.name == "webhooks.db" and "bulkdash" in str(default.db_path)
