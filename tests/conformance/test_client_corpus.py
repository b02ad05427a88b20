"""Every body of the conformance corpus, through the real HTTP path: the client parses it without an exception
and keeps every value as sent; the readers behind it (run model, report, formatters, webhook receiver) cope
with what it holds — missing fields, int64 extremes, counts that do not add up, huge strings, unknown enums.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bulkdash.api.client import WeavrClient
from bulkdash.contract.kinds import OperationKind
from bulkdash.contract.models import BulkProcess, BulkProcessDetails
from bulkdash.model.run import RunModel
from bulkdash.report import build_report
from bulkdash.ui.format import (
    OUT_OF_RANGE,
    Display,
    count,
    counts_text,
    percent,
    short_operation,
    status_text,
)
from bulkdash.webhooks import ReceiverSettings, WebhookReceiver
from tests.conformance.corpus import (
    ALL,
    CASES,
    DEFAULTS,
    FAR_FUTURE_MS,
    Case,
    Endpoint,
    case,
)
from tests.conformance.server import CorpusServer, serve
from tests.webhooks.webhook_helpers import SPEC_KEY, SPEC_TIMESTAMP, FakeClock, signed_headers

SERVED = [c for c in ALL if c.endpoint is not Endpoint.BULK_WEBHOOK]
BULK_READS = CASES[Endpoint.GET_BULK] + CASES[Endpoint.LIST_OPERATIONS]
#: The served cases share one server (a uvicorn stop takes ~0.2 s): it answers each test's case ``only``.
shared_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server() -> AsyncIterator[CorpusServer]:
    async with CorpusServer() as running:
        yield running


def _as_sent(model: Any) -> Any:
    """What the model holds, as JSON: equal to the body when nothing was lost or invented."""
    return model.model_dump(mode="json", exclude_unset=True)


async def _read(client: WeavrClient, chosen: Case) -> Any:
    """The client call that reads ``chosen``'s endpoint."""
    match chosen.endpoint:
        case Endpoint.LOGIN:
            return await client.login("ops@acme.example", "pw")
        case Endpoint.LIST_BULKS:
            return await client.list_bulks()
        case Endpoint.GET_BULK:
            return await client.get_bulk("1000001")
        case Endpoint.LIST_OPERATIONS:
            return await client.list_operations("1000001")
        case Endpoint.SUBMIT:
            return await client.submit(OperationKind.TRANSFERS, [{"requestBody": {}}])
    raise AssertionError(chosen.endpoint)


@shared_loop
@pytest.mark.parametrize("chosen", SERVED, ids=lambda c: c.id)
async def test_the_client_parses_every_case_and_keeps_every_value(chosen: Case, server: CorpusServer) -> None:
    server.use(chosen, only=True)
    client = WeavrClient(server.url, "corpus-key")
    try:
        parsed = await _read(client, chosen)
    finally:
        await client.aclose()
    expected = chosen.body
    if chosen.name == "old-snake-case-name":  # an older reference's name, read as today's
        expected = {**expected, "bulkProcesses": expected["bulk_processes"]}
        del expected["bulk_processes"]
    assert _as_sent(parsed) == expected


@shared_loop
async def test_the_issue_s_minimal_bodies_are_all_accepted(server: CorpusServer) -> None:
    """Issue 13: 7 of these 13 spec-valid bodies were refused with "Field required"."""
    bodies = {
        Endpoint.LIST_BULKS: [{}, {"bulkProcesses": [{}]}, {"bulkProcesses": [{"bulkId": "1"}]}],
        Endpoint.GET_BULK: [{}, {"operationStatusCounts": [{}]}, {"operationStatusCounts": [{"count": 1}]}],
        Endpoint.LIST_OPERATIONS: [{}, {"operations": [{}]}, {"operations": [{"sequence": 1}]}],
        Endpoint.SUBMIT: [{}, {"bulkId": "1"}],
        Endpoint.LOGIN: [{"token": "t"}],
    }
    refused: list[str] = []
    client = WeavrClient(server.url, "corpus-key")
    try:
        for endpoint, cases in bodies.items():
            for body in cases:
                minimal = Case("issue-13", endpoint, body)
                server.use(minimal, only=True)
                try:
                    await _read(client, minimal)
                except Exception as exc:  # collected, so the assertion names every refusal at once
                    refused.append(f"{endpoint} {body}: {exc}")
    finally:
        await client.aclose()
    assert refused == []


async def test_serve_gives_a_base_url_answering_the_chosen_case_and_typical_bodies_elsewhere() -> None:
    """The entry point of screen tests: ``async with serve(case) as url``."""
    async with serve(case(Endpoint.GET_BULK, "times-past-year-9999")) as url:
        client = WeavrClient(url, "corpus-key")
        try:
            details = await client.get_bulk("1000001")
            listing = await client.list_bulks()
            await client.execute("1000001", mode="ON_FAILURE_STOP")
        finally:
            await client.aclose()
    assert details.executionStart == FAR_FUTURE_MS
    assert _as_sent(listing) == case(Endpoint.LIST_BULKS, "typical").body


