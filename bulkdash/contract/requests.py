"""Request bodies of the single endpoints a bulk item stands for (docs/behaviour.md §4.3), as pydantic v2
models.

The simulator validates every item's ``requestBody`` against these at submission time (§4.1 step 1) and the
dashboard's client builds items with them, so each constraint of the published schema is written here once:
lengths, patterns, enums, ranges, item counts and the ``oneOf`` shapes of send and wire-transfer destinations.

Conventions, chosen so :mod:`bulkdash.contract.validation` can turn pydantic's errors into Weavr's 400 bodies:

* Models are validated in **strict** mode on JSON-parsed Python objects, so ``"5"`` for an integer is a type
  error and enums are ``Literal[...]`` (strict enum classes would refuse plain strings).
* Length bounds and numeric bounds are ``annotated_types`` metadata (``MinLen``/``MaxLen``/``Ge``/``Le``) the
  error mapper reads back to report *both* bounds of a ``SIZE``/``RANGE`` problem.
* Strings with a minimum length of at least 1 reject whitespace-only values with the custom error type
  ``has_text`` (Weavr's ``HAS_TEXT``); an empty string still fails the length check (``SIZE``).
* Integers carry Weavr's format (``int32`` / ``int64``, :mod:`bulkdash.contract.integers`): a value beyond
  it fails with the custom error type ``int_format`` (a ``400`` naming the field), and a whole number written
  ``100.0`` is taken as ``100``.
* A ``destinationBeneficiary`` object that matches none of its shapes fails with the custom error type
  ``no_shape`` (a constraint, so the item's other problems are reported with it).
* Unknown properties are ignored, optional properties may be ``null`` (treated as absent).
"""

from typing import Annotated, Any, Literal

from annotated_types import MaxLen, MinLen
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field
from pydantic import Tag as UnionTag  # ``Tag`` below is Weavr's tag string
from pydantic_core import PydanticCustomError

from bulkdash.contract.integers import integer
from bulkdash.contract.kinds import OperationKind

# --- building blocks ---------------------------------------------------------------------------------

#: The email check of docs/behaviour.md §3.3 (a pattern, so failures are reported as ``REGEX [pattern]``).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
NUMERIC_ID_PATTERN = r"^[0-9]+$"
TAG_PATTERN = r"^[a-zA-Z0-9_-]+$"
CURRENCY_PATTERN = r"^[A-Z]*$"
#: Transfer and send ``description``.
DESCRIPTION_PATTERN = r"""^[a-zA-Z0-9\/\-?:().$_,'+\s#=!"%&*<>;\{@\r\n]*$"""
#: Faster Payments beneficiary ``name``.
FASTER_PAYMENTS_NAME_PATTERN = r"""^[a-zA-Z0-9\/\-?:().,'+\s#=!"%&*<>;\{@\r\n]*$"""
IBAN_PATTERN = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
SEPA_BIC_PATTERN = r"^[a-zA-Z0-9]{4}[a-zA-Z]{2}[a-zA-Z0-9]{2}[a-zA-Z0-9]{0,3}$"
SWIFT_BIC_PATTERN = r"^[a-zA-Z0-9]{8,11}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _reject_blank(value: Any) -> Any:
    # Runs *before* the string checks so a whitespace-only value is reported as HAS_TEXT rather than as a
    # pattern mismatch; non-strings pass through untouched and fail the strict type check instead.
    if isinstance(value, str) and value and value.isspace():
        raise PydanticCustomError("has_text", "Value must contain non-whitespace text")
    return value


def text(min_length: int | None = None, max_length: int | None = None, pattern: str | None = None) -> Any:
    """A constrained string type: ``text(1, 50)``, ``text(max_length=50, pattern=TAG_PATTERN)``…"""
    meta: list[Any] = []
    if min_length is not None and min_length >= 1:
        meta.append(BeforeValidator(_reject_blank))
    if min_length is not None:
        meta.append(MinLen(min_length))
    if max_length is not None:
        meta.append(MaxLen(max_length))
    if pattern is not None:
        meta.append(Field(pattern=pattern))
    return Annotated[str, *meta] if meta else str


