"""Request validation with Weavr's 400 bodies (docs/behaviour.md §3.3) and the submission checks of §4.1.

``validate_model`` validates one body against a :mod:`bulkdash.contract.requests` model and turns pydantic's
errors into ``invalidFields`` entries; ``validate_submission`` runs §4.1 step 1 over a whole bulk array,
collecting every problem of every item; ``cross_item_conflict`` is §4.1 step 4.

Mapping of pydantic errors (first matching line wins):

* ``missing``, or any error whose input is ``null``          → ``REQUIRED []``
* ``has_text`` (whitespace-only, see requests.py)           → ``HAS_TEXT []``
* string or list length out of bounds                       → ``SIZE [min, max]`` (no bound: "0"/"2147483647")
* number out of bounds, field has both bounds               → ``RANGE [min, max]``
* number out of bounds, only a lower / only an upper bound  → ``AT_LEAST [min]`` / ``AT_MOST [max]``
* literal / enum mismatch                                   → ``IN [allowed...]``
* pattern mismatch                                          → ``REGEX [pattern]``
* integer beyond its int32/int64 format (``int_format``)     → ``AT_MOST [max]`` / ``AT_LEAST [min]``
* wire-transfer beneficiary object of no shape (``no_shape``) → ``REQUIRES [the keys that pick a shape]``
* anything else (wrong JSON type, a non-object where a ``oneOf`` object goes) → ``400 {"message": "Invalid
  type for field <fieldName>"}`` without ``syntaxErrors``; the first such error wins over every constraint
  error.

pydantic reports only the bound that was broken, so the other bound is read back from the field's metadata by
walking the model along the error's ``loc`` (:func:`_resolve`), which also renders the Weavr ``fieldName``.

A whole number written ``100.0`` where an integer goes is valid (:mod:`bulkdash.contract.integers`); a
submission item keeps its body as sent except that such numbers are written back as integers, so the
operations and the stored ``requestPayload`` only ever see integers there.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from bulkdash.contract.integers import FORMAT_ERROR
from bulkdash.contract.kinds import UNIQUE_TARGET_KINDS, KindSpec, OperationKind
from bulkdash.contract.models import (
    BadRequestError,
    ConflictCode,
    InvalidField,
    SyntaxErrorKind,
    SyntaxErrors,
)
from bulkdash.contract.requests import BODY_MODELS, NO_SHAPE_ERROR, NUMERIC_ID_PATTERN

MAX_INVALID_FIELDS = 100
MAX_ITEMS = 10_000
#: How an absent upper bound is written in ``SIZE`` params (Java's ``Integer.MAX_VALUE``).
NO_MAX = "2147483647"
VALIDATION_FAILED_MESSAGE = "Validation failed"
NOT_AN_ARRAY_MESSAGE = "Request body must be a JSON array"
NOT_AN_OBJECT_MESSAGE = "Request body must be a JSON object"

_SIZE_ERRORS = frozenset({"string_too_short", "string_too_long", "too_short", "too_long"})
_NUMBER_BOUND_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})
_IN_ERRORS = frozenset({"literal_error", "enum"})
#: Error types that are constraint violations (everything else with a non-null input is a wrong type).
_CONSTRAINT_ERRORS = (
    _SIZE_ERRORS
    | _NUMBER_BOUND_ERRORS
    | _IN_ERRORS
    | {"missing", "has_text", "string_pattern_mismatch", FORMAT_ERROR, NO_SHAPE_ERROR}
)
_UNION_ORIGINS = (typing.Union, types.UnionType)

M = TypeVar("M", bound=BaseModel)


class RequestInvalid(Exception):
    """A request failed validation; ``body`` is the 400 response body (status is always 400)."""

    status = 400

    def __init__(self, body: BadRequestError) -> None:
        super().__init__(body.message or "Bad request")
        self.body = body


# --- building 400 bodies -----------------------------------------------------------------------------


def invalid_field(error: SyntaxErrorKind, field_name: str, params: list[str] | None = None) -> InvalidField:
    return InvalidField(params=params or [], fieldName=field_name, error=error)


def validation_failed(fields: list[InvalidField]) -> BadRequestError:
    """The 400 body listing constraint problems (at most 100 of them)."""
    return BadRequestError(
        message=VALIDATION_FAILED_MESSAGE,
        syntaxErrors=SyntaxErrors(invalidFields=fields[:MAX_INVALID_FIELDS]),
    )


def type_error(field_name: str) -> BadRequestError:
    """The 400 body for a value of the wrong JSON type (no ``syntaxErrors``)."""
    if not field_name:
        # The whole body has the wrong type; "Invalid type for field " would name nothing.
        return BadRequestError(message=NOT_AN_OBJECT_MESSAGE)
    return BadRequestError(message=f"Invalid type for field {field_name}")


# --- walking a model along an error location ---------------------------------------------------------


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` and ``X | None`` layers, returning the core type and all metadata seen."""
    meta: list[Any] = []
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            args = get_args(tp)
            tp = args[0]
            for m in args[1:]:
                # ``Field(...)`` inside Annotated keeps its constraints in its own metadata list.
                meta.extend(m.metadata if isinstance(m, FieldInfo) else (m,))
        elif origin in _UNION_ORIGINS:
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp, meta  # a real (tagged) union: the next loc item names the member
            tp = members[0]
        else:
            return tp, meta


