"""The wire contract of Weavr's bulk-process API: pydantic v2 models of every body, written once.

The simulator serialises its responses with these models and the dashboard's client parses server
responses with them. Models that describe what a *server* sends are tolerant: unknown fields are kept
(``extra="allow"``) and enum-typed fields accept unknown strings, so a newer Weavr release never crashes
the client. Properties with no value are left out of the JSON (``dump``), as Weavr does.

Required fields of those response models are exactly what Weavr's published schemas require — for the bulk
bodies (``BulkProcess``, ``BulkProcessDetails``, ``BulkProcessOperation``, the counts, the 201 of a
submission and the progress webhook) that is nothing at all — so every field a reader uses may be ``None``.
The simulator always fills every field, so what it sends is unchanged.

Every model defers building its validator (``defer_build``) to its first use: building all of them took
~35 ms of the dashboard's start-up, and most bodies (the request models of forty operation kinds) are never
used by a session that only watches (issue 16).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bulkdash.contract.integers import integer
from bulkdash.contract.statuses import (  # noqa: F401  (re-exported: the contract's names)
    FINAL_BULK_STATUSES,
    OPERATION_STATUS_ORDER,
    BulkMode,
    BulkStatus,
    ConflictCode,
    OperationStatus,
    SyntaxErrorKind,
)


class WireModel(BaseModel):
    """Base of every server-sent body: keeps unknown fields, never rejects extras."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    def dump(self) -> dict[str, Any]:
        """The JSON-ready dict with unset/None properties left out (Weavr omits, never sends null)."""
        return self.model_dump(mode="json", exclude_none=True)


# Enum-typed fields accept the known enum *or* any string, so an unknown value from a newer server is
# kept as a plain string instead of failing validation.
BulkStatusField = BulkStatus | str
OperationStatusField = OperationStatus | str
BulkModeField = BulkMode | str


class OperationStatusCount(WireModel):
    status: OperationStatusField | None = None
    count: int | None = None


def counts_by_status(entries: list[OperationStatusCount]) -> dict[str, int]:
    """The entries that say both a status and a count, keyed by status (later entries win); the others
    carry nothing a reader can use."""
    return {str(c.status): c.count for c in entries if c.status is not None and c.count is not None}


class BulkProcess(WireModel):
    bulkId: str | None = None
    status: BulkStatusField | None = None
    submittedItemsCount: int | None = None
    operation: str | None = None
    mode: BulkModeField | None = None
    executionStart: int | None = None
    executionFinish: int | None = None


class BulkProcessDetails(BulkProcess):
    operationStatusCounts: list[OperationStatusCount] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Counts keyed by status string, zeros for missing entries."""
        return {
            **{s.value: 0 for s in OPERATION_STATUS_ORDER},
            **counts_by_status(self.operationStatusCounts),
        }


class _Paged(WireModel):
    """A page of a list: ``count`` is the total of the whole list, when the server says it (optional)."""

    count: int = 0
    responseCount: int = 0

    @property
    def total(self) -> int | None:
        """``count`` as sent, or None when the server left it out (then 0 would be a guess)."""
        return self.count if "count" in self.model_fields_set else None


class BulkProcessesPaged(_Paged):
    bulkProcesses: list[BulkProcess] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _accept_snake_case(cls, data: Any) -> Any:
        # An older published reference used ``bulk_processes`` (docs/behaviour.md A32): accept both on the
        # way in.
        if isinstance(data, dict) and "bulkProcesses" not in data and "bulk_processes" in data:
            data = {**data, "bulkProcesses": data["bulk_processes"]}
            del data["bulk_processes"]
        return data


class BulkProcessOperation(WireModel):
    operationId: str | None = None
    sequence: int | None = None
    method: str | None = None
    path: str | None = None
    status: OperationStatusField | None = None
    requestPayload: str | None = None
    responsePayload: str | None = None


class BulkProcessOperationsPaged(_Paged):
    operations: list[BulkProcessOperation] = Field(default_factory=list)


#: int32 in Weavr's spec, at least 1 (docs/behaviour.md §3.8): beyond int32 is a 400 naming the field, never
#: an overflow in the store.
WebhookInterval = integer("int32", ge=1)


class BulkProcessExecute(BaseModel):
    """Request body of ``POST /bulks/{id}/execute``; strict: the simulator validates it."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    # Literal rather than the enum so strict validation of parsed JSON accepts the plain strings.
    mode: Literal["ON_FAILURE_STOP", "ON_FAILURE_CONTINUE"] | None = None
    webhookInterval: WebhookInterval | None = None


