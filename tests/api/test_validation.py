"""Weavr 400 bodies from pydantic errors (docs/behaviour.md §3.3) and the bulk submission checks (§4.1)."""

from __future__ import annotations

import copy
import json
import time
from typing import Annotated, Any

import pytest
from annotated_types import Le, MinLen
from pydantic import BaseModel, Field, StringConstraints

from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.requests import CreateTransfer, UpdateCardLevelSpendRules, UserCreate
from bulkdash.contract.validation import (
    RequestInvalid,
    ValidItem,
    cross_item_conflict,
    validate_model,
    validate_submission,
)

EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def errors_of(model: Any, data: Any, prefix: str = "") -> dict:
    with pytest.raises(RequestInvalid) as info:
        validate_model(model, data, prefix)
    assert info.value.status == 400
    return info.value.body.dump()


def fields_of(model: Any, data: Any, prefix: str = "") -> list[tuple[str, str, list[str]]]:
    body = errors_of(model, data, prefix)
    assert body["message"] == "Validation failed"
    return [(f["fieldName"], f["error"], f["params"]) for f in body["syntaxErrors"]["invalidFields"]]


def transfer_body(**overrides: Any) -> dict:
    body: dict[str, Any] = {
        "profileId": "3001",
        "source": {"type": "managed_accounts", "id": "4001"},
        "destination": {"type": "managed_cards", "id": "5001"},
        "destinationAmount": {"currency": "GBP", "amount": 1500},
    }
    body.update(overrides)
    return body


# --- the mapping of §3.3 -----------------------------------------------------------------------------


def test_valid_body_returns_the_model() -> None:
    model = validate_model(UserCreate, {"name": "Ian", "surname": "Ng", "email": "ian@acme.example", "x": 1})
    assert isinstance(model, UserCreate) and model.email == "ian@acme.example"


def test_required_missing_and_null() -> None:
    assert fields_of(UserCreate, {"name": None, "email": "a@b.co"}) == [
        ("name", "REQUIRED", []),
        ("surname", "REQUIRED", []),
    ]


def test_has_text_for_whitespace_only_and_size_for_empty() -> None:
    assert fields_of(UserCreate, {"name": " \t ", "surname": "", "email": "a@b.co"}) == [
        ("name", "HAS_TEXT", []),
        ("surname", "SIZE", ["1", "50"]),
    ]


def test_size_too_long_string_and_exact_lengths() -> None:
    body = {
        "name": "n" * 51,
        "surname": "s",
        "email": "a@b.co",
        "countryOfResidence": "GBR",
        "locale": "en-GBR",
    }
    assert fields_of(UserCreate, body) == [
        ("name", "SIZE", ["1", "50"]),
        ("countryOfResidence", "SIZE", ["2", "2"]),
        ("locale", "SIZE", ["0", "5"]),  # no minimum: written "0"
    ]


def test_size_of_arrays_and_of_array_items() -> None:
    body = {"allowedMerchantIds": ["m"] * 201, "blockedMerchantCountries": ["GB", "G"]}
    assert fields_of(UpdateCardLevelSpendRules, body) == [
        ("allowedMerchantIds", "SIZE", ["0", "200"]),
        ("blockedMerchantCountries[1]", "SIZE", ["2", "2"]),
    ]


def test_size_without_upper_bound_is_written_as_int_max() -> None:
    class Model(BaseModel):
        text: Annotated[str, MinLen(3)]

    assert fields_of(Model, {"text": "ab"}) == [("text", "SIZE", ["3", "2147483647"])]


