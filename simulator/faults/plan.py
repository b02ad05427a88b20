"""Fault plans as data: the pydantic models, TOML loading, and error messages that name the field.

A plan says what goes wrong and when, for one identity (``identity = "1001"``) or for every identity (no
``identity``). It is plain data — set at runtime through ``PUT /_sim/faults`` (JSON) or at start with
``bulkdash-sim serve --faults FILE`` (TOML) — and fully deterministic for its ``seed``: every random choice
the fault layers make comes from ``random.Random`` seeded with (plan seed, purpose, key), see
:func:`derive_rng`. Example::

    seed = 42
    identity = "1001"                      # leave out: the plan applies to every identity

    [speed]                                # simulator-wide while the plan is active
    op_delay_ms = 20
    webhook_retry_scale = 0.002            # Weavr's 10 s … 3.6 h retry ladder in ~31 s

    [[operations]]                         # first matching rule wins
    fraction = 0.2                         # round(0.2 × N) sequences, chosen by the seed
    outcome = "conflict"
    error_code = "FUNDS_INSUFFICIENT"

    [[operations]]
    match = { amount_above = 50000 }
    outcome = "slow"
    latency_ms = 400

    [api]
    errors = [{ endpoints = ["GET /bulks/{bulk_id}"], rate = 0.25, status = 503 }]
    throttle = { capacity = 5, refill_per_s = 2 }
    latency = { distribution = "uniform", min_ms = 5, max_ms = 40 }
    maintenance = [{ start_s = 10, duration_s = 5 }]

    [webhooks]
    outages = [{ start_s = 0, duration_s = 1.5 }]
    duplicates = { events = [1] }
    out_of_order = { paths = ["/bulk_process_end/watch"], events = [2] }

Every model forbids unknown keys, so a typo is an error naming the key rather than a silently ignored rule.
"""

from __future__ import annotations

import json
import random
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.models import SyntaxErrorKind

# --- the 409 errorCodes each single endpoint can return (docs/behaviour.md §4.3) ---------------------

_MONEY_RULES = (
    "SOURCE_INSTRUMENT_DESTROYED",
    "DESTINATION_INSTRUMENT_DESTROYED",
    "SOURCE_INSTRUMENT_BLOCKED",
    "DESTINATION_INSTRUMENT_BLOCKED",
    "SOURCE_CANNOT_BE_DEBIT_MODE_CARD",
    "DESTINATION_CANNOT_BE_DEBIT_MODE_CARD",
    "CURRENCY_MISMATCH",
    "AMOUNT_INVALID",
    "SCHEDULED_TIMESTAMP_INVALID",
    "FUNDS_INSUFFICIENT",
)
_CARD_CODES = (
    "INSTRUMENT_MARKED_LOST_STOLEN",
    "INSTRUMENT_DESTROYED",
    "INSTRUMENT_ALREADY_BLOCKED",
    "INSTRUMENT_NOT_BLOCKED",
    "INSTRUMENT_ALREADY_REMOVED",
    "BALANCE_NOT_ZERO",
)
#: Realistic Weavr ``errorCode`` values per kind: a plan may only inject a code the endpoint can return,
#: so a trainee never meets a conflict that the real API could not produce (and typos are caught).
ERROR_CODES: dict[OperationKind, frozenset[str]] = {
    OperationKind.USERS: frozenset(
        {
            "EMAIL_DOMAIN_NOT_ALLOWED",
            "EMAIL_NOT_UNIQUE",
            "MOBILE_OR_COUNTRY_CODE_INVALID",
            "COUNTRY_OF_RESIDENCE_INVALID",
            "ROLE_NOT_FOUND",
        }
    ),
    OperationKind.USER_INVITE: frozenset({"INVITE_ALREADY_CONSUMED"}),
    OperationKind.CARD_BLOCK: frozenset(_CARD_CODES),
    OperationKind.CARD_UNBLOCK: frozenset(_CARD_CODES),
    OperationKind.CARD_REMOVE: frozenset(_CARD_CODES),
    OperationKind.SPEND_RULES: frozenset(
        {
            "SPEND_LIMIT_NOT_SUPPORTED_FOR_PREPAID_MODE_CARD",
            "SPEND_LIMIT_CURRENCY_DIFFERENT_FROM_CARD_CURRENCY",
            "SPEND_LIMIT_DUPLICATE_INTERVAL",
            "SPEND_LIMIT_AMOUNT_INVALID",
        }
    ),
    OperationKind.TRANSFERS: frozenset(
        {
            "PROFILE_INACTIVE",
            "SOURCE_NOT_FOUND",
            "DESTINATION_NOT_FOUND",
            "SOURCE_AND_DESTINATION_MUST_BE_DIFFERENT",
            *_MONEY_RULES,
        }
    ),
    OperationKind.SENDS: frozenset(
        {
            "PROFILE_NOT_FOUND",
            "PROFILE_INACTIVE",
            "SOURCE_NOT_FOUND",
            "BENEFICIARY_NOT_FOUND",
            "BENEFICIARY_TYPE_INVALID",
            "DESTINATION_NOT_FOUND",
            "DESTINATION_BELONGS_TO_SAME_IDENTITY",
            *_MONEY_RULES,
        }
    ),
    OperationKind.OWT: frozenset(
        {
            "PROFILE_NOT_FOUND",
            "PROFILE_INACTIVE",
            "SOURCE_NOT_FOUND",
            "SOURCE_INSTRUMENT_DESTROYED",
            "SOURCE_INSTRUMENT_BLOCKED",
            "BENEFICIARY_NOT_FOUND",
            "BENEFICIARY_TYPE_INVALID",
            "EXTERNAL_DESTINATION_ACCOUNT_NOT_FOUND",
            "CURRENCY_MISMATCH",
            "TYPE_NOT_SUPPORTED_BY_PROFILE",
            "PURPOSE_OF_PAYMENT_REQUIRED",
            "AMOUNT_INVALID",
            "SCHEDULED_TIMESTAMP_INVALID",
            "FUNDS_INSUFFICIENT",
        }
    ),
}