class BulkSubmissionItem(BaseModel):
    """One item of a submission array. Bodies are validated per endpoint (``bulkdash.contract.requests``)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    pathParams: dict[str, Any] | None = None
    requestBody: dict[str, Any] | None = None


class BulkSubmissionCreated(WireModel):
    """The 201 of a submission: Weavr's schema requires none of its fields."""

    bulkId: str | None = None
    operationCount: int | None = None
    path: str | None = None


# --- errors -----------------------------------------------------------------------------------------


class InvalidField(WireModel):
    params: list[str] = Field(default_factory=list)
    fieldName: str
    error: SyntaxErrorKind | str


class SyntaxErrors(WireModel):
    invalidFields: list[InvalidField] = Field(default_factory=list)


class BadRequestError(WireModel):
    message: str | None = None
    syntaxErrors: SyntaxErrors | None = None


class ErrorCodeBody(WireModel):
    """409 conflicts and 403 ``INSUFFICIENT_PERMISSIONS``."""

    errorCode: str


class Error(WireModel):
    """The spec's default ``Error`` object (404, 405, 413, 500, 503)."""

    code: str | None = None
    message: str | None = None


# --- login ------------------------------------------------------------------------------------------


class IdentityId(WireModel):
    type: str
    id: str


class CredentialsId(WireModel):
    type: str
    id: str


class Password(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    value: Annotated[str, Field(min_length=1, max_length=100)]


class LoginWithPasswordRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    password: Password


class LoginWithPasswordResponse(WireModel):
    """Not in the published subset (docs/behaviour.md §2.2 shows it): only ``token`` is required, since a
    login answer without one has no meaning; the rest is optional like every other response field."""

    token: str
    tokenType: str = "ACCESS"
    identity: IdentityId | None = None
    credentials: CredentialsId | None = None


class RequestedIdentity(BaseModel):
    """The identity a new token is asked for, checked as Weavr's ``IdentityId`` schema says: a request is
    held to the schema's enum and pattern, while the ``IdentityId`` of an answer requires only the two
    strings (a server may know more identity types than this schema)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    type: Literal["CONSUMER", "CORPORATE"]
    id: Annotated[str, Field(pattern=r"^[0-9]+$")]


class AccessTokenRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    identity: RequestedIdentity


class AccessTokenResponse(WireModel):
    token: str
    identity: IdentityId
    credentials: CredentialsId
    status: str = "STANDARD"


# --- webhooks ---------------------------------------------------------------------------------------


class BulkProcessProgressEvent(WireModel):
    """The bulk webhook's body: Weavr's webhook schema requires none of its fields."""

    bulkId: str | None = None
    status: BulkStatusField | None = None
    submittedItemsCount: int | None = None
    operationStatusCounts: list[OperationStatusCount] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The counts the event carries, keyed by status (only entries with both a status and a count)."""
        return counts_by_status(self.operationStatusCounts)


def status_counts(counts: dict[str, int]) -> list[OperationStatusCount]:
    """The five ``operationStatusCounts`` entries in the fixed order, zeros included."""
    return [OperationStatusCount(status=s, count=int(counts.get(s.value, 0))) for s in OPERATION_STATUS_ORDER]