def test_range_at_least_and_at_most() -> None:
    class Bounded(BaseModel):
        upper: Annotated[int, Le(10)] = 0

    body = {
        "name": "a",
        "surname": "b",
        "email": "a@b.co",
        "dateOfBirth": {"year": 1899, "month": 13, "day": 0},
    }
    assert fields_of(UserCreate, body) == [
        ("dateOfBirth.year", "RANGE", ["1900", "2100"]),
        ("dateOfBirth.month", "RANGE", ["1", "12"]),
        ("dateOfBirth.day", "RANGE", ["1", "31"]),
    ]
    assert fields_of(UpdateCardLevelSpendRules, {"minTransactionAmount": -1}) == [
        ("minTransactionAmount", "AT_LEAST", ["0"])
    ]
    assert fields_of(Bounded, {"upper": 11}) == [("upper", "AT_MOST", ["10"])]


def test_in_lists_the_allowed_values() -> None:
    assert fields_of(
        UserCreate, {"name": "a", "surname": "b", "email": "a@b.co", "roles": ["ADMIN", "BOSS"]}
    ) == [
        (
            "roles[1]",
            "IN",
            [
                "CARD_ASSIGNEE",
                "CARDS_MANAGEMENT_ROLE",
                "FUNDS_MANAGEMENT_ROLE",
                "ACCESS_MANAGEMENT_ROLE",
                "ADMIN",
            ],
        )
    ]
    body = transfer_body(source={"type": "linked_accounts", "id": "1"})
    assert fields_of(CreateTransfer, body) == [("source.type", "IN", ["managed_cards", "managed_accounts"])]


@pytest.mark.parametrize("email", ["", "  ", "plain", "a@b", "a b@c.de", "@b.co"])
def test_email_check_is_a_regex(email: str) -> None:
    assert fields_of(UserCreate, {"name": "a", "surname": "b", "email": email}) == [
        ("email", "REGEX", [EMAIL_REGEX])
    ]


def test_regex_reports_the_pattern() -> None:
    body = transfer_body(profileId="P1", tag="has space", destinationAmount={"currency": "gbp", "amount": 1})
    assert fields_of(CreateTransfer, body) == [
        ("profileId", "REGEX", ["^[0-9]+$"]),
        ("destinationAmount.currency", "REGEX", ["^[A-Z]*$"]),
        ("tag", "REGEX", ["^[a-zA-Z0-9_-]+$"]),
    ]


def test_description_pattern_and_length() -> None:
    assert validate_model(CreateTransfer, transfer_body(description="Pay: Jan/2026 (ref #7) - ok!\r\n"))
    spec_pattern = r"""^[a-zA-Z0-9\/\-?:().$_,'+\s#=!"%&*<>;\{@\r\n]*$"""  # §4.3, verbatim
    assert fields_of(CreateTransfer, transfer_body(description="caf\u00e9")) == [
        ("description", "REGEX", [spec_pattern])
    ]
    assert fields_of(CreateTransfer, transfer_body(description="x" * 256)) == [
        ("description", "SIZE", ["0", "255"])
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (transfer_body(destinationAmount={"currency": "GBP", "amount": "1500"}), "destinationAmount.amount"),
        (transfer_body(destinationAmount={"currency": "GBP", "amount": 15.5}), "destinationAmount.amount"),
        (transfer_body(destinationAmount={"currency": "GBP", "amount": True}), "destinationAmount.amount"),
        (transfer_body(profileId=3001), "profileId"),
        (transfer_body(source=["managed_accounts", "4001"]), "source"),
        (transfer_body(destinationAmount="1500 GBP"), "destinationAmount"),
    ],
)
def test_wrong_json_type_is_a_message_without_syntax_errors(data: dict, field: str) -> None:
    assert errors_of(CreateTransfer, data) == {"message": f"Invalid type for field {field}"}


def test_object_for_array_is_a_type_error() -> None:
    assert errors_of(UpdateCardLevelSpendRules, {"spendLimit": {"interval": "DAILY"}}) == {
        "message": "Invalid type for field spendLimit"
    }


def test_a_type_error_wins_over_constraint_errors_and_the_first_one_is_named() -> None:
    data = transfer_body(profileId="x", tag=5, description=6)
    assert errors_of(CreateTransfer, data) == {"message": "Invalid type for field tag"}


