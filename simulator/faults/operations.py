"""Per-operation faults: which operations of a bulk fail (or slow down) and with what answer.

The engine asks :meth:`OperationLayer.check` once per operation, right before running it, and only when
some active plan has operation rules (otherwise ``FaultController.operations`` is ``None`` and the engine's
cost is one attribute test). A hit gives an :class:`OpFault`: a ready single-endpoint answer that replaces
the operation — the world is not touched and no transaction webhook is published, exactly like the
``SIM_FAIL_500`` tag of docs/behaviour.md §4.3.8 — and/or extra latency, during which the operation stays
RUNNING.

Selections are deterministic: explicit sequences are data, and ``fraction`` draws its sample from
``derive_rng(seed, "operations", rule index, candidates)``. The draw does not depend on the bulk id, so a
scenario replays identically on a database that already holds other bulks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bulkdash.contract.kinds import OperationKind
from simulator.faults.plan import FaultPlan, OperationRule, RequestMatch, derive_rng
from simulator.operations.common import INTERNAL_ERROR_BODY, UNAVAILABLE_BODY, OpResult
from simulator.store.store import BulkRow

#: The ``invalidFields`` entry of an injected 400 when the plan names none: a realistic one per kind.
DEFAULT_INVALID_FIELD: dict[OperationKind, dict[str, Any]] = {
    OperationKind.USERS: {"params": [r"^[^@\s]+@[^@\s]+\.[^@\s]+$"], "fieldName": "email", "error": "REGEX"},
    OperationKind.USER_INVITE: {"params": ["^[0-9]+$"], "fieldName": "user_id", "error": "REGEX"},
    OperationKind.CARD_BLOCK: {"params": ["^[0-9]+$"], "fieldName": "id", "error": "REGEX"},
    OperationKind.CARD_UNBLOCK: {"params": ["^[0-9]+$"], "fieldName": "id", "error": "REGEX"},
    OperationKind.CARD_REMOVE: {"params": ["^[0-9]+$"], "fieldName": "id", "error": "REGEX"},
    OperationKind.SPEND_RULES: {
        "params": ["1"],
        "fieldName": "spendLimit[0].value.amount",
        "error": "AT_LEAST",
    },
    OperationKind.TRANSFERS: {"params": ["0", "255"], "fieldName": "description", "error": "SIZE"},
    OperationKind.SENDS: {"params": ["0", "255"], "fieldName": "description", "error": "SIZE"},
    OperationKind.OWT: {"params": [], "fieldName": "description", "error": "REQUIRED"},
}


@dataclass(slots=True, frozen=True)
class OpFault:
    """What a plan does to one operation: ``result`` replaces running it (None: run it normally, as for a
    "slow" rule); ``latency_ms`` is extra time spent RUNNING first."""

    result: OpResult | None
    latency_ms: int


def _dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


def _amount(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("destinationAmount") or body.get("transferAmount")
    return value if isinstance(value, dict) else None


def _destination_id(body: dict[str, Any]) -> Any:
    dest = body.get("destination") or body.get("destinationBeneficiary")
    if not isinstance(dest, dict):
        return None
    return dest.get("beneficiaryId") or dest.get("id")


def matches_request(match: RequestMatch, target: str | None, body: dict[str, Any] | None) -> bool:
    """Every condition of ``match`` holds for this operation's path parameter and request body."""
    b = body or {}
    if match.target_id is not None and target != match.target_id:
        return False
    if match.tag is not None and b.get("tag") != match.tag:
        return False
    if match.amount_above is not None or match.amount_below is not None or match.currency is not None:
        amount = _amount(b)
        if amount is None:
            return False
        value = amount.get("amount")
        if match.amount_above is not None and not (isinstance(value, int) and value > match.amount_above):
            return False
        if match.amount_below is not None and not (isinstance(value, int) and value < match.amount_below):
            return False
        if match.currency is not None and amount.get("currency") != match.currency:
            return False
    if match.source_id is not None:
        source = b.get("source") or b.get("sourceInstrument")
        if not isinstance(source, dict) or source.get("id") != match.source_id:
            return False
    if match.destination_id is not None and _destination_id(b) != match.destination_id:
        return False
    if match.email_domain is not None:
        email = b.get("email")
        if not isinstance(email, str) or email.rpartition("@")[2].lower() != match.email_domain.lower():
            return False
    return all(_dig(b, path) == expected for path, expected in match.fields.items())


