"""The wire contract of Weavr's bulk-process API: pydantic v2 models of every body, written once.

The simulator serialises its responses with these models and the dashboard's client parses server
responses with them. Models that describe what a *server* sends are tolerant: unknown fields are kept
(``extra="allow"``) and enum-typed fields accept unknown strings, so a newer Weavr release never crashes
the client. Properties with no value are left out of the JSON (``dump``), as Weavr does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class BulkStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    PARTIALLY_COMPLETED = "PARTIALLY_COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_BULK_STATUSES


FINAL_BULK_STATUSES = frozenset(
    {BulkStatus.COMPLETED, BulkStatus.PARTIALLY_COMPLETED, BulkStatus.FAILED, BulkStatus.CANCELLED}
)


class OperationStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


#: The fixed order of ``operationStatusCounts`` entries (BEHAVIOR A22).
OPERATION_STATUS_ORDER: tuple[OperationStatus, ...] = tuple(OperationStatus)


class BulkMode(StrEnum):
    ON_FAILURE_STOP = "ON_FAILURE_STOP"
    ON_FAILURE_CONTINUE = "ON_FAILURE_CONTINUE"


class ConflictCode(StrEnum):
    VALIDATION_FAILED = "VALIDATION_FAILED"
    USER_VALIDATION_FAILED = "USER_VALIDATION_FAILED"
    ALREADY_SUBMITTED = "ALREADY_SUBMITTED"
    DUPLICATE_OPERATION_TYPE = "DUPLICATE_OPERATION_TYPE"
    NO_CONFIG_FOUND = "NO_CONFIG_FOUND"
    INVALID_STATE = "INVALID_STATE"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"


class SyntaxErrorKind(StrEnum):
    REQUIRED = "REQUIRED"
    HAS_TEXT = "HAS_TEXT"
    REQUIRES = "REQUIRES"
    SIZE = "SIZE"
    RANGE = "RANGE"
    IN = "IN"
    NOT_IN = "NOT_IN"
    REGEX = "REGEX"
    EXACTLY = "EXACTLY"
    AT_LEAST = "AT_LEAST"
    AT_MOST = "AT_MOST"
    ALL_OR_NONE = "ALL_OR_NONE"


class WireModel(BaseModel):
    """Base of every server-sent body: keeps unknown fields, never rejects extras."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        """The JSON-ready dict with unset/None properties left out (Weavr omits, never sends null)."""
        return self.model_dump(mode="json", exclude_none=True)


# Enum-typed fields accept the known enum *or* any string, so an unknown value from a newer server is
# kept as a plain string instead of failing validation.
BulkStatusField = BulkStatus | str
OperationStatusField = OperationStatus | str
BulkModeField = BulkMode | str


class OperationStatusCount(WireModel):
    status: OperationStatusField
    count: int


class BulkProcess(WireModel):
    bulkId: str
    status: BulkStatusField
    submittedItemsCount: int
    operation: str | None = None
    mode: BulkModeField | None = None
    executionStart: int | None = None
    executionFinish: int | None = None


class BulkProcessDetails(BulkProcess):
    operationStatusCounts: list[OperationStatusCount] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Counts keyed by status string, zeros for missing entries."""
        out = {s.value: 0 for s in OPERATION_STATUS_ORDER}
        for c in self.operationStatusCounts:
            out[str(c.status)] = c.count
        return out


class BulkProcessesPaged(WireModel):
    count: int = 0
    responseCount: int = 0
    bulkProcesses: list[BulkProcess] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _accept_snake_case(cls, data: Any) -> Any:
        # An older published reference used ``bulk_processes`` (BEHAVIOR A32): accept both on the way in.
        if isinstance(data, dict) and "bulkProcesses" not in data and "bulk_processes" in data:
            data = {**data, "bulkProcesses": data["bulk_processes"]}
            del data["bulk_processes"]
        return data


class BulkProcessOperation(WireModel):
    operationId: str
    sequence: int
    method: str
    path: str
    status: OperationStatusField
    requestPayload: str | None = None
    responsePayload: str | None = None


class BulkProcessOperationsPaged(WireModel):
    count: int = 0
    responseCount: int = 0
    operations: list[BulkProcessOperation] = Field(default_factory=list)


class BulkProcessExecute(BaseModel):
    """Request body of ``POST /bulks/{id}/execute``; strict: the simulator validates it."""

    model_config = ConfigDict(extra="ignore")

    # Literal rather than the enum so strict validation of parsed JSON accepts the plain strings.
    mode: Literal["ON_FAILURE_STOP", "ON_FAILURE_CONTINUE"] | None = None
    webhookInterval: Annotated[int, Field(ge=1)] | None = None


class BulkSubmissionItem(BaseModel):
    """One item of a submission array. Bodies are validated per endpoint (``bulkdash.contract.requests``)."""

    model_config = ConfigDict(extra="ignore")

    pathParams: dict[str, Any] | None = None
    requestBody: dict[str, Any] | None = None


class BulkSubmissionCreated(WireModel):
    bulkId: str
    operationCount: int
    path: str


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
    model_config = ConfigDict(extra="ignore")
    value: Annotated[str, Field(min_length=1, max_length=100)]


class LoginWithPasswordRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    password: Password


class LoginWithPasswordResponse(WireModel):
    token: str
    tokenType: str = "ACCESS"
    identity: IdentityId
    credentials: CredentialsId


class AccessTokenRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    identity: IdentityId


class AccessTokenResponse(WireModel):
    token: str
    identity: IdentityId
    credentials: CredentialsId
    status: str = "STANDARD"


# --- webhooks ---------------------------------------------------------------------------------------


class BulkProcessProgressEvent(WireModel):
    bulkId: str
    status: BulkStatusField
    submittedItemsCount: int
    operationStatusCounts: list[OperationStatusCount] = Field(default_factory=list)


def status_counts(counts: dict[str, int]) -> list[OperationStatusCount]:
    """The five ``operationStatusCounts`` entries in the fixed order, zeros included."""
    return [OperationStatusCount(status=s, count=int(counts.get(s.value, 0))) for s in OPERATION_STATUS_ORDER]
