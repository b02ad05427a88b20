"""Every refusal in words (issue 14): each errorCode docs/behaviour.md names has a sentence saying what it
means and what to do, the code kept in brackets; syntaxErrors name the field, the rule and its limits;
HTTP-level answers (401, 403, 404, 429, 5xx with Retry-After) say what to do; a lifecycle refusal through
the real service names the bulk's state and the other bulk of its kind; ``bulkdash report abc`` says it in
words.

The codes are parsed out of docs/behaviour.md, so a code added there without words here fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bulkdash.api.client import ApiError, WeavrClient
from bulkdash.contract import refusals
from bulkdash.contract.kinds import OperationKind
from bulkdash.contract.models import SyntaxErrorKind
from bulkdash.contract.refusals import Context, KnownBulk
from bulkdash.model.generate import generate
from bulkdash.service import BulkAction, DashboardService
from bulkdash.service.tasks import describe
from tests.service.helpers import Gate, eventually

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "behaviour.md").read_text()

#: SCREAMING_SNAKE names in the spec that are not error codes (states, modes, roles, rails, token types,
#: syntax rules — tested on their own below). Anything else it names is taken for a code and needs words.
NOT_CODES = frozenset(
    {
        "PARTIALLY_COMPLETED",
        "ON_FAILURE_STOP",
        "ON_FAILURE_CONTINUE",
        "PREPAID_MODE",
        "DEBIT_MODE",
        "FASTER_PAYMENTS",
        "CARD_ASSIGNEE",
        "CARDS_MANAGEMENT_ROLE",
        "FUNDS_MANAGEMENT_ROLE",
        "ACCESS_MANAGEMENT_ROLE",
        "HMAC_SHA256",
        "NO_TYPE",
        "PENDING_CHALLENGE",
        "AT_LEAST",
        "AT_MOST",
        "HAS_TEXT",
        "NOT_IN",
        "ALL_OR_NONE",
    }
)


def doc_codes() -> list[str]:
    """Every SCREAMING_SNAKE name of the spec but the simulator's settings and tags (``SIM_*``) and
    ``NOT_CODES``: the errorCodes (and default-Error codes) the dashboard can receive."""
    names = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", DOC))
    return sorted(n for n in names if not n.startswith("SIM_") and n not in NOT_CODES)


def doc_rules() -> list[str]:
    """The ``error`` column of §3.3's table of validation problems."""
    section = DOC.split("### 3.3", 1)[1].split("### 3.4", 1)[0]
    rows = re.findall(r"^\|[^|]*\| `([A-Z_]+)`(?: / `([A-Z_]+)`)? \|", section, re.M)
    return sorted({rule for row in rows for rule in row if rule})


GENERIC = "has no words for yet"


def test_the_parse_finds_the_codes_the_spec_lists() -> None:
    codes = doc_codes()
    # §8's 409 list, the 403, a default Error code and operation-level codes: the parser sees them all.
    expected = {"INVALID_STATE", "DUPLICATE_OPERATION_TYPE", "ALREADY_SUBMITTED", "TOO_MANY_REQUESTS"}
    expected |= {"NO_CONFIG_FOUND", "VALIDATION_FAILED", "USER_VALIDATION_FAILED", "INSUFFICIENT_PERMISSIONS"}
    expected |= {"NOT_FOUND", "FUNDS_INSUFFICIENT", "DESTINATION_INSTRUMENT_BLOCKED", "WORLD_NOT_PAUSED"}
    assert expected <= set(codes)
    assert len(codes) > 50


@pytest.mark.parametrize("code", doc_codes())
def test_every_code_of_the_spec_has_a_sentence(code: str) -> None:
    sentence = refusals.refusal(code)
    assert refusals.knows(code), f"{code} is named in docs/behaviour.md but has no words in refusals.CODES"
    assert GENERIC not in sentence and sentence.endswith(f" [{code}]")
    means, todo = refusals.CODES[code]
    assert means.endswith(".") and todo.endswith(".") and "{" not in means + todo


def test_every_code_the_simulator_can_inject_has_a_sentence() -> None:
    from simulator.engine.presenter import DEFAULT_CONFLICT
    from simulator.faults.plan import ERROR_CODES

    injectable = set().union(*ERROR_CODES.values()) | set(DEFAULT_CONFLICT.values())
    assert sorted(c for c in injectable if not refusals.knows(c)) == []