@shared_loop
@pytest.mark.parametrize("chosen", BULK_READS, ids=lambda c: c.id)
async def test_the_run_model_and_a_report_read_every_bulk_and_operations_case(
    chosen: Case, server: CorpusServer, tmp_path: Path
) -> None:
    server.use(chosen, only=True)
    client = WeavrClient(server.url, "corpus-key")
    try:
        model = RunModel("1000001")
        model.apply_details(await client.get_bulk("1000001"))
        request = model.current_request()
        page = await client.list_operations("1000001", request.offset, request.limit, request.status)
        model.apply_page(request, page.operations, page.count)
        report = await build_report(client, "1000001")
    finally:
        await client.aclose()
    written = report.write(tmp_path / "report")
    assert (written / "report.md").read_text(encoding="utf-8").startswith("# Bulk 1000001\n")
    # One row per operation served once (the corpus server ignores offset: a re-served page adds nothing).
    identities = [(o.operationId, o.sequence) for o in page.operations]
    anonymous = identities.count((None, None))
    assert len(report.operations) == len(set(identities) - {(None, None)}) + anonymous
    rows = model.visible_rows()
    # One row per operation, each under its own key (a missing sequence is its position, a repeated one gets
    # a key of its own), and no "None" made up from a missing field: the screen shows a dash for those.
    assert len({row.row_id for row in rows}) == len(rows) == len(page.operations)
    assert not any("None" in cell for row in rows for cell in row.cells())
    bulk = chosen.body if chosen.endpoint is Endpoint.GET_BULK else DEFAULTS[Endpoint.GET_BULK].body
    assert model.status == bulk.get("status") and model.n == (bulk.get("submittedItemsCount") or 0)
    if chosen.name == "times-past-year-9999":
        assert f"⚠ out of range ({FAR_FUTURE_MS})" in report.markdown


def _bulks_in(chosen: Case) -> list[BulkProcess]:
    if chosen.endpoint is Endpoint.GET_BULK:
        return [BulkProcessDetails.model_validate(chosen.body)]
    return [BulkProcess.model_validate(b) for b in chosen.body.get("bulkProcesses", [])]


@pytest.mark.parametrize("chosen", CASES[Endpoint.GET_BULK] + CASES[Endpoint.LIST_BULKS], ids=lambda c: c.id)
def test_every_formatter_the_screens_use_is_total_over_the_corpus(chosen: Case) -> None:
    display = Display()
    for bulk in _bulks_in(chosen):
        model = RunModel(bulk.bulkId or "?")
        model.apply_details(BulkProcessDetails.model_validate(bulk.model_dump()))
        shown = [
            display.time(bulk.executionStart),
            display.time(bulk.executionFinish),
            display.duration(bulk.executionStart, bulk.executionFinish),
            status_text(model.status).plain,
            count(bulk.submittedItemsCount),
            counts_text(model.counts, zeros=True).plain,
            short_operation(bulk.operation),
            percent(model.progress()),
            display.eta(model.eta_s()),
            display.rate(model.throughput()),
        ]
        assert all(isinstance(text, str) and len(text) <= 1000 for text in shown)
        if chosen.name == "times-past-year-9999":
            assert shown[:3] == [OUT_OF_RANGE] * 3


# --- webhooks: the bulk webhook's bodies, posted signed to the dashboard's receiver ------------------------
async def _post_to_receiver(body: Any) -> Any:
    raw = json.dumps(body).encode()
    receiver = WebhookReceiver(
        ReceiverSettings(signing_key=SPEC_KEY, db_path=Path(":memory:")), clock=FakeClock()
    )
    await receiver.start()
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            answer = await http.post(
                f"{receiver.url}/bulk_process_end/watch",
                content=raw,
                headers=signed_headers(raw, timestamp=SPEC_TIMESTAMP),
            )
        records = await receiver.history()
    finally:
        await receiver.stop()
    assert answer.status_code == 204
    return records[-1]


@pytest.mark.parametrize("chosen", CASES[Endpoint.BULK_WEBHOOK], ids=lambda c: c.id)
async def test_the_receiver_records_every_bulk_webhook_case(chosen: Case) -> None:
    record = await _post_to_receiver(chosen.body)
    assert record.accepted and record.json == chosen.body
    assert record.bulk_id == chosen.body.get("bulkId")


async def test_a_bulk_webhook_without_status_or_counts_carries_none() -> None:
    record = await _post_to_receiver(case(Endpoint.BULK_WEBHOOK, "counts-entries-minimal").body)
    assert record.bulk_status is None and record.counts == {}