class _Rule:
    """One ``[[operations]]`` rule, compiled: selection sets are computed once per bulk size."""

    __slots__ = ("_fault", "_samples", "explicit", "index", "kinds", "rule", "seed")

    def __init__(self, rule: OperationRule, index: int, seed: int) -> None:
        self.rule = rule
        self.index = index
        self.seed = seed
        self.kinds = frozenset(rule.kinds) if rule.kinds else None
        explicit: set[int] = set()
        if rule.sequence is not None:
            explicit.add(rule.sequence)
        explicit.update(rule.sequences or ())
        self.explicit = explicit  # the range is kept apart: it can be 1..10,000
        self._samples: dict[int, frozenset[int]] = {}

    def _candidates(self, n: int) -> list[int]:
        rule = self.rule
        if not self.explicit and rule.range is None:
            return list(range(1, n + 1))
        chosen = {s for s in self.explicit if s <= n}
        if rule.range is not None:
            chosen.update(range(rule.range[0], min(rule.range[1], n) + 1))
        return sorted(chosen)

    def _sample(self, n: int) -> frozenset[int]:
        sample = self._samples.get(n)
        if sample is None:
            candidates = self._candidates(n)
            assert self.rule.fraction is not None
            k = math.floor(self.rule.fraction * len(candidates) + 0.5)  # half up, not banker's rounding
            rng = derive_rng(self.seed, "operations", self.index, n)
            sample = self._samples[n] = frozenset(rng.sample(candidates, k))
        return sample

    def selects(self, kind: OperationKind, n: int, seq: int, target: str | None, body: Any) -> bool:
        rule = self.rule
        if self.kinds is not None and kind not in self.kinds:
            return False
        if rule.fraction is not None:
            if seq not in self._sample(n):
                return False
        elif self.explicit or rule.range is not None:
            in_range = rule.range is not None and rule.range[0] <= seq <= rule.range[1]
            if not in_range and seq not in self.explicit:
                return False
        return rule.match is None or matches_request(rule.match, target, body)

    def next_selected(self, kind: OperationKind, n: int, seq: int) -> int | None:
        """The first sequence at or after ``seq`` this rule selects in a bulk of ``n`` (request matching
        aside: later operations' bodies are not at hand), or None."""
        if self.kinds is not None and kind not in self.kinds:
            return None
        chosen = self._sample(n) if self.rule.fraction is not None else self._candidates(n)
        return min((s for s in chosen if s >= seq), default=None)

    def fault(self, kind: OperationKind) -> OpFault:
        rule = self.rule
        result: OpResult | None
        if rule.outcome == "conflict":
            result = OpResult(409, {"errorCode": rule.error_code}, [])
        elif rule.outcome == "bad_request":
            # Key order as on the wire (docs/behaviour.md §3.3): params, fieldName, error.
            invalid = (
                [
                    {"params": list(f.params), "fieldName": f.field_name, "error": f.error.value}
                    for f in rule.invalid_fields
                ]
                if rule.invalid_fields
                else [dict(DEFAULT_INVALID_FIELD[kind])]
            )
            body = {
                "message": rule.message or "Validation failed",
                "syntaxErrors": {"invalidFields": invalid},
            }
            result = OpResult(400, body, [])
        elif rule.outcome == "internal_error":
            result = OpResult(500, dict(INTERNAL_ERROR_BODY), [])
        elif rule.outcome == "unavailable":
            result = OpResult(503, dict(UNAVAILABLE_BODY), [])
        else:  # slow: the operation runs normally, later
            result = None
        return OpFault(result, rule.latency_ms)


class OperationFaults:
    """The operation rules of one plan; the first rule that selects an operation decides."""

    def __init__(self, plan: FaultPlan) -> None:
        self.rules = [_Rule(rule, i, plan.seed) for i, rule in enumerate(plan.operations)]

    def check(
        self, kind: OperationKind, n: int, seq: int, target: str | None, body: dict[str, Any] | None
    ) -> OpFault | None:
        for rule in self.rules:
            if rule.selects(kind, n, seq, target, body):
                return rule.fault(kind)
        return None


class OperationLayer:
    """The engine's entry point: picks the plan of the bulk's identity (or the global one) per operation."""

    def __init__(self, by_scope: dict[str | None, OperationFaults | None]) -> None:
        # An identity with its own plan uses only that plan, even when it has no operation rules.
        self.by_scope = by_scope

    def check(
        self, row: BulkRow, seq: int, target: str | None, body: dict[str, Any] | None
    ) -> OpFault | None:
        scope = row.identity_id if row.identity_id in self.by_scope else None
        faults = self.by_scope.get(scope)
        if faults is None:
            return None
        return faults.check(OperationKind(row.kind), row.n, seq, target, body)

    def upcoming(self, row: BulkRow, seq: int) -> OpFault | None:
        """For the presenter's "fault now": the failure (without latency) of the plan rule that would fail
        this bulk soonest, at or after ``seq``; None when no failing rule is ahead. The plan is unchanged."""
        scope = row.identity_id if row.identity_id in self.by_scope else None
        faults = self.by_scope.get(scope)
        if faults is None:
            return None
        kind = OperationKind(row.kind)
        best: tuple[int, OpFault] | None = None
        for rule in faults.rules:
            if rule.rule.outcome == "slow":
                continue
            at = rule.next_selected(kind, row.n, seq)
            if at is not None and (best is None or at < best[0]):
                best = (at, rule.fault(kind))
        return None if best is None else OpFault(best[1].result, 0)


def rule_fault(rule: OperationRule, kind: OperationKind) -> OpFault:
    """The answer ``rule`` gives an operation of ``kind`` (the presenter's default forced fault)."""
    return _Rule(rule, 0, 0).fault(kind)


def build_layer(plans: dict[str | None, FaultPlan]) -> OperationLayer | None:
    """The layer for the active plans, or ``None`` when none has operation rules (the engine's fast path)."""
    if not any(plan.operations for plan in plans.values()):
        return None
    return OperationLayer({scope: OperationFaults(p) if p.operations else None for scope, p in plans.items()})


__all__ = ["OpFault", "OperationFaults", "OperationLayer", "build_layer", "matches_request", "rule_fault"]
