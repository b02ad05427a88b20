"""The request models of docs/behaviour.md §4.3: each endpoint's constraints and the ``oneOf`` destination
shapes."""

from __future__ import annotations

from typing import Any

import pytest

from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.requests import (
    BODY_MODELS,
    OWT_SHAPE_KEYS,
    BeneficiaryId,
    ExternalAccountId,
    FasterPaymentsBeneficiary,
    IbanBeneficiary,
    InstrumentId,
    LegacyWireBeneficiary,
    OutgoingWireTransferCreateRequest,
    SendCreateRequest,
    SwiftBeneficiary,
    UserCreate,
    owt_beneficiary_shape,
)
from bulkdash.contract.validation import RequestInvalid, validate_model, validate_submission

IBAN = "DE89370400440532013000"
FP_NAME_PATTERN = r"""^[a-zA-Z0-9\/\-?:().,'+\s#=!"%&*<>;\{@\r\n]*$"""  # §4.3.7, verbatim


def problems(model: Any, data: Any) -> Any:
    with pytest.raises(RequestInvalid) as info:
        validate_model(model, data)
    body = info.value.body.dump()
    if "syntaxErrors" not in body:
        return body["message"]
    return [(f["fieldName"], f["error"], f["params"]) for f in body["syntaxErrors"]["invalidFields"]]


def owt_body(beneficiary: Any, **extra: Any) -> dict:
    return {
        "profileId": "3201",
        "sourceInstrument": {"type": "managed_accounts", "id": "4002"},
        "transferAmount": {"currency": "EUR", "amount": 100},
        "destinationBeneficiary": beneficiary,
        **extra,
    }


def send_body(destination: Any) -> dict:
    return {
        "profileId": "3101",
        "source": {"type": "managed_accounts", "id": "4001"},
        "destination": destination,
        "destinationAmount": {"currency": "GBP", "amount": 1},
    }


def test_body_models_cover_the_kinds_with_bodies() -> None:
    assert set(BODY_MODELS) == {
        OperationKind.USERS,
        OperationKind.SPEND_RULES,
        OperationKind.TRANSFERS,
        OperationKind.SENDS,
        OperationKind.OWT,
    }


# --- users -------------------------------------------------------------------------------------------


def test_user_mobile_and_optional_strings() -> None:
    body = {
        "name": "a",
        "surname": "b",
        "email": "a@b.co",
        "mobile": {"countryCode": "44", "number": "0123456789012"},
        "locale": "EN",
        "brand": "my brand",
        "tag": "x" * 51,
    }
    assert problems(UserCreate, body) == [
        ("mobile.countryCode", "REGEX", [r"^\+[0-9]+$"]),
        ("mobile.number", "REGEX", ["^[0-9]{1,12}$"]),
        ("tag", "SIZE", ["0", "50"]),
        ("locale", "REGEX", ["^[a-z]{2}(-[A-Z]{2})?$"]),
        ("brand", "REGEX", ["^[a-zA-Z0-9]+$"]),
    ]
    assert problems(UserCreate, {**body, "mobile": {}, "locale": None, "brand": None, "tag": None}) == [
        ("mobile.countryCode", "REQUIRED", []),
        ("mobile.number", "REQUIRED", []),
    ]


def test_user_create_accepts_a_full_valid_body() -> None:
    user = validate_model(
        UserCreate,
        {
            "name": "Ian",
            "surname": "Ng",
            "email": "ian@acme.example",
            "mobile": {"countryCode": "+44", "number": "7700900123"},
            "dateOfBirth": {"year": 1990, "month": 2, "day": 31},  # no calendar check
            "countryOfResidence": "GB",
            "locale": "en-GB",
            "brand": "Acme",
            "roles": ["CARD_ASSIGNEE"],
        },
    )
    assert user.to_json()["dateOfBirth"] == {"year": 1990, "month": 2, "day": 31}


# --- sends -------------------------------------------------------------------------------------------


