"""A conformance corpus: bodies a Weavr-shaped server may send, for every response the dashboard reads.

Written from Weavr's published schemas (the Multi API's bulk endpoints and the bulk webhook; login from
docs/behaviour.md §2.2, since the published subset has no login schema). Those schemas require *no* field of a
bulk, an operation, a count, a 201 or a progress webhook, and type ``executionStart``/``executionFinish`` as
int64, ``sequence`` and the paging counts as int32, ``submittedItemsCount`` and ``count`` as unbounded
integers. So the corpus has, per response:

* ``minimal``: only what is required (for most bodies: ``{}``), and every optional field missing inside the
  items of a list;
* extreme values: int64 max/min timestamps (and one that is valid but past year 9999), int32 max/min
  sequences, counts that do not add up, negative counts, 10,000-character strings;
* unknown enum values (``spec_valid=False``: a newer release), extra fields, non-numeric ids.

A ``Case`` is pure data; ``tests/conformance/server.py`` serves any of them on the endpoints the client calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Endpoint(StrEnum):
    LIST_BULKS = "GET /bulks"
    GET_BULK = "GET /bulks/{bulk_id}"
    LIST_OPERATIONS = "GET /bulks/{bulk_id}/operations"
    SUBMIT = "POST /bulks/<kind> (201)"
    LOGIN = "POST /login_with_password"
    BULK_WEBHOOK = "POST <receiver>/bulk_process_end/watch"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    endpoint: Endpoint
    body: Any
    #: False for what the published schema does not allow but a newer release may send (unknown enums).
    spec_valid: bool = True

    @property
    def id(self) -> str:
        """A pytest id: ``get_bulk-minimal``."""
        return f"{self.endpoint.name.lower()}-{self.name}"


INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
#: The timestamp of the first report (issue 13): a valid int64 epoch-ms in year 242,645.
FAR_FUTURE_MS = 7_594_969_979_287_409
#: The largest integer a JavaScript client can hold exactly: also past year 9999 as epoch-ms.
JS_MAX_SAFE = 9_007_199_254_740_991
HUGE = "x" * 10_000
#: Unknown statuses a newer release might add.
NEW_BULK_STATUS = "ARCHIVED"
NEW_OPERATION_STATUS = "RETRYING"

_COUNT_STATUSES = ("SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")


def _counts(**values: Any) -> list[dict[str, Any]]:
    return [{"status": s, "count": values.get(s, 0)} for s in _COUNT_STATUSES]


def _bulk(**fields: Any) -> dict[str, Any]:
    """A whole, ordinary bulk (every field present), with ``fields`` replacing or adding to it."""
    base: dict[str, Any] = {
        "bulkId": "1000001",
        "status": "COMPLETED",
        "submittedItemsCount": 3,
        "executionStart": 1_767_225_600_000,
        "executionFinish": 1_767_225_601_500,
        "operation": "POST /transfers",
        "mode": "ON_FAILURE_CONTINUE",
    }
    return {**base, **fields}


def _details(**fields: Any) -> dict[str, Any]:
    return _bulk(operationStatusCounts=_counts(COMPLETED=2, FAILED=1), **fields)


def _operation(sequence: int = 1, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "operationId": f"op-{sequence}",
        "sequence": sequence,
        "method": "POST",
        "path": "/transfers",
        "status": "COMPLETED",
        "requestPayload": '{"profileId":"3001"}',
        "responsePayload": '{"id":"9001","state":"COMPLETED"}',
    }
    return {**base, **fields}


def _ops_page(*ops: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"count": len(ops), "responseCount": len(ops), "operations": list(ops), **fields}


def _bulks_page(*bulks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"count": len(bulks), "responseCount": len(bulks), "bulkProcesses": list(bulks), **fields}


_EXTREME_TIMES = {
    "int64-max-start": {"executionStart": INT64_MAX, "executionFinish": None},
    "int64-min-start": {"executionStart": INT64_MIN, "executionFinish": INT64_MIN},
    "past-year-9999": {"executionStart": FAR_FUTURE_MS, "executionFinish": JS_MAX_SAFE},
    "finish-before-start": {"executionStart": 1_767_225_601_500, "executionFinish": 1_767_225_600_000},
    "before-1970": {"executionStart": -1, "executionFinish": 0},
}


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


LIST_BULKS: list[Case] = [
    Case("minimal", Endpoint.LIST_BULKS, {}),
    Case("items-minimal", Endpoint.LIST_BULKS, {"bulkProcesses": [{}, {}]}),
    Case("typical", Endpoint.LIST_BULKS, _bulks_page(_bulk(), _bulk(bulkId="1000002", status="RUNNING"))),
    *(
        Case(f"times-{name}", Endpoint.LIST_BULKS, _bulks_page(_without_none(_bulk(**times))))
        for name, times in _EXTREME_TIMES.items()
    ),
    Case(
        "counts-do-not-add-up",
        Endpoint.LIST_BULKS,
        {"count": -5, "responseCount": 7, "bulkProcesses": [_bulk(submittedItemsCount=-1)]},
    ),
    Case(
        "huge-count", Endpoint.LIST_BULKS, _bulks_page(_bulk(submittedItemsCount=INT64_MAX), count=INT32_MAX)
    ),
    Case(
        "huge-strings",
        Endpoint.LIST_BULKS,
        _bulks_page(_bulk(bulkId="9" * 10_000, operation=HUGE, extra=HUGE)),
    ),
    Case("non-numeric-id", Endpoint.LIST_BULKS, _bulks_page(_bulk(bulkId="abc-123"))),
    Case(
        "unknown-enums",
        Endpoint.LIST_BULKS,
        _bulks_page(_bulk(status=NEW_BULK_STATUS, mode="ON_FAILURE_RETRY")),
        spec_valid=False,
    ),
    Case(
        "extra-fields",
        Endpoint.LIST_BULKS,
        {**_bulks_page(_bulk(brandNew={"nested": [1, 2]}, tags=["a"])), "nextCursor": "abc", "meta": None},
    ),
    Case("old-snake-case-name", Endpoint.LIST_BULKS, {"count": 1, "bulk_processes": [_bulk()]}),
]

GET_BULK: list[Case] = [
    Case("minimal", Endpoint.GET_BULK, {}),
    Case("typical", Endpoint.GET_BULK, _details()),
    Case("no-counts", Endpoint.GET_BULK, _bulk()),
    Case(
        "counts-entries-minimal",
        Endpoint.GET_BULK,
        _bulk(operationStatusCounts=[{}, {"count": 3}, {"status": "FAILED"}]),
    ),
    *(
        Case(f"times-{name}", Endpoint.GET_BULK, _without_none(_details(**times)))
        for name, times in _EXTREME_TIMES.items()
    ),
    Case(
        "counts-do-not-add-up",
        Endpoint.GET_BULK,
        _bulk(submittedItemsCount=10, operationStatusCounts=_counts(COMPLETED=50, FAILED=-3, SUBMITTED=-40)),
    ),
    Case(
        "negative-counts",
        Endpoint.GET_BULK,
        _bulk(status="RUNNING", submittedItemsCount=-7, operationStatusCounts=_counts(SUBMITTED=-7)),
    ),
    Case(
        "huge-values",
        Endpoint.GET_BULK,
        _bulk(submittedItemsCount=INT64_MAX, operationStatusCounts=_counts(COMPLETED=INT64_MAX)),
    ),
    Case("huge-strings", Endpoint.GET_BULK, _details(operation=HUGE, bulkId="9" * 10_000)),
    Case("non-numeric-id", Endpoint.GET_BULK, _details(bulkId="abc-123")),
    Case(
        "unknown-enums",
        Endpoint.GET_BULK,
        _bulk(
            status=NEW_BULK_STATUS,
            mode="ON_FAILURE_RETRY",
            operationStatusCounts=[*_counts(COMPLETED=1), {"status": NEW_OPERATION_STATUS, "count": 2}],
        ),
        spec_valid=False,
    ),
    Case(
        "unknown-status-long",
        Endpoint.GET_BULK,
        _bulk(status=HUGE, operationStatusCounts=[{"status": HUGE, "count": 1}]),
        spec_valid=False,
    ),
    Case("extra-fields", Endpoint.GET_BULK, _details(brandNew={"x": [1, {"y": None}]}, retries=3)),
    Case(
        "duplicate-count-entries", Endpoint.GET_BULK, _bulk(operationStatusCounts=[*_counts(COMPLETED=1)] * 2)
    ),
]

LIST_OPERATIONS: list[Case] = [
    Case("minimal", Endpoint.LIST_OPERATIONS, {}),
    Case("items-minimal", Endpoint.LIST_OPERATIONS, {"operations": [{}, {}, {}]}),
    Case("typical", Endpoint.LIST_OPERATIONS, _ops_page(_operation(1), _operation(2), _operation(3))),
    Case(
        "no-sequences",
        Endpoint.LIST_OPERATIONS,
        _ops_page(*({k: v for k, v in _operation(i).items() if k != "sequence"} for i in (1, 2))),
    ),
    Case(
        "int32-sequences",
        Endpoint.LIST_OPERATIONS,
        _ops_page(_operation(INT32_MAX), _operation(INT32_MIN), _operation(0)),
    ),
    Case("no-count", Endpoint.LIST_OPERATIONS, {"operations": [_operation(1), _operation(2)]}),
    Case("negative-count", Endpoint.LIST_OPERATIONS, _ops_page(_operation(1), count=-1, responseCount=-1)),
    Case("count-larger-than-served", Endpoint.LIST_OPERATIONS, _ops_page(_operation(1), count=INT32_MAX)),
    Case(
        "odd-payloads",
        Endpoint.LIST_OPERATIONS,
        _ops_page(
            _operation(1, status="FAILED", responsePayload='{"syntaxErrors": "oops"}'),
            _operation(2, status="FAILED", responsePayload='{"syntaxErrors": {"invalidFields": ["x"]}}'),
            _operation(3, status="FAILED", responsePayload="<html>502 Bad Gateway</html>"),
            _operation(4, status="FAILED", responsePayload="[1, 2]"),
            _operation(5, requestPayload="", responsePayload=""),
        ),
    ),
    Case(
        "huge-strings",
        Endpoint.LIST_OPERATIONS,
        _ops_page(
            _operation(1, operationId=HUGE, path="/" + HUGE, requestPayload=HUGE, responsePayload=HUGE)
        ),
    ),
    Case(
        "unknown-enums",
        Endpoint.LIST_OPERATIONS,
        _ops_page(_operation(1, status=NEW_OPERATION_STATUS, method="PURGE")),
        spec_valid=False,
    ),
    Case(
        "extra-fields",
        Endpoint.LIST_OPERATIONS,
        {**_ops_page(_operation(1, attempts=2, durationMs=5)), "nextOffset": 1},
    ),
    Case("non-numeric-ids", Endpoint.LIST_OPERATIONS, _ops_page(_operation(1, operationId="abc-123"))),
    Case(
        "repeated-sequences",
        Endpoint.LIST_OPERATIONS,
        _ops_page(_operation(1), _operation(1, operationId="op-1b"), _operation(2)),
    ),
]

SUBMIT: list[Case] = [
    Case("minimal", Endpoint.SUBMIT, {}),
    Case("typical", Endpoint.SUBMIT, {"bulkId": "1000001", "operationCount": 2, "path": "/transfers"}),
    Case("non-numeric-id", Endpoint.SUBMIT, {"bulkId": "abc-123", "operationCount": 2, "path": "/transfers"}),
    Case("negative-count", Endpoint.SUBMIT, {"bulkId": "1000001", "operationCount": -2}),
    Case("huge-values", Endpoint.SUBMIT, {"bulkId": "9" * 10_000, "operationCount": INT64_MAX, "path": HUGE}),
    Case("extra-fields", Endpoint.SUBMIT, {"bulkId": "1000001", "operationCount": 2, "createdAt": 1}),
]

LOGIN: list[Case] = [
    Case("minimal", Endpoint.LOGIN, {"token": "tok-minimal"}),
    Case(
        "typical",
        Endpoint.LOGIN,
        {
            "token": "tok-typical",
            "tokenType": "ACCESS",
            "identity": {"type": "CORPORATE", "id": "1001"},
            "credentials": {"type": "ROOT", "id": "2001"},
        },
    ),
    Case("huge-token", Endpoint.LOGIN, {"token": HUGE}),
    Case(
        "unknown-enums",
        Endpoint.LOGIN,
        {"token": "t", "tokenType": "STEPPED_UP", "identity": {"type": "ROBOT", "id": "abc-123"}},
        spec_valid=False,
    ),
    Case("extra-fields", Endpoint.LOGIN, {"token": "t", "expiresIn": 300, "scopes": ["a"]}),
]

BULK_WEBHOOK: list[Case] = [
    Case("minimal", Endpoint.BULK_WEBHOOK, {}),
    Case(
        "typical",
        Endpoint.BULK_WEBHOOK,
        {
            "bulkId": "1000042",
            "status": "COMPLETED",
            "submittedItemsCount": 3,
            "operationStatusCounts": _counts(COMPLETED=3),
        },
    ),
    Case("counts-entries-minimal", Endpoint.BULK_WEBHOOK, {"bulkId": "1", "operationStatusCounts": [{}]}),
    Case(
        "counts-do-not-add-up",
        Endpoint.BULK_WEBHOOK,
        {
            "bulkId": "1",
            "status": "RUNNING",
            "submittedItemsCount": -1,
            "operationStatusCounts": _counts(FAILED=-9),
        },
    ),
    Case("huge-strings", Endpoint.BULK_WEBHOOK, {"bulkId": "9" * 10_000, "status": "RUNNING", "note": HUGE}),
    Case("non-numeric-id", Endpoint.BULK_WEBHOOK, {"bulkId": "abc-123", "status": "RUNNING"}),
    Case(
        "unknown-enums",
        Endpoint.BULK_WEBHOOK,
        {
            "bulkId": "1",
            "status": NEW_BULK_STATUS,
            "operationStatusCounts": [{"status": NEW_OPERATION_STATUS, "count": 1}],
        },
        spec_valid=False,
    ),
    Case(
        "extra-fields",
        Endpoint.BULK_WEBHOOK,
        {"bulkId": "1", "status": "RUNNING", "eventId": "e-1", "meta": {}},
    ),
]

#: Every case, by endpoint.
CASES: dict[Endpoint, list[Case]] = {
    Endpoint.LIST_BULKS: LIST_BULKS,
    Endpoint.GET_BULK: GET_BULK,
    Endpoint.LIST_OPERATIONS: LIST_OPERATIONS,
    Endpoint.SUBMIT: SUBMIT,
    Endpoint.LOGIN: LOGIN,
    Endpoint.BULK_WEBHOOK: BULK_WEBHOOK,
}
ALL: list[Case] = [case for cases in CASES.values() for case in cases]


def case(endpoint: Endpoint, name: str) -> Case:
    """One case by endpoint and name (``KeyError`` names what exists)."""
    for candidate in CASES[endpoint]:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no case {name!r} for {endpoint} (cases: {', '.join(c.name for c in CASES[endpoint])})")


#: What the server answers on an endpoint no chosen case covers: the ordinary, whole bodies.
DEFAULTS: dict[Endpoint, Case] = {endpoint: case(endpoint, "typical") for endpoint in CASES}