#: The Multi API endpoints a plan's API faults may name ("METHOD /path" under /multi, brace templates).
KNOWN_ENDPOINTS: tuple[str, ...] = (
    "POST /login_with_password",
    "POST /logout",
    "POST /access_token",
    "GET /bulks",
    *(f"{spec.method} {spec.bulk_path}" for spec in KINDS.values()),
    "GET /bulks/{bulk_id}",
    "GET /bulks/{bulk_id}/operations",
    "POST /bulks/{bulk_id}/execute",
    "POST /bulks/{bulk_id}/pause",
    "POST /bulks/{bulk_id}/resume",
    "POST /bulks/{bulk_id}/cancel",
)


def endpoint_regex(pattern: str) -> re.Pattern[str]:
    """``"GET /bulks/{bulk_id}"`` → a regex over ``"GET /bulks/123"``; ``*`` is any method or any rest of the
    path, ``{name}`` one path segment."""
    method, _, path = pattern.strip().partition(" ")
    method_re = r"[A-Z]+" if method == "*" else re.escape(method.upper())
    parts = []
    for segment in re.split(r"(\{[^}/]*\}|\*)", path):
        if segment == "*":
            parts.append(r".*")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(r"[^/]+")
        else:
            parts.append(re.escape(segment))
    return re.compile(rf"^{method_re} {''.join(parts) or '.*'}$")


def _template_sample(endpoint: str) -> str:
    """A concrete request line for a known endpoint template, to test a plan's patterns against."""
    return re.sub(r"\{[^}]*\}", "1", endpoint)