def test_send_destination_is_instrument_or_beneficiary() -> None:
    assert isinstance(
        validate_model(SendCreateRequest, send_body({"beneficiaryId": "7003"})).destination, BeneficiaryId
    )
    dest = validate_model(
        SendCreateRequest, send_body({"type": "managed_accounts", "id": "4101"})
    ).destination
    assert isinstance(dest, InstrumentId)
    assert problems(SendCreateRequest, send_body({})) == [
        ("destination.id", "REQUIRED", []),
        ("destination.type", "REQUIRED", []),
    ]
    assert problems(SendCreateRequest, send_body({"beneficiaryId": None})) == [
        ("destination.beneficiaryId", "REQUIRED", [])
    ]
    assert problems(SendCreateRequest, send_body(None)) == [("destination", "REQUIRED", [])]
    assert problems(SendCreateRequest, send_body("4101")) == "Invalid type for field destination"


# --- outgoing wire transfers -------------------------------------------------------------------------

SEPA = {"name": "Hans", "iban": IBAN}
FP = {"name": "Jane", "type": "PERSONAL", "accountNumber": "31926819", "sortCode": "601613"}
SWIFT = {"name": "Wu", "account": "CN1234", "address": "Road 1", "bankCountry": "CN"}


@pytest.mark.parametrize(
    ("beneficiary", "shape", "model"),
    [
        ({"beneficiaryId": "7001"}, "beneficiaryId", BeneficiaryId),
        ({"type": "linked_accounts", "id": "8001"}, "externalAccount", ExternalAccountId),
        ({"name": "Old", "bankAccountDetails": {"iban": IBAN}}, "legacy", LegacyWireBeneficiary),
        (FP, "fasterPayments", FasterPaymentsBeneficiary),
        (SWIFT, "swift", SwiftBeneficiary),
        (SEPA, "iban", IbanBeneficiary),
        # first match wins: the order of §4.3.7
        ({**SEPA, "beneficiaryId": "7001"}, "beneficiaryId", BeneficiaryId),
        ({**FP, "iban": IBAN, "account": "X1"}, "fasterPayments", FasterPaymentsBeneficiary),
        ({**SWIFT, "iban": IBAN}, "swift", SwiftBeneficiary),
        (
            {"name": "Old", "bankAccountDetails": {"iban": IBAN}, "accountNumber": "1"},
            "legacy",
            LegacyWireBeneficiary,
        ),
    ],
)
def test_owt_shapes_match_in_order(beneficiary: dict, shape: str, model: type) -> None:
    assert owt_beneficiary_shape(beneficiary) == shape
    parsed = validate_model(OutgoingWireTransferCreateRequest, owt_body(beneficiary))
    assert isinstance(parsed.destinationBeneficiary, model)


NO_SHAPE = ("destinationBeneficiary", "REQUIRES", list(OWT_SHAPE_KEYS))


@pytest.mark.parametrize(
    "beneficiary",
    [
        {},
        {"name": "Nobody"},
        {"type": "linked_accounts"},  # no id: not an ExternalAccountId, and nothing else matches
        {"type": "external", "id": "1"},
    ],
)
def test_owt_object_without_a_matching_shape_is_a_constraint_problem(beneficiary: Any) -> None:
    assert problems(OutgoingWireTransferCreateRequest, owt_body(beneficiary)) == [NO_SHAPE]


@pytest.mark.parametrize("beneficiary", ["DE89370400440532013000", ["iban"], 7])
def test_owt_beneficiary_that_is_no_object_is_a_type_error(beneficiary: Any) -> None:
    assert problems(OutgoingWireTransferCreateRequest, owt_body(beneficiary)) == (
        "Invalid type for field destinationBeneficiary"
    )


def test_owt_item_reports_a_shapeless_beneficiary_with_every_other_problem() -> None:
    # The tester's case: before, the beneficiary's type error hid the two missing fields.
    item = {"requestBody": {"profileId": "3201", "destinationBeneficiary": {"name": "Nobody"}}}
    with pytest.raises(RequestInvalid) as info:
        validate_submission(KINDS[OperationKind.OWT], [item])
    fields = info.value.body.dump()["syntaxErrors"]["invalidFields"]
    assert [(f["fieldName"], f["error"]) for f in fields] == [
        ("[0].requestBody.sourceInstrument", "REQUIRED"),
        ("[0].requestBody.transferAmount", "REQUIRED"),
        ("[0].requestBody.destinationBeneficiary", "REQUIRES"),
    ]


def test_owt_missing_beneficiary_is_required() -> None:
    body = owt_body(None)
    assert problems(OutgoingWireTransferCreateRequest, body) == [("destinationBeneficiary", "REQUIRED", [])]