def test_body_of_the_wrong_type() -> None:
    assert errors_of(CreateTransfer, [1], "[2].requestBody") == {
        "message": "Invalid type for field [2].requestBody"
    }
    assert errors_of(CreateTransfer, "x") == {"message": "Request body must be a JSON object"}


def test_field_prefix_and_int64_bounds() -> None:
    body = transfer_body(destinationAmount={"currency": "GB", "amount": -(2**63)})
    assert fields_of(CreateTransfer, body, "[3].requestBody") == [
        ("[3].requestBody.destinationAmount.currency", "SIZE", ["3", "3"])
    ]


# --- integer formats and whole numbers (bulkdash/contract/integers.py) -------------------------------

INT64_MAX = str(2**63 - 1)
INT64_MIN = str(-(2**63))


def amount(value: Any) -> dict:
    return transfer_body(destinationAmount={"currency": "GBP", "amount": value})


@pytest.mark.parametrize(
    ("value", "error", "bound"),
    [
        (2**63, "AT_MOST", INT64_MAX),
        (99999999999999999999, "AT_MOST", INT64_MAX),
        (-(2**63) - 1, "AT_LEAST", INT64_MIN),
        (1e300, "AT_MOST", INT64_MAX),  # a whole number, far too big
    ],
)
def test_an_amount_beyond_int64_names_the_field_and_the_bound(value: Any, error: str, bound: str) -> None:
    assert fields_of(CreateTransfer, amount(value)) == [("destinationAmount.amount", error, [bound])]


def test_the_whole_int64_range_is_accepted() -> None:
    for value in (2**63 - 1, -(2**63)):
        assert validate_model(CreateTransfer, amount(value)).destinationAmount.amount == value


def test_format_problems_are_listed_with_the_others() -> None:
    data = {
        "minTransactionAmount": 2**64,
        "maxTransactionAmount": -1,
        "spendLimit": [
            {"value": {"currency": "GBP", "amount": 1}, "interval": "DAILY", "startTimestamp": -(2**70)}
        ],
    }
    assert fields_of(UpdateCardLevelSpendRules, data) == [
        ("spendLimit[0].startTimestamp", "AT_LEAST", [INT64_MIN]),
        ("minTransactionAmount", "AT_MOST", [INT64_MAX]),
        ("maxTransactionAmount", "AT_LEAST", ["0"]),  # the schema's own minimum comes first
    ]


def test_whole_numbers_written_as_floats_are_integers() -> None:
    parsed = validate_model(CreateTransfer, amount(100.0))
    assert parsed.destinationAmount.amount == 100 and type(parsed.destinationAmount.amount) is int
    user = {
        "name": "a",
        "surname": "b",
        "email": "a@b.co",
        "dateOfBirth": {"year": 1990.0, "month": 2, "day": 1},
    }
    assert validate_model(UserCreate, user).dateOfBirth.year == 1990
    for not_whole in (100.5, float("inf"), float("nan")):
        assert errors_of(CreateTransfer, amount(not_whole)) == {
            "message": "Invalid type for field destinationAmount.amount"
        }


def test_a_submission_stores_whole_numbers_as_integers_and_the_rest_as_sent() -> None:
    body = {**transfer_body(destinationAmount={"currency": "GBP", "amount": 2500.0}), "extra": 1.0}
    spend = {"spendLimit": [{"value": {"currency": "GBP", "amount": 7.0}, "interval": "DAILY"}]}
    items = validate_submission(TRANSFERS, [{"requestBody": body}])
    assert items[0].body is body
    sent = json.dumps(items[0].body)
    assert '"amount": 2500}' in sent and '"extra": 1.0' in sent  # what the operation runs on and echoes
    spend_items = validate_submission(SPEND, [{"pathParams": {"_id_": "5001"}, "requestBody": spend}])
    assert type(spend_items[0].body["spendLimit"][0]["value"]["amount"]) is int


