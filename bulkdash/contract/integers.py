"""Integers on the wire: Weavr's ``int32`` / ``int64`` formats, checked where a request enters, and whole
numbers written ``100.0``.

Every integer a request carries is stored or compared somewhere (SQLite holds 64 bits, Weavr's Java side
``int`` or ``long`` as its OpenAPI file says), so each one is range-checked against its format at the edge:
beyond it is a ``400`` with ``syntaxErrors`` naming the field (``AT_MOST`` / ``AT_LEAST`` and the format's
bound), like any other constraint, instead of an overflow deep in the store (docs/behaviour.md §3.3).

JSON Schema counts ``100.0`` as an integer, so wherever an integer is expected a float with no fractional
part is taken as that integer; ``100.5`` stays a wrong type. Shared by request bodies (pydantic, through
:func:`integer`) and query parameters (:func:`format_violation`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

IntFormat = Literal["int32", "int64"]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT_FORMATS: dict[str, tuple[int, int]] = {"int32": (INT32_MIN, INT32_MAX), "int64": (INT64_MIN, INT64_MAX)}

#: pydantic error type of an integer outside its format; its ctx holds Weavr's ``error`` and ``bound``.
FORMAT_ERROR = "int_format"
#: Set to True in a validation ``context`` dict when some whole-number float was taken as an integer.
WHOLE_NUMBERS_SEEN = "whole_numbers_seen"


def format_violation(value: int, fmt: IntFormat) -> tuple[str, str] | None:
    """``("AT_MOST", max)`` / ``("AT_LEAST", min)`` when ``value`` does not fit ``fmt``, else None.

    Only the broken bound is named: ``RANGE [min, max]`` would suggest that, say, a negative
    ``webhookInterval`` is fine, where the field's own minimum says otherwise.
    """
    low, high = INT_FORMATS[fmt]
    if value > high:
        return "AT_MOST", str(high)
    if value < low:
        return "AT_LEAST", str(low)
    return None


def whole_number(value: Any) -> Any:
    """``100.0`` → ``100``; anything else unchanged, so ``100.5``, ``"100"`` and ``true`` still fail the
    strict integer check. ``inf`` and ``nan`` are not integral (and ``loads_bounded`` refuses them)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _format_check(fmt: IntFormat) -> Callable[[int], int]:
    def check(value: int) -> int:
        violation = format_violation(value, fmt)
        if violation is not None:
            error, bound = violation
            raise PydanticCustomError(
                FORMAT_ERROR, "Value does not fit {format}", {"format": fmt, "error": error, "bound": bound}
            )
        return value

    return check


def _whole_number_noted(value: Any, info: ValidationInfo) -> Any:
    # Validating a submission keeps each body as sent; the context tells it which bodies need their
    # 100.0s written back as 100 (bulkdash/contract/validation.py), so the others cost no walk.
    converted = whole_number(value)
    if converted is not value and isinstance(info.context, dict):
        info.context[WHOLE_NUMBERS_SEEN] = True
    return converted


_FORMAT_CHECKS = {fmt: AfterValidator(_format_check(fmt)) for fmt in ("int32", "int64")}
_WHOLE_NUMBER = BeforeValidator(_whole_number_noted)


def integer(fmt: IntFormat, ge: int | None = None, le: int | None = None) -> Any:
    """An integer field of Weavr's ``fmt`` with the schema's own bounds, for strict validation.

    The declared bounds are checked first (``AT_LEAST ["1"]`` for a ``webhookInterval`` of 0, as the spec
    says), the format only for what they let through; the whole-number conversion runs before both.
    """
    meta: list[Any] = []
    if ge is not None:
        meta.append(Ge(ge))
    if le is not None:
        meta.append(Le(le))
    # Order matters: pydantic wraps later metadata around earlier, so the BeforeValidator (last) runs first.
    meta += [_FORMAT_CHECKS[fmt], _WHOLE_NUMBER]
    return Annotated[int, *meta]


__all__ = [
    "FORMAT_ERROR",
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "INT_FORMATS",
    "WHOLE_NUMBERS_SEEN",
    "IntFormat",
    "format_violation",
    "integer",
    "whole_number",
]