def _union_member(union: Any, tag: str) -> Any:
    for member in get_args(union):
        if get_origin(member) is Annotated:
            for m in get_args(member)[1:]:
                if getattr(m, "tag", None) == tag:
                    return member
    return Any


def _field_type(model: type[BaseModel], name: str) -> Any:
    field = model.model_fields.get(name)
    if field is None:
        return Any
    # pydantic moves a field's top-level Annotated metadata into FieldInfo.metadata: put it back.
    return Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation


def _resolve(root: Any, loc: tuple[int | str, ...], prefix: str) -> tuple[str, Any, list[Any]]:
    """Walk ``root`` along ``loc``: the Weavr ``fieldName``, the field's core type and its metadata."""
    name = prefix
    tp: Any = root
    for item in loc:
        tp, _ = _unwrap(tp)
        if isinstance(item, int):
            name += f"[{item}]"
            args = get_args(tp)
            tp = args[0] if args else Any
        elif get_origin(tp) in _UNION_ORIGINS:
            tp = _union_member(tp, item)  # a discriminator tag: part of pydantic's loc, not of the JSON path
        else:
            name = f"{name}.{item}" if name else item
            tp = _field_type(tp, item) if isinstance(tp, type) and issubclass(tp, BaseModel) else Any
    tp, meta = _unwrap(tp)
    return name, tp, meta


def _bounds(meta: list[Any], low_attr: str, high_attr: str) -> tuple[Any, Any]:
    """The lower and upper bound declared in ``meta`` (annotated_types ``MinLen``/``Ge``… or alike)."""
    low = high = None
    for m in meta:
        # Some metadata carry both attributes with None for the unset one (StringConstraints, Interval).
        if getattr(m, low_attr, None) is not None:
            low = getattr(m, low_attr)
        if getattr(m, high_attr, None) is not None:
            high = getattr(m, high_attr)
    return low, high


def _allowed_values(tp: Any, ctx: dict[str, Any]) -> list[str]:
    if get_origin(tp) is Literal:
        return [str(v) for v in get_args(tp)]
    if isinstance(tp, type) and hasattr(tp, "__members__"):
        return [str(m.value) for m in tp]  # an Enum class
    # Fallback when the walk could not find the type: pydantic's "'A', 'B' or 'C'" text.
    expected = str(ctx.get("expected", ""))
    return [p.strip().strip("'") for p in expected.replace(" or ", ", ").split(",") if p.strip()]