def test_at_most_100_entries() -> None:
    data = {
        "allowedMerchantCountries": ["x"] * 50,
        "blockedMerchantCountries": ["y"] * 50,
        "minTransactionAmount": -1,
    }
    body = errors_of(UpdateCardLevelSpendRules, data)
    fields = body["syntaxErrors"]["invalidFields"]
    assert body["message"] == "Validation failed"
    assert len(fields) == 100
    assert fields[0]["fieldName"] == "allowedMerchantCountries[0]"
    assert fields[-1]["fieldName"] == "blockedMerchantCountries[49]"  # the 101st problem is dropped


def test_params_are_always_strings() -> None:
    body = {
        "name": "a",
        "surname": "b",
        "email": "a@b.co",
        "dateOfBirth": {"year": 3000, "month": 1, "day": 1},
    }
    for field in errors_of(UserCreate, body)["syntaxErrors"]["invalidFields"]:
        assert all(isinstance(p, str) for p in field["params"])


# --- submissions (§4.1 step 1) -----------------------------------------------------------------------

BLOCK = KINDS[OperationKind.CARD_BLOCK]
INVITE = KINDS[OperationKind.USER_INVITE]
TRANSFERS = KINDS[OperationKind.TRANSFERS]
USERS = KINDS[OperationKind.USERS]
SPEND = KINDS[OperationKind.SPEND_RULES]


def submission_errors(spec: Any, payload: Any) -> dict:
    with pytest.raises(RequestInvalid) as info:
        validate_submission(spec, payload)
    return info.value.body.dump()


def submission_fields(spec: Any, payload: Any) -> list[tuple[str, str, list[str]]]:
    body = submission_errors(spec, payload)
    return [(f["fieldName"], f["error"], f["params"]) for f in body["syntaxErrors"]["invalidFields"]]


@pytest.mark.parametrize("payload", [{}, {"pathParams": {}}, "[]", 5, None])
def test_body_must_be_an_array(payload: Any) -> None:
    assert submission_errors(TRANSFERS, payload) == {"message": "Request body must be a JSON array"}


@pytest.mark.parametrize("size", [0, 10_001])
def test_array_size(size: int) -> None:
    assert submission_fields(BLOCK, [{"pathParams": {"_id_": "1"}}] * size) == [("", "SIZE", ["1", "10000"])]


@pytest.mark.parametrize("item", [[], "x", 1, None])
def test_item_must_be_an_object(item: Any) -> None:
    payload = [{"pathParams": {"_id_": "5001"}}, item]
    assert submission_errors(BLOCK, payload) == {"message": "Invalid type for field [1]"}


def test_path_param_rules() -> None:
    payload = [
        {"pathParams": {"_id_": "5001"}},
        {},
        {"pathParams": None},
        {"pathParams": {}},
        {"pathParams": {"_id_": None, "other": "1"}},
        {"pathParams": {"_id_": "abc"}},
        {"pathParams": {"_id_": "5001\n"}},
        {"pathParams": {"_id_": ""}},
        {"pathParams": {"_id_": "\u0661"}},  # an Arabic-Indic digit is not [0-9]
    ]
    assert submission_fields(BLOCK, payload) == [
        ("[1].pathParams", "REQUIRED", []),
        ("[2].pathParams", "REQUIRED", []),
        ("[3].pathParams._id_", "REQUIRED", []),
        ("[4].pathParams._id_", "REQUIRED", []),
        ("[5].pathParams._id_", "REGEX", ["^[0-9]+$"]),
        ("[6].pathParams._id_", "REGEX", ["^[0-9]+$"]),
        ("[7].pathParams._id_", "REGEX", ["^[0-9]+$"]),
        ("[8].pathParams._id_", "REGEX", ["^[0-9]+$"]),
    ]