def _check_endpoints(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        if pattern.strip() == "*":
            continue
        method, sep, path = pattern.strip().partition(" ")
        if not sep or not path.startswith("/") or not (method == "*" or method.isalpha()):
            raise ValueError(
                f"{pattern!r} must look like 'GET /bulks/{{bulk_id}}' (method or *, a space, a path)"
            )
        rx = endpoint_regex(pattern)
        if not any(rx.match(_template_sample(e)) for e in KNOWN_ENDPOINTS):
            raise ValueError(
                f"{pattern!r} matches no Multi API endpoint; known endpoints: " + ", ".join(KNOWN_ENDPOINTS)
            )
    return patterns


# --- the models --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    # Unknown keys are errors (a misspelt selector must not silently widen a rule to every operation).
    # Validators are built on first use: plans are rare, and building them took ~11 ms of each start.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Speed(_Strict):
    """Simulator-wide pace while the plan is active (restored when it is cleared)."""

    op_delay_ms: Annotated[int, Field(ge=0, le=600_000)] | None = None
    #: Multiplies Weavr's retry delays (10 s × 6ⁿ): 0.002 plays the ~4.3 h ladder in ~31 s.
    webhook_retry_scale: Annotated[float, Field(ge=0, le=1000)] | None = None


class InvalidFieldSpec(_Strict):
    """One ``invalidFields`` entry of an injected 400 (docs/behaviour.md §3.3)."""

    field_name: str
    error: SyntaxErrorKind
    params: list[str] = Field(default_factory=list)


class RequestMatch(_Strict):
    """Matches on the operation's request: every given condition must hold."""

    amount_above: int | None = None  # destinationAmount.amount / transferAmount.amount > X
    amount_below: int | None = None
    currency: str | None = None
    source_id: str | None = None  # source.id / sourceInstrument.id
    destination_id: str | None = None  # destination.id, beneficiaryId, or a linked account id
    tag: str | None = None
    target_id: str | None = None  # the path parameter: card id or user id
    email_domain: str | None = None  # users
    #: Any other field by dotted path (``"destinationAmount.currency" = "GBP"``), compared for equality.
    fields: dict[str, str | int | float | bool] = Field(default_factory=dict)


OpOutcome = Literal["conflict", "bad_request", "internal_error", "unavailable", "slow"]


class OperationRule(_Strict):
    """Which operations fail (or slow down), and how.

    Selection: ``sequence``/``sequences``/``range`` (inclusive) are unioned; without any of them every
    sequence is a candidate. ``fraction`` then keeps round(fraction × candidates) of them, chosen by the
    plan seed (the same sequences for every bulk of that size). ``kinds`` and ``match`` filter further.
    """

    kinds: list[OperationKind] | None = None
    sequence: Annotated[int, Field(ge=1)] | None = None
    sequences: list[Annotated[int, Field(ge=1)]] | None = None
    range: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] | None = None
    fraction: Annotated[float, Field(gt=0, le=1)] | None = None
    match: RequestMatch | None = None

    outcome: OpOutcome
    error_code: str | None = None  # conflict: a realistic Weavr errorCode of the kind
    invalid_fields: list[InvalidFieldSpec] | None = None  # bad_request
    message: str | None = None  # bad_request
    #: Extra time the operation spends RUNNING (required for "slow"; allowed on the failures too).
    latency_ms: Annotated[int, Field(ge=0, le=600_000)] = 0

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(f"range [{value[0]}, {value[1]}] must go from low to high")
        return value

    @model_validator(mode="after")
    def _outcome_fields(self) -> Self:
        if self.outcome == "conflict":
            if not self.error_code:
                raise ValueError("error_code is required when outcome is 'conflict'")
            kinds = self.kinds or list(ERROR_CODES)
            allowed = frozenset().union(*(ERROR_CODES[k] for k in kinds))
            if self.error_code not in allowed:
                names = ", ".join(k.value for k in kinds) if self.kinds else "any operation kind"
                raise ValueError(
                    f"error_code {self.error_code!r} is not a 409 errorCode of {names}; "
                    f"choose one of: {', '.join(sorted(allowed))}"
                )
        elif self.error_code is not None:
            raise ValueError("error_code only applies when outcome is 'conflict'")
        if self.outcome != "bad_request" and (self.invalid_fields is not None or self.message is not None):
            raise ValueError("invalid_fields and message only apply when outcome is 'bad_request'")
        if self.outcome == "slow" and self.latency_ms <= 0:
            raise ValueError("latency_ms must be above 0 when outcome is 'slow'")
        return self


class Window(_Strict):
    """A time window in seconds after the plan was set."""

    start_s: Annotated[float, Field(ge=0)] = 0
    duration_s: Annotated[float, Field(gt=0)]

    def contains(self, elapsed_s: float) -> bool:
        return self.start_s <= elapsed_s < self.start_s + self.duration_s


