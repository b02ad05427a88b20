"""The plain enums of the wire contract — bulk and operation statuses, modes, error codes — with no pydantic:
what the dashboard's first screen and its key checks need, importable before the models are
(``bulkdash.contract.models`` re-exports every name here). Issue 16: the first screen is painted before
pydantic and the models are imported.
"""

from __future__ import annotations

from enum import StrEnum


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


#: The fixed order of ``operationStatusCounts`` entries (docs/behaviour.md A22).
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