def test_invite_uses_user_id() -> None:
    assert submission_fields(INVITE, [{"pathParams": {"_id_": "2005"}}]) == [
        ("[0].pathParams._user_id_", "REQUIRED", [])
    ]
    assert validate_submission(INVITE, [{"pathParams": {"_user_id_": "2005"}}]) == [
        ValidItem({"_user_id_": "2005"}, None)
    ]


@pytest.mark.parametrize("params", [5, "5001", ["5001"]])
def test_path_params_of_the_wrong_type(params: Any) -> None:
    assert submission_errors(BLOCK, [{"pathParams": params}]) == {
        "message": "Invalid type for field [0].pathParams"
    }


def test_path_param_value_of_the_wrong_type() -> None:
    assert submission_errors(BLOCK, [{"pathParams": {"_id_": 5001}}]) == {
        "message": "Invalid type for field [0].pathParams._id_"
    }


def test_kinds_without_path_params_accept_missing_or_empty_path_params() -> None:
    payload = [{"requestBody": transfer_body()}, {"pathParams": {}, "requestBody": transfer_body()}]
    items = validate_submission(TRANSFERS, payload)
    assert [i.path_params for i in items] == [{}, {}]
    assert submission_errors(TRANSFERS, [{"pathParams": [], "requestBody": transfer_body()}]) == {
        "message": "Invalid type for field [0].pathParams"
    }


def test_body_less_kinds_ignore_the_request_body() -> None:
    items = validate_submission(BLOCK, [{"pathParams": {"_id_": "5001"}, "requestBody": {"junk": [1, 2]}}])
    assert items == [ValidItem({"_id_": "5001"}, None)]
    items = validate_submission(
        BLOCK, [{"pathParams": {"_id_": "5001"}, "requestBody": "not even an object"}]
    )
    assert items[0].body is None


def test_request_body_is_required_for_body_kinds() -> None:
    for spec in (USERS, TRANSFERS, KINDS[OperationKind.SENDS], KINDS[OperationKind.OWT]):
        assert submission_fields(spec, [{"pathParams": {}}, {"requestBody": None}]) == [
            ("[0].requestBody", "REQUIRED", []),
            ("[1].requestBody", "REQUIRED", []),
        ]
    assert submission_fields(SPEND, [{"pathParams": {"_id_": "5007"}}]) == [
        ("[0].requestBody", "REQUIRED", [])
    ]
    assert submission_errors(TRANSFERS, [{"requestBody": [transfer_body()]}]) == {
        "message": "Invalid type for field [0].requestBody"
    }


def test_spend_rules_body_may_be_empty_and_path_param_and_body_are_both_checked() -> None:
    assert validate_submission(SPEND, [{"pathParams": {"_id_": "5007"}, "requestBody": {}}])[0].body == {}
    payload = [{"pathParams": {"_id_": "x"}, "requestBody": {"allowAtm": None, "minTransactionAmount": -2}}]
    assert submission_fields(SPEND, payload) == [
        ("[0].pathParams._id_", "REGEX", ["^[0-9]+$"]),
        ("[0].requestBody.minTransactionAmount", "AT_LEAST", ["0"]),
    ]


def test_problems_of_all_items_are_collected() -> None:
    payload = [
        {"requestBody": transfer_body()},
        {"requestBody": transfer_body(profileId="")},
        {"requestBody": transfer_body()},
        {"requestBody": {**transfer_body(), "source": None}},
    ]
    assert submission_fields(TRANSFERS, payload) == [
        ("[1].requestBody.profileId", "REGEX", ["^[0-9]+$"]),
        ("[3].requestBody.source", "REQUIRED", []),
    ]


def test_a_later_type_error_wins_over_earlier_constraint_errors() -> None:
    payload = [{"requestBody": transfer_body(profileId="")}] * 3 + [
        {"requestBody": transfer_body(destinationAmount={"currency": "GBP", "amount": "1"})},
        {"requestBody": transfer_body(tag=1)},
    ]
    assert submission_errors(TRANSFERS, payload) == {
        "message": "Invalid type for field [3].requestBody.destinationAmount.amount"
    }