class _OnEndpoints(_Strict):
    #: ``"GET /bulks/{bulk_id}"``, ``"POST /bulks/*"``, ``"* /bulks/{bulk_id}/operations"`` or ``"*"``.
    endpoints: list[str] = Field(default_factory=lambda: ["*"])

    @field_validator("endpoints")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _check_endpoints(value)


class ApiErrorRule(_OnEndpoints):
    """Answer a seeded ``rate`` of matching requests with 500 or 503 (nothing is processed)."""

    rate: Annotated[float, Field(gt=0, le=1)]
    status: Literal[500, 503] = 503


class Throttle(_OnEndpoints):
    """A token bucket per api-key: ``capacity`` requests at once, refilled at ``refill_per_s``; an empty
    bucket answers 429 with ``x-ratelimit-*`` headers that tell exactly when the next request will pass."""

    capacity: Annotated[int, Field(ge=1)]
    refill_per_s: Annotated[float, Field(gt=0)]


class Latency(_OnEndpoints):
    """Added latency on matching requests: ``fixed_ms``, or a seeded ``distribution``."""

    fixed_ms: Annotated[int, Field(ge=0, le=60_000)] | None = None
    distribution: Literal["uniform", "exponential", "normal"] | None = None
    min_ms: Annotated[float, Field(ge=0)] | None = None
    max_ms: Annotated[float, Field(ge=0, le=60_000)] | None = None
    mean_ms: Annotated[float, Field(gt=0, le=60_000)] | None = None
    stddev_ms: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        if (self.fixed_ms is None) == (self.distribution is None):
            raise ValueError("give either fixed_ms or a distribution (uniform, exponential, normal)")
        needs = {"uniform": ("min_ms", "max_ms"), "exponential": ("mean_ms",), "normal": ("mean_ms",)}
        for name in needs.get(self.distribution or "", ()):
            if getattr(self, name) is None:
                raise ValueError(f"{name} is required for the {self.distribution} distribution")
        low, high = self.min_ms, self.max_ms
        if self.distribution == "uniform" and low is not None and high is not None and low > high:
            raise ValueError("min_ms must not exceed max_ms")
        return self


class ApiFaults(_Strict):
    errors: list[ApiErrorRule] = Field(default_factory=list)
    throttle: Throttle | None = None
    latency: Latency | None = None
    maintenance: list[Window] = Field(default_factory=list)


class EventSelector(_Strict):
    """Which webhook events a delivery fault hits. Events are numbered 1, 2, … in publication order among
    those whose path ends with one of ``paths`` (all paths when left out), counted from when the plan was
    set. ``events``, ``every`` and ``fraction`` (seeded) are unioned; with none of them every event is hit."""

    paths: list[str] | None = None
    events: list[Annotated[int, Field(ge=1)]] | None = None
    every: Annotated[int, Field(ge=1)] | None = None
    fraction: Annotated[float, Field(gt=0, le=1)] | None = None


class DelayRule(EventSelector):
    delay_ms: Annotated[int, Field(ge=1, le=600_000)]


class OutOfOrderRule(EventSelector):
    #: A held event goes out once the next event has been sent, or after this long at most.
    max_hold_ms: Annotated[int, Field(ge=1, le=600_000)] = 5_000


class StaleRule(EventSelector):
    #: How far in the past the re-signed ``published-timestamp`` is put.
    stale_by_s: Annotated[int, Field(ge=1)] = 3_600


class WebhookFaults(_Strict):
    #: The receiver is "down": every attempt inside a window fails like a refused connection, so Weavr's
    #: normal retry schedule (scaled by ``speed.webhook_retry_scale``) takes over.
    outages: list[Window] = Field(default_factory=list)
    duplicates: EventSelector | None = None  # delivered twice with the same call-ref
    out_of_order: OutOfOrderRule | None = None  # held until the next event went out
    delays: DelayRule | None = None  # held before the first attempt
    bad_signature: EventSelector | None = None  # signatures made with a wrong key, on the wire only
    stale_timestamp: StaleRule | None = None  # an old published-timestamp, validly signed, on the wire only