def test_an_unknown_code_still_gets_a_sentence_with_the_code() -> None:
    assert refusals.refusal("BRAND_NEW_CODE") == (
        "The server refused this with a code the dashboard has no words for yet; the API log has its full "
        "answer. [BRAND_NEW_CODE]"
    )


@pytest.mark.parametrize("rule", sorted(set(doc_rules()) | {k.value for k in SyntaxErrorKind}))
def test_every_syntax_rule_has_words(rule: str) -> None:
    assert rule in refusals.RULES
    sentence = refusals.syntax_error("name", rule, ["1", "50"])
    assert "breaks the rule" not in sentence and sentence.endswith(f" [{rule}]")


def test_every_pattern_of_the_contract_has_words() -> None:
    from bulkdash.contract import requests

    patterns = [value for name, value in vars(requests).items() if name.endswith("_PATTERN")]
    assert len(patterns) > 5 and [p for p in patterns if p not in refusals.PATTERNS] == []


def test_doc_rules_are_parsed() -> None:
    assert {"REQUIRED", "HAS_TEXT", "SIZE", "RANGE", "AT_LEAST", "AT_MOST", "IN", "REGEX"} <= set(doc_rules())


# --- syntax errors in words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "rule", "params", "sentence"),
    [
        ("", "SIZE", ["1", "10000"], "The bulk must hold between 1 and 10,000 operations (body) [SIZE]"),
        ("bulk_id", "REGEX", ["^[0-9]+$"], "bulk_id must be digits only, e.g. 1000001 [REGEX]"),
        (
            "[0].requestBody.profileId",
            "REQUIRED",
            [],
            "requestBody.profileId (operation 1) is required [REQUIRED]",
        ),
        (
            "[3].requestBody.email",
            "REGEX",
            [r"^[^@\s]+@[^@\s]+\.[^@\s]+$"],
            "requestBody.email (operation 4) must be an email address, e.g. name@example.com [REGEX]",
        ),
        (
            "[1].requestBody.name",
            "SIZE",
            ["1", "50"],
            "requestBody.name (operation 2) must be between 1 and 50 characters long [SIZE]",
        ),
        (
            "[0].requestBody.tag",
            "SIZE",
            ["0", "50"],  # an absent minimum is written "0"
            "requestBody.tag (operation 1) must be at most 50 characters long [SIZE]",
        ),
        (
            "[0].requestBody.roles",
            "SIZE",
            ["1", "2147483647"],  # an absent maximum
            "requestBody.roles (operation 1) must hold at least 1 item [SIZE]",
        ),
        ("offset", "AT_LEAST", ["0"], "offset must be at least 0 [AT_LEAST]"),
        ("limit", "AT_MOST", ["100"], "limit must be at most 100 [AT_MOST]"),
        (
            "[0].requestBody.dateOfBirth.year",
            "RANGE",
            ["1900", "2100"],
            "requestBody.dateOfBirth.year (operation 1) must be between 1900 and 2100 [RANGE]",
        ),
        (
            "mode",
            "IN",
            ["ON_FAILURE_STOP", "ON_FAILURE_CONTINUE"],
            "mode must be one of ON_FAILURE_STOP or ON_FAILURE_CONTINUE [IN]",
        ),
        (
            "[0].requestBody.name",
            "HAS_TEXT",
            [],
            "requestBody.name (operation 1) must not be blank [HAS_TEXT]",
        ),
        ("x", "SOMETHING_NEW", ["a"], "x breaks the rule SOMETHING_NEW a [SOMETHING_NEW]"),
    ],
)
def test_syntax_errors_in_words(field: str, rule: str, params: list[str], sentence: str) -> None:
    assert refusals.syntax_error(field, rule, params) == sentence


def test_many_syntax_errors_name_five_and_count_the_rest() -> None:
    fields = [{"fieldName": f"[{i}].requestBody.profileId", "error": "REQUIRED"} for i in range(8)]
    body = {"message": "Validation failed", "syntaxErrors": {"invalidFields": fields}}
    text, code = refusals.answer(400, body)
    assert code == "VALIDATION" and text.count("[REQUIRED]") == 5 and text.endswith("; and 3 more")


# --- HTTP-level answers through the client ---------------------------------------------------------------


async def refused_by(response: httpx.Response, call: str = "pause") -> ApiError:
    client = WeavrClient(
        "http://weavr.invalid/multi", "key", "token", transport=httpx.MockTransport(lambda _: response)
    )
    try:
        with pytest.raises(ApiError) as refused:
            await (client.login("a@b.example", "pw") if call == "login" else client.pause("7"))
    finally:
        await client.aclose()
    return refused.value