def test_the_100_entry_cap_spans_items() -> None:
    payload = [{"pathParams": {"_id_": "x"}}] * 150
    body = submission_errors(BLOCK, payload)
    assert body["message"] == "Validation failed"
    fields = body["syntaxErrors"]["invalidFields"]
    assert len(fields) == 100 and fields[-1]["fieldName"] == "[99].pathParams._id_"


def test_valid_items_keep_the_body_exactly_as_sent() -> None:
    body = {**transfer_body(tag="payroll_jan"), "unknownProperty": {"kept": True}}
    payload = [{"pathParams": {}, "requestBody": body}]
    snapshot = copy.deepcopy(payload)
    items = validate_submission(TRANSFERS, payload)
    assert items[0].body is body  # the client's own dict: requestPayload is what was sent
    assert payload == snapshot  # validation changed nothing
    assert items == [ValidItem({}, body)]


def test_users_bulk_validates_user_create() -> None:
    payload = [{"requestBody": {"name": "Ian", "surname": "Ng", "email": "bad"}}]
    assert submission_fields(USERS, payload) == [("[0].requestBody.email", "REGEX", [EMAIL_REGEX])]


def test_10000_transfers_validate_well_under_a_second() -> None:
    item = {"pathParams": {}, "requestBody": transfer_body(tag="payroll_jan", description="January salary")}
    payload = json.loads(json.dumps([item] * 10_000))  # distinct dicts, as json.loads would produce
    start = time.perf_counter()
    items = validate_submission(TRANSFERS, payload)
    elapsed = time.perf_counter() - start
    assert len(items) == 10_000
    assert elapsed < 0.5, f"took {elapsed:.3f}s"


# --- cross-item checks (§4.1 step 4) -----------------------------------------------------------------


def test_duplicate_targets_in_unique_target_kinds() -> None:
    for kind in (OperationKind.CARD_BLOCK, OperationKind.CARD_UNBLOCK, OperationKind.CARD_REMOVE):
        spec = KINDS[kind]
        items = validate_submission(spec, [{"pathParams": {"_id_": i}} for i in ("5001", "5002", "5001")])
        assert cross_item_conflict(spec, items) == "VALIDATION_FAILED"
        assert cross_item_conflict(spec, items[:2]) is None
    spend = [{"pathParams": {"_id_": "5007"}, "requestBody": {}}] * 2
    assert cross_item_conflict(SPEND, validate_submission(SPEND, spend)) == "VALIDATION_FAILED"
    invites = validate_submission(INVITE, [{"pathParams": {"_user_id_": "2005"}}] * 2)
    assert cross_item_conflict(INVITE, invites) == "VALIDATION_FAILED"


def test_duplicate_emails_in_a_users_bulk_are_case_insensitive() -> None:
    def users(*emails: str) -> list[ValidItem]:
        return validate_submission(
            USERS, [{"requestBody": {"name": "a", "surname": "b", "email": e}} for e in emails]
        )

    assert cross_item_conflict(USERS, users("a@x.io", "b@x.io")) is None
    assert cross_item_conflict(USERS, users("a@x.io", "b@x.io", "A@X.io")) == "USER_VALIDATION_FAILED"


def test_money_movements_may_repeat() -> None:
    items = validate_submission(TRANSFERS, [{"requestBody": transfer_body()}] * 3)
    assert cross_item_conflict(TRANSFERS, items) is None


def test_bounds_are_read_from_any_constraint_metadata() -> None:
    class Model(BaseModel):
        code: Annotated[str, StringConstraints(min_length=2, max_length=4)]
        count: int = Field(ge=1, le=9)
        floor: Annotated[int, Field(ge=5)] = 5

    assert fields_of(Model, {"code": "x", "count": 10, "floor": 4}) == [
        ("code", "SIZE", ["2", "4"]),
        ("count", "RANGE", ["1", "9"]),
        ("floor", "AT_LEAST", ["5"]),
    ]