Int64 = integer("int64")
Id = text(pattern=NUMERIC_ID_PATTERN)
ProfileId = Id
UserId = Id
Tag = text(max_length=50, pattern=TAG_PATTERN)
Currency = text(3, 3, CURRENCY_PATTERN)
ScheduledTimestamp = text(pattern=NUMERIC_ID_PATTERN)
Description = text(max_length=255, pattern=DESCRIPTION_PATTERN)
Email = text(pattern=EMAIL_PATTERN)
CountryCode2 = text(2, 2, r"^[A-Z]{2}$")
Nationality = text(2, 2, r"^[A-Z]+$")
Address = text(1, 150)
DateOfBirthText = text(pattern=DATE_PATTERN)
PersonName = text(1, 50)  # user name and surname
BeneficiaryName = text(1, 150)
FasterPaymentsName = text(1, 140, FASTER_PAYMENTS_NAME_PATTERN)
MobileCountryCode = text(1, 4, r"^\+[0-9]+$")
MobileNumber = text(pattern=r"^[0-9]{1,12}$")
CountryOfResidence = text(2, 2, r"^[A-Z]+$")
Locale = text(max_length=5, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
Brand = text(max_length=25, pattern=r"^[a-zA-Z0-9]+$")
Iban = text(15, 34, IBAN_PATTERN)
SepaBic = text(8, 11, SEPA_BIC_PATTERN)
SwiftBic = text(8, 11, SWIFT_BIC_PATTERN)
SwiftAccount = text(1, 34, r"^[a-zA-Z0-9]{1,34}$")
AccountNumber = text(pattern=r"^[0-9]{8}$")
SortCode = text(pattern=r"^[0-9]{6}$")
Purpose = text(max_length=255)
Year = integer("int32", 1900, 2100)
Month = integer("int32", 1, 12)
Day = integer("int32", 1, 31)
InstrumentType = Literal["managed_cards", "managed_accounts"]


class RequestModel(BaseModel):
    """Base of every request body: unknown properties are ignored."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready body with absent optional properties left out."""
        return self.model_dump(mode="json", exclude_none=True)


class InstrumentId(RequestModel):
    id: Id
    type: InstrumentType


class BeneficiaryId(RequestModel):
    beneficiaryId: Id


class CurrencyAmount(RequestModel):
    """``amount`` is in minor units; its sign is checked at run time (``AMOUNT_INVALID``), not here."""

    currency: Currency
    amount: Int64


# --- POST /users (§4.3.1) ----------------------------------------------------------------------------

UserRole = Literal[
    "CARD_ASSIGNEE", "CARDS_MANAGEMENT_ROLE", "FUNDS_MANAGEMENT_ROLE", "ACCESS_MANAGEMENT_ROLE", "ADMIN"
]


class Mobile(RequestModel):
    countryCode: MobileCountryCode
    number: MobileNumber


class Date(RequestModel):
    """A calendar date as three integers; no calendar check (31 February passes)."""

    year: Year
    month: Month
    day: Day


class UserCreate(RequestModel):
    name: PersonName
    surname: PersonName
    email: Email
    mobile: Mobile | None = None
    dateOfBirth: Date | None = None
    tag: Tag | None = None
    countryOfResidence: CountryOfResidence | None = None
    locale: Locale | None = None
    brand: Brand | None = None
    roles: list[UserRole] | None = None


# --- PATCH /managed_cards/{id}/spend_rules (§4.3.4) -------------------------------------------------

SpendLimitInterval = Literal["DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY", "ALWAYS"]


class SpendLimit(RequestModel):
    value: CurrencyAmount
    interval: SpendLimitInterval
    startTimestamp: Int64 | None = None


class RolloverPolicy(RequestModel):
    rolloverNegative: bool


MerchantList = Annotated[list[str], MaxLen(200)]
CountryList = Annotated[list[CountryCode2], MaxLen(50)]
NonNegativeInt64 = integer("int64", ge=0)


class UpdateCardLevelSpendRules(RequestModel):
    """Every field optional; a field that is sent replaces the stored value (``spendLimit`` per method)."""

    allowedMerchantCategories: MerchantList | None = None
    blockedMerchantCategories: MerchantList | None = None
    allowedMerchantIds: MerchantList | None = None
    blockedMerchantIds: MerchantList | None = None
    allowedMerchantCountries: CountryList | None = None
    blockedMerchantCountries: CountryList | None = None
    allowContactless: bool | None = None
    allowAtm: bool | None = None
    allowECommerce: bool | None = None
    allowCashback: bool | None = None
    allowCreditAuthorisations: bool | None = None
    rolloverPolicy: RolloverPolicy | None = None
    spendLimit: list[SpendLimit] | None = None
    minTransactionAmount: NonNegativeInt64 | None = None
    maxTransactionAmount: NonNegativeInt64 | None = None
    updateSpendLimitMethod: Literal["OVERWRITE", "INCREMENT"] | None = None


# --- POST /transfers (§4.3.5) and POST /sends (§4.3.6) ----------------------------------------------


class CreateTransfer(RequestModel):
    profileId: ProfileId
    source: InstrumentId
    destination: InstrumentId
    destinationAmount: CurrencyAmount
    tag: Tag | None = None
    description: Description | None = None
    scheduledTimestamp: ScheduledTimestamp | None = None


def send_destination_shape(value: Any) -> str:
    """``oneOf`` of a send destination: a ``beneficiaryId`` key selects BeneficiaryId, anything else is
    validated as an InstrumentId (so ``{}`` reports the instrument's missing ``id``/``type``)."""
    return "beneficiary" if isinstance(value, dict) and "beneficiaryId" in value else "instrument"


SendDestination = Annotated[
    Annotated[InstrumentId, UnionTag("instrument")] | Annotated[BeneficiaryId, UnionTag("beneficiary")],
    Discriminator(send_destination_shape),
]


class SendCreateRequest(RequestModel):
    profileId: ProfileId
    source: InstrumentId
    destination: SendDestination
    destinationAmount: CurrencyAmount
    tag: Tag | None = None
    description: Description | None = None
    scheduledTimestamp: ScheduledTimestamp | None = None


# --- POST /outgoing_wire_transfers (§4.3.7) ---------------------------------------------------------


class ExternalAccountId(RequestModel):
    type: Literal["linked_accounts"]
    id: Id


# The bank-details shapes list their properties in the published schema's order (errors follow it). Every
# shape also allows the optional address, bankName, bankAddress, bankCountry, nationality and dateOfBirth.


class IbanBeneficiary(RequestModel):
    """``SEPABeneficiary`` and ``RIXBeneficiary`` (identical schemas; the currency picks the rail)."""

    name: BeneficiaryName
    iban: Iban
    bankIdentifierCode: SepaBic | None = None
    address: Address | None = None
    bankName: str | None = None
    bankAddress: Address | None = None
    bankCountry: CountryCode2 | None = None
    nationality: Nationality | None = None
    dateOfBirth: DateOfBirthText | None = None


class SwiftBeneficiary(RequestModel):
    name: BeneficiaryName
    account: SwiftAccount
    bankIdentifierCode: SwiftBic | None = None
    address: Address
    bankName: str | None = None
    bankAddress: Address | None = None
    bankCountry: CountryCode2
    nationality: Nationality | None = None
    dateOfBirth: DateOfBirthText | None = None


class FasterPaymentsBeneficiary(RequestModel):
    name: FasterPaymentsName
    type: Literal["PERSONAL", "BUSINESS"]
    accountNumber: AccountNumber
    sortCode: SortCode
    secondaryReference: str | None = None
    address: Address | None = None
    bankName: str | None = None
    bankAddress: Address | None = None
    bankCountry: CountryCode2 | None = None
    nationality: Nationality | None = None
    dateOfBirth: DateOfBirthText | None = None


class IbanDetails(RequestModel):
    iban: Iban
    bankIdentifierCode: SepaBic | None = None


class FasterPaymentsBankDetails(RequestModel):
    accountNumber: AccountNumber
    sortCode: SortCode
    secondaryReference: str | None = None


def bank_details_shape(value: Any) -> str:
    """Legacy ``bankAccountDetails``: account number or sort code means Faster Payments, else IBAN."""
    if isinstance(value, dict) and ("accountNumber" in value or "sortCode" in value):
        return "fasterPayments"
    return "iban"


BankAccountDetails = Annotated[
    Annotated[IbanDetails, UnionTag("iban")]
    | Annotated[FasterPaymentsBankDetails, UnionTag("fasterPayments")],
    Discriminator(bank_details_shape),
]


class LegacyWireBeneficiary(RequestModel):
    """The deprecated ``OutgoingWireTransferBeneficiary``."""

    name: BeneficiaryName
    type: Literal["PERSONAL", "BUSINESS"] | None = None
    address: Address | None = None
    bankName: str | None = None
    bankAddress: Address | None = None
    bankCountry: CountryCode2 | None = None
    bankAccountDetails: BankAccountDetails
    nationality: Nationality | None = None
    dateOfBirth: DateOfBirthText | None = None


def owt_beneficiary_shape(value: Any) -> str | None:
    """Which ``destinationBeneficiary`` shape a value claims to be, in the order of docs/behaviour.md §4.3.7.

    ``None`` (no shape matches, or not an object) makes validation fail with a type error.
    """
    if not isinstance(value, dict):
        return None
    if "beneficiaryId" in value:
        return "beneficiaryId"
    if value.get("type") == "linked_accounts" and "id" in value:
        return "externalAccount"
    if "bankAccountDetails" in value:
        return "legacy"
    if "accountNumber" in value:
        return "fasterPayments"
    if "account" in value:
        return "swift"
    if "iban" in value:
        return "iban"
    return None


#: What an object needs to be one of the ``destinationBeneficiary`` shapes, in the order they are tried
#: (``id`` with ``"type": "linked_accounts"``): the params of the ``REQUIRES`` problem when it has none.
OWT_SHAPE_KEYS = ("beneficiaryId", "id", "bankAccountDetails", "accountNumber", "account", "iban")
#: pydantic error type of an object that matches no ``destinationBeneficiary`` shape.
NO_SHAPE_ERROR = "no_shape"


def _require_a_shape(value: Any) -> Any:
    # An object matching no shape is a constraint problem like any other (docs/behaviour.md §3.3: every
    # problem at once), not a wrong type: a type error would hide the item's other problems. A value that
    # is not an object at all still reaches the discriminator and stays a wrong type.
    if isinstance(value, dict) and owt_beneficiary_shape(value) is None:
        raise PydanticCustomError(
            NO_SHAPE_ERROR, "No destinationBeneficiary shape matches", {"keys": list(OWT_SHAPE_KEYS)}
        )
    return value


DestinationBeneficiary = Annotated[
    Annotated[BeneficiaryId, UnionTag("beneficiaryId")]
    | Annotated[ExternalAccountId, UnionTag("externalAccount")]
    | Annotated[LegacyWireBeneficiary, UnionTag("legacy")]
    | Annotated[FasterPaymentsBeneficiary, UnionTag("fasterPayments")]
    | Annotated[SwiftBeneficiary, UnionTag("swift")]
    | Annotated[IbanBeneficiary, UnionTag("iban")],
    Discriminator(owt_beneficiary_shape),
    BeforeValidator(_require_a_shape),
]


class SourceAccount(RequestModel):
    type: Literal["managed_accounts"]
    id: Id


class OutgoingWireTransferCreateRequest(RequestModel):
    """``description`` has no schema limit: its rail-specific length and presence are run-time rules."""

    profileId: ProfileId
    sourceInstrument: SourceAccount
    transferAmount: CurrencyAmount
    destinationBeneficiary: DestinationBeneficiary
    tag: Tag | None = None
    purpose: Purpose | None = None
    description: str | None = None
    scheduledTimestamp: ScheduledTimestamp | None = None


#: The request body model of each kind that carries one (the others take no body, docs/behaviour.md A9).
BODY_MODELS: dict[OperationKind, type[RequestModel]] = {
    OperationKind.USERS: UserCreate,
    OperationKind.SPEND_RULES: UpdateCardLevelSpendRules,
    OperationKind.TRANSFERS: CreateTransfer,
    OperationKind.SENDS: SendCreateRequest,
    OperationKind.OWT: OutgoingWireTransferCreateRequest,
}


__all__ = [
    "BODY_MODELS",
    "DESCRIPTION_PATTERN",
    "EMAIL_PATTERN",
    "NO_SHAPE_ERROR",
    "NUMERIC_ID_PATTERN",
    "OWT_SHAPE_KEYS",
    "BeneficiaryId",
    "CreateTransfer",
    "Currency",
    "CurrencyAmount",
    "Date",
    "Description",
    "DestinationBeneficiary",
    "Email",
    "ExternalAccountId",
    "FasterPaymentsBankDetails",
    "FasterPaymentsBeneficiary",
    "IbanBeneficiary",
    "IbanDetails",
    "Id",
    "InstrumentId",
    "InstrumentType",
    "Int64",
    "LegacyWireBeneficiary",
    "Mobile",
    "OutgoingWireTransferCreateRequest",
    "ProfileId",
    "RequestModel",
    "RolloverPolicy",
    "ScheduledTimestamp",
    "SendCreateRequest",
    "SendDestination",
    "SourceAccount",
    "SpendLimit",
    "SpendLimitInterval",
    "SwiftBeneficiary",
    "Tag",
    "UpdateCardLevelSpendRules",
    "UserCreate",
    "UserId",
    "UserRole",
    "bank_details_shape",
    "integer",
    "owt_beneficiary_shape",
    "send_destination_shape",
    "text",
]