class FaultPlan(_Strict):
    seed: int = 0
    #: Apply to bulks and requests of this identity only; leave out for every identity.
    identity: Annotated[str, Field(pattern=r"^[0-9]+$")] | None = None
    description: str | None = None
    speed: Speed | None = None
    operations: list[OperationRule] = Field(default_factory=list)
    api: ApiFaults | None = None
    webhooks: WebhookFaults | None = None

    def to_json(self) -> dict[str, Any]:
        """The plan as GET /_sim/faults shows it (and PUT accepts): unset parts left out."""
        return self.model_dump(mode="json", exclude_none=True)


# --- deterministic randomness ------------------------------------------------------------------------


def derive_rng(seed: int, purpose: str, *key: object) -> random.Random:
    """A generator for one (plan seed, purpose, key) — never time or the global generator.

    ``random.Random`` seeded with a str hashes it with SHA-512, so the stream is the same on every run and
    every interpreter (unlike ``hash()``, which is salted per process).
    """
    return random.Random("/".join([str(seed), purpose, *map(str, key)]))


# --- errors that name the field ----------------------------------------------------------------------


class PlanError(ValueError):
    """An invalid plan (or scenario). ``problems`` is ``[(field path, message)]``; ``str()`` reads well."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {field}: {msg}" if field else f"{source}: {msg}" for field, msg in problems]
        super().__init__("\n".join(lines))

    def as_json(self) -> dict[str, Any]:
        first = self.problems[0] if self.problems else ("", "invalid")
        head = f"{first[0]}: {first[1]}" if first[0] else first[1]
        return {
            "message": f"Invalid fault plan: {head}"[:255],
            "errors": [{"field": f, "message": m} for f, m in self.problems],
        }


def field_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's ``("operations", 0, "error_code")`` → ``"operations[0].error_code"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "tagged-union")):
            out = f"{out}.{part}" if out else str(part)
    return out


def problems_of(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for err in exc.errors(include_url=False):
        path = field_path(tuple(err["loc"]))
        if prefix:
            path = f"{prefix}.{path}" if path and not path.startswith("[") else f"{prefix}{path}"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (misspelt?)"
        elif err["type"] not in ("missing", "value_error") and "input" in err:
            msg = f"{msg} (got {err['input']!r})"
        out.append((path, msg))
    return out


def parse_plan(data: Any, source: str = "plan") -> FaultPlan:
    """Validate a parsed plan (TOML table or JSON object), or raise :class:`PlanError`."""
    if not isinstance(data, dict):
        raise PlanError(source, [("", "a fault plan must be a table / JSON object")])
    try:
        return FaultPlan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(source, problems_of(exc)) from None


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict, with the file named in every error."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(str(path), [("", f"invalid TOML: {exc}")]) from None
    except UnicodeDecodeError:  # a binary file: tomllib reads UTF-8 text (a user's trial got a traceback)
        raise PlanError(str(path), [("", "not a text file (UTF-8)")]) from None
    except OSError as exc:  # missing, a directory, unreadable: said, not a traceback
        raise PlanError(str(path), [("", _os_problem(exc))]) from None


def _os_problem(exc: OSError) -> str:
    return "file not found" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc)).lower()


def read_json(path: Path) -> Any:
    """A JSON file, parsed, with the file named in every error."""
    try:
        return json.loads(path.read_bytes())
    except ValueError as exc:  # invalid JSON, or not UTF-8
        raise PlanError(str(path), [("", f"invalid JSON: {exc}")]) from None
    except OSError as exc:
        raise PlanError(str(path), [("", _os_problem(exc))]) from None


def load_plan(path: Path | str) -> FaultPlan:
    """``bulkdash-sim serve --faults FILE``: a plan from a TOML file, or a JSON one (``.json``) as the control
    API takes it (``PUT /_sim/faults``)."""
    path = Path(path)
    data = read_json(path) if path.suffix.lower() == ".json" else read_toml(path)
    return parse_plan(data, str(path))


__all__ = [
    "ERROR_CODES",
    "KNOWN_ENDPOINTS",
    "ApiFaults",
    "FaultPlan",
    "OperationRule",
    "PlanError",
    "RequestMatch",
    "Speed",
    "WebhookFaults",
    "Window",
    "derive_rng",
    "endpoint_regex",
    "load_plan",
    "parse_plan",
    "problems_of",
    "read_toml",
]