async def test_http_level_refusals_say_what_to_do() -> None:
    unauthenticated = await refused_by(httpx.Response(401))
    assert unauthenticated.message.startswith("Not authenticated. The api-key or token was refused")
    assert "Log in again" in unauthenticated.message and unauthenticated.message.endswith("[HTTP 401]")

    wrong_password = await refused_by(httpx.Response(403), call="login")
    assert "The email or password is wrong" in wrong_password.message

    forbidden = await refused_by(httpx.Response(403, json={"errorCode": "INSUFFICIENT_PERMISSIONS"}))
    assert forbidden.code == "INSUFFICIENT_PERMISSIONS" and "lacks the permission" in forbidden.message

    not_found = {"code": "NOT_FOUND", "message": "Resource not found"}
    missing = await refused_by(httpx.Response(404, json=not_found))
    assert missing.message.startswith("Not found. ") and missing.message.endswith("[NOT_FOUND]")

    limited = await refused_by(
        httpx.Response(429, headers={"x-ratelimit-reset": "37", "x-ratelimit-limit": "100, 100;w=60"})
    )
    assert limited.message == (
        "Rate limited by the server (100 per window); try again in 37 s. Weavr counts requests per api-key. "
        "[HTTP 429]"
    )

    body = {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}
    unavailable = await refused_by(httpx.Response(503, json=body, headers={"Retry-After": "4"}))
    assert unavailable.retry_after_s == 4.0 and unavailable.message == (
        "Service unavailable. The server is unavailable for now (maintenance, or it cannot store anything "
        "just now). Not yet: try again in 4 s. [SERVICE_UNAVAILABLE]"
    )
    failed = await refused_by(httpx.Response(500, json={"code": "INTERNAL_SERVER_ERROR", "message": "boom"}))
    assert failed.message.startswith("Server error: boom. The server failed on its side")


def test_describe_with_context_rephrases_answers_only() -> None:
    context = Context("pause", "7", "SUBMITTED")
    body = {"errorCode": "INVALID_STATE"}
    conflict = ApiError(409, "x", code="INVALID_STATE", request_ref="r-1", body=body)
    assert describe(conflict, context) == (
        "Bulk 7 is SUBMITTED, and pausing needs it RUNNING. A SUBMITTED bulk can be executed or cancelled. "
        "[INVALID_STATE]"
    )
    crashed = ApiError(500, "x", request_ref="r-2", body={"code": "INTERNAL_SERVER_ERROR"})
    # A 5xx keeps its request-ref (support needs it); a 4xx is complete without.
    assert describe(crashed, context).endswith("[INTERNAL_SERVER_ERROR] (request-ref r-2)")
    unreadable = ApiError(200, "Unexpected response body from the server: x")
    assert describe(unreadable, context) == "Unexpected response body from the server: x"
    assert describe(ApiError(None, "Cannot reach x"), context) == "Cannot reach x"


# --- contextual sentences ----------------------------------------------------------------------------------


def test_invalid_state_names_the_state_and_what_it_allows() -> None:
    def said(action: str, status: str | None) -> str:
        return refusals.refusal("INVALID_STATE", Context(action, "9", status))

    assert said("execute", "RUNNING") == (
        "Bulk 9 is RUNNING, and executing needs it SUBMITTED (it has been executed already). A RUNNING bulk "
        "can be paused or cancelled. [INVALID_STATE]"
    )
    assert said("resume", "CANCELLED").startswith(
        "Bulk 9 is CANCELLED, a final state, and resuming needs it PAUSED."
    )
    assert "takes no more actions" in said("cancel", "COMPLETED")
    assert said("pause", "RUNNING").startswith("Bulk 9 was last seen RUNNING, which allows pausing")
    assert said("pause", None).startswith(
        "Bulk 9 is not in a state that allows pausing, which needs it RUNNING."
    )