def map_error(root: Any, err: Any, prefix: str = "") -> InvalidField | str:
    """One pydantic error as an ``InvalidField``, or the ``fieldName`` (a str) of a type error."""
    etype: str = err["type"]
    name, tp, meta = _resolve(root, err["loc"], prefix)
    if etype == "missing" or err.get("input", 0) is None:
        return invalid_field(SyntaxErrorKind.REQUIRED, name)
    if etype == "has_text":
        return invalid_field(SyntaxErrorKind.HAS_TEXT, name)
    ctx = err.get("ctx") or {}
    if etype in _SIZE_ERRORS:
        low, high = _bounds(meta, "min_length", "max_length")
        params = [str(low or 0), NO_MAX if high is None else str(high)]
        return invalid_field(SyntaxErrorKind.SIZE, name, params)
    if etype in _NUMBER_BOUND_ERRORS:
        low, high = _bounds(meta, "ge", "le")
        if low is not None and high is not None:
            return invalid_field(SyntaxErrorKind.RANGE, name, [str(low), str(high)])
        if low is not None:
            return invalid_field(SyntaxErrorKind.AT_LEAST, name, [str(low)])
        if high is not None:
            return invalid_field(SyntaxErrorKind.AT_MOST, name, [str(high)])
        bound = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
        kind = SyntaxErrorKind.AT_LEAST if etype.startswith("greater") else SyntaxErrorKind.AT_MOST
        return invalid_field(kind, name, [str(bound)])
    if etype in _IN_ERRORS:
        return invalid_field(SyntaxErrorKind.IN, name, _allowed_values(tp, ctx))
    if etype == "string_pattern_mismatch":
        return invalid_field(SyntaxErrorKind.REGEX, name, [str(ctx.get("pattern", ""))])
    if etype == FORMAT_ERROR:
        return invalid_field(SyntaxErrorKind(ctx["error"]), name, [str(ctx["bound"])])
    if etype == NO_SHAPE_ERROR:
        return invalid_field(SyntaxErrorKind.REQUIRES, name, [str(k) for k in ctx["keys"]])
    return name


class _Collector:
    """Accumulates ``invalidFields`` entries; the first type error aborts with its own body."""

    __slots__ = ("fields",)

    def __init__(self) -> None:
        self.fields: list[InvalidField] = []

    def add(self, field: InvalidField) -> None:
        # Entries past the cap are dropped, but validation goes on: a later type error still wins.
        if len(self.fields) < MAX_INVALID_FIELDS:
            self.fields.append(field)

    def add_pydantic(self, root: Any, errors: list[Any], prefix: str) -> None:
        # Classify cheaply first: walking the model for a fieldName is only worth it for errors that will be
        # reported (a type error, or entries below the cap); a 10,000-item bulk full of errors stays fast.
        for err in errors:
            if err["type"] not in _CONSTRAINT_ERRORS and err.get("input", 0) is not None:
                name = map_error(root, err, prefix)
                raise RequestInvalid(type_error(name if isinstance(name, str) else name.fieldName))
        for err in errors:
            if len(self.fields) >= MAX_INVALID_FIELDS:
                return
            entry = map_error(root, err, prefix)
            if isinstance(entry, InvalidField):
                self.add(entry)

    def raise_if_any(self) -> None:
        if self.fields:
            raise RequestInvalid(validation_failed(self.fields))


def validate_model(model_cls: type[M], data: Any, field_prefix: str = "") -> M:
    """Validate a JSON-parsed body strictly against ``model_cls``, or raise :class:`RequestInvalid`."""
    try:
        return model_cls.model_validate(data, strict=True)
    except ValidationError as exc:
        collector = _Collector()
        collector.add_pydantic(model_cls, exc.errors(include_url=False), field_prefix)
        collector.raise_if_any()
        raise  # unreachable: a ValidationError always carries at least one error


# --- bulk submissions (§4.1) -------------------------------------------------------------------------


@dataclass(slots=True)
class ValidItem:
    """One validated submission item: its path parameters and its request body exactly as sent."""

    path_params: dict[str, str]
    body: dict[str, Any] | None


def _write_back_integers(parsed: BaseModel, sent: dict[str, Any]) -> None:
    """Put the integers pydantic made of whole-number floats (``100.0`` → ``100``) back into the body as
    sent, following the validated model, so unknown properties and everything else stay untouched."""
    for name in type(parsed).model_fields:
        if name in sent:
            sent[name] = _integral_like(getattr(parsed, name), sent[name])