@pytest.mark.parametrize(
    ("beneficiary", "expected"),
    [
        (
            {"iban": "DE89"},
            [
                ("destinationBeneficiary.name", "REQUIRED", []),
                ("destinationBeneficiary.iban", "SIZE", ["15", "34"]),
            ],
        ),
        (
            {"name": " ", "iban": "de89370400440532013000", "bankIdentifierCode": "COBA"},
            [
                ("destinationBeneficiary.name", "HAS_TEXT", []),
                ("destinationBeneficiary.iban", "REGEX", ["^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"]),
                ("destinationBeneficiary.bankIdentifierCode", "SIZE", ["8", "11"]),
            ],
        ),
        (
            {"accountNumber": "1234567", "sortCode": "12345X", "name": "J~ne"},
            [
                ("destinationBeneficiary.name", "REGEX", [FP_NAME_PATTERN]),
                ("destinationBeneficiary.type", "REQUIRED", []),
                ("destinationBeneficiary.accountNumber", "REGEX", ["^[0-9]{8}$"]),
                ("destinationBeneficiary.sortCode", "REGEX", ["^[0-9]{6}$"]),
            ],
        ),
        (
            {"account": "CN-1", "name": "Wu"},
            [
                ("destinationBeneficiary.account", "REGEX", ["^[a-zA-Z0-9]{1,34}$"]),
                ("destinationBeneficiary.address", "REQUIRED", []),
                ("destinationBeneficiary.bankCountry", "REQUIRED", []),
            ],
        ),
        (
            {**SWIFT, "bankCountry": "cn", "bankIdentifierCode": "COBADEFF-XX"},
            [
                ("destinationBeneficiary.bankIdentifierCode", "REGEX", ["^[a-zA-Z0-9]{8,11}$"]),
                ("destinationBeneficiary.bankCountry", "REGEX", ["^[A-Z]{2}$"]),
            ],
        ),
        ({"beneficiaryId": "B7"}, [("destinationBeneficiary.beneficiaryId", "REGEX", ["^[0-9]+$"])]),
        ({"type": "linked_accounts", "id": "x"}, [("destinationBeneficiary.id", "REGEX", ["^[0-9]+$"])]),
        (
            {"name": "Old", "bankAccountDetails": {"sortCode": "123456"}},
            [("destinationBeneficiary.bankAccountDetails.accountNumber", "REQUIRED", [])],
        ),
        (
            {"name": "Old", "bankAccountDetails": {}},
            [("destinationBeneficiary.bankAccountDetails.iban", "REQUIRED", [])],
        ),
        (
            {**SEPA, "address": "", "nationality": "D", "dateOfBirth": "1980-1-1"},
            [
                ("destinationBeneficiary.address", "SIZE", ["1", "150"]),
                ("destinationBeneficiary.nationality", "SIZE", ["2", "2"]),
                ("destinationBeneficiary.dateOfBirth", "REGEX", ["^[0-9]{4}-[0-9]{2}-[0-9]{2}$"]),
            ],
        ),
    ],
)
def test_the_matched_shape_is_validated_against_its_own_schema(beneficiary: dict, expected: list) -> None:
    assert problems(OutgoingWireTransferCreateRequest, owt_body(beneficiary)) == expected


def test_owt_fixed_fields() -> None:
    body = owt_body(SEPA, purpose="p" * 256, description="any length is checked at run time " * 5)
    body["sourceInstrument"] = {"type": "managed_cards", "id": "5001"}
    assert problems(OutgoingWireTransferCreateRequest, body) == [
        ("sourceInstrument.type", "IN", ["managed_accounts"]),
        ("purpose", "SIZE", ["0", "255"]),
    ]
    assert problems(OutgoingWireTransferCreateRequest, {}) == [
        ("profileId", "REQUIRED", []),
        ("sourceInstrument", "REQUIRED", []),
        ("transferAmount", "REQUIRED", []),
        ("destinationBeneficiary", "REQUIRED", []),
    ]


def test_scheduled_timestamp_is_a_digit_string() -> None:
    assert problems(OutgoingWireTransferCreateRequest, owt_body(SEPA, scheduledTimestamp="tomorrow")) == [
        ("scheduledTimestamp", "REGEX", ["^[0-9]+$"])
    ]
    assert problems(OutgoingWireTransferCreateRequest, owt_body(SEPA, scheduledTimestamp=1767225600000)) == (
        "Invalid type for field scheduledTimestamp"
    )