def test_duplicate_and_too_many_name_the_other_bulks() -> None:
    others = (KnownBulk("11", "PAUSED", "POST /sends"), KnownBulk("12", "RUNNING", "POST /users"))
    known = (*others, KnownBulk("10", "COMPLETED", "POST /sends"))  # a final one blocks nothing
    mine = Context("execute", "13", "SUBMITTED", "POST /sends", known)
    assert refusals.refusal("DUPLICATE_OPERATION_TYPE", mine) == (
        "Another sends bulk, 11, is paused; Weavr runs one bulk of a kind at a time per identity, and a "
        "paused one still counts. Resume it and let it finish, or cancel it, then execute this one. "
        "[DUPLICATE_OPERATION_TYPE]"
    )
    assert refusals.refusal("TOO_MANY_REQUESTS", mine).startswith(
        "This identity already has 2 bulks running or paused, 11 (paused) and 12 (running)"
    )
    unknown = refusals.refusal("DUPLICATE_OPERATION_TYPE", Context("execute", "13"))
    assert unknown.startswith("Another bulk of the same kind is running or paused in this identity")


# --- through the real service against the embedded simulator ---------------------------------------------


async def submitted(service: DashboardService, size: int) -> str:
    created = await service.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, size, 0.0))
    assert created.bulk_id is not None, created.error
    return created.bulk_id


async def test_invalid_state_through_the_service_names_the_state(service: DashboardService) -> None:
    bulk = await submitted(service, 3)
    await eventually(lambda: service.known_bulks.get(bulk) == "SUBMITTED")  # the list has shown it
    refused = await service.act(bulk, BulkAction.PAUSE)
    assert refused.code == "INVALID_STATE"
    assert refused.notice.text == (
        f"Cannot pause bulk {bulk}: Bulk {bulk} is SUBMITTED, and pausing needs it RUNNING. A SUBMITTED bulk "
        "can be executed or cancelled. [INVALID_STATE]"
    )


async def test_duplicate_operation_type_names_the_running_then_paused_bulk(service: DashboardService) -> None:
    assert service.session is not None
    first = await submitted(service, 5)
    gate = Gate(service.session, at=2)  # the first bulk stays RUNNING, held before its operation 2
    assert (await service.act(first, BulkAction.EXECUTE, mode="ON_FAILURE_CONTINUE")).error is None
    second = await submitted(service, 2)
    await eventually(lambda: gate.reached and service.known_bulks.get(first) == "RUNNING")
    await eventually(lambda: service.known_operations.get(second) == "POST /transfers")

    refused = await service.act(second, BulkAction.EXECUTE)
    assert refused.code == "DUPLICATE_OPERATION_TYPE"
    assert refused.notice.text == (
        f"Cannot execute bulk {second}: Another transfers bulk, {first}, is running; Weavr runs one bulk of "
        "a kind at a time per identity. Wait for it to finish or cancel it (pausing it is not enough), then "
        "execute this one. [DUPLICATE_OPERATION_TYPE]"
    )

    pausing = service.act(first, BulkAction.PAUSE)
    await eventually(lambda: gate.stop_requested(first))
    gate.release()
    assert (await pausing).error is None
    await eventually(lambda: service.known_bulks.get(first) == "PAUSED")
    again = await service.act(second, BulkAction.EXECUTE)
    assert again.error is not None and again.error.startswith(f"Another transfers bulk, {first}, is paused;")
    assert again.error.endswith("[DUPLICATE_OPERATION_TYPE]")


# --- `bulkdash report abc` ----------------------------------------------------------------------------------


def test_report_refuses_a_malformed_id_in_words_before_connecting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkdash.cli import main

    def no_connecting(*_: object) -> None:
        raise AssertionError("a malformed id must be refused before connecting")

    monkeypatch.setattr("bulkdash.cli.dashboard.checked_connector", no_connecting)
    assert main(["report", "abc"]) == 2
    assert capsys.readouterr().err == "bulkdash report: bulk_id must be digits only, e.g. 1000001 [REGEX]\n"


# --- the catalogue stays in its layer -------------------------------------------------------------------


def test_the_catalogue_imports_no_client_service_or_ui() -> None:
    code = (
        "import sys, bulkdash.contract.refusals\n"
        "bad = [m for m in sys.modules if m.startswith(('bulkdash.api', 'bulkdash.service', 'bulkdash.ui', "
        "'bulkdash.model', 'httpx', 'textual', 'simulator')) and sys.modules[m] is not None]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_lifecycle_table_agrees_with_the_service() -> None:
    from bulkdash.service import actions

    table = getattr(actions, "ALLOWED_FROM", None)
    if table is None:
        pytest.skip("the service declares no table of its own")
    assert {str(a): set(froms) for a, froms in table.items()} == {
        a: set(froms) for a, froms in refusals.ALLOWED_FROM.items()
    }