def _integral_like(value: Any, sent: Any) -> Any:
    if type(sent) is float and type(value) is int:
        return value
    if isinstance(value, BaseModel) and type(sent) is dict:
        _write_back_integers(value, sent)
    elif type(value) is list and type(sent) is list:
        sent[:] = [_integral_like(v, s) for v, s in zip(value, sent, strict=True)]
    return sent


def _is_numeric_id(value: str) -> bool:
    # ``^[0-9]+$`` without the regex engine (and without re's "$ matches before a final newline").
    return value.isascii() and value.isdigit()


def validate_submission(spec: KindSpec, payload: Any) -> list[ValidItem]:
    """§4.1 step 1 for a bulk array: every item's path parameters and body, all problems at once."""
    if not isinstance(payload, list):
        raise RequestInvalid(BadRequestError(message=NOT_AN_ARRAY_MESSAGE))
    if not 1 <= len(payload) <= MAX_ITEMS:
        raise RequestInvalid(
            validation_failed([invalid_field(SyntaxErrorKind.SIZE, "", ["1", str(MAX_ITEMS)])])
        )
    model = BODY_MODELS.get(spec.kind) if spec.body_required else None
    # Calling the compiled validator directly skips model_validate's per-call Python overhead.
    validator = model.__pydantic_validator__ if model is not None else None
    key = spec.path_param
    collector = _Collector()
    items: list[ValidItem] = []
    append = items.append
    seen: dict[str, bool] = {}  # the validators note any whole-number float here (contract/integers.py)
    for i, item in enumerate(payload):
        if type(item) is not dict:
            raise RequestInvalid(type_error(f"[{i}]"))
        path_params: dict[str, str] = {}
        raw_params = item.get("pathParams")
        if raw_params is not None and type(raw_params) is not dict:
            raise RequestInvalid(type_error(f"[{i}].pathParams"))
        if key is not None:
            value = raw_params.get(key) if raw_params is not None else None
            if raw_params is None:
                collector.add(invalid_field(SyntaxErrorKind.REQUIRED, f"[{i}].pathParams"))
            elif value is None:
                collector.add(invalid_field(SyntaxErrorKind.REQUIRED, f"[{i}].pathParams.{key}"))
            elif type(value) is not str:
                raise RequestInvalid(type_error(f"[{i}].pathParams.{key}"))
            elif not _is_numeric_id(value):
                collector.add(
                    invalid_field(SyntaxErrorKind.REGEX, f"[{i}].pathParams.{key}", [NUMERIC_ID_PATTERN])
                )
            else:
                path_params = {key: value}
        body = None
        if validator is not None:
            body = item.get("requestBody")
            if body is None:
                collector.add(invalid_field(SyntaxErrorKind.REQUIRED, f"[{i}].requestBody"))
            else:
                seen.clear()
                try:
                    parsed = validator.validate_python(body, strict=True, context=seen)
                except ValidationError as exc:
                    collector.add_pydantic(model, exc.errors(include_url=False), f"[{i}].requestBody")
                else:
                    if seen:
                        _write_back_integers(parsed, body)
        append(ValidItem(path_params, body))
    collector.raise_if_any()
    return items


def cross_item_conflict(spec: KindSpec, items: list[ValidItem]) -> str | None:
    """§4.1 step 4: the 409 ``errorCode`` for duplicates across items, or ``None``."""
    if spec.kind in UNIQUE_TARGET_KINDS and spec.path_param is not None:
        targets = [item.path_params[spec.path_param] for item in items]
        if len(set(targets)) != len(targets):
            return ConflictCode.VALIDATION_FAILED.value
    elif spec.kind is OperationKind.USERS:
        emails = [str(item.body["email"]).lower() for item in items if item.body is not None]
        if len(set(emails)) != len(emails):
            return ConflictCode.USER_VALIDATION_FAILED.value
    return None


__all__ = [
    "MAX_INVALID_FIELDS",
    "RequestInvalid",
    "ValidItem",
    "cross_item_conflict",
    "invalid_field",
    "map_error",
    "type_error",
    "validate_model",
    "validate_submission",
    "validation_failed",
]
