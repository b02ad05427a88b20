"""Item generators: a scenario's ``[bulk]`` (kind, size, params) → the submission array, one per kind.

Defaults point at the demo world of identity 1001 (docs/behaviour.md Appendix A), so a scenario only writes
what its
story needs. Generation is deterministic: amounts drawn between ``amount`` and ``amount_max`` come from
``derive_rng(seed, "items")``; everything else is a function of the item's sequence (``{n}`` in text
fields is the 1-based sequence). Parameters are checked when a pack is loaded, so a bad pack fails loudly
with its file and field rather than at submission.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.validation import RequestInvalid, validate_submission
from simulator.faults.plan import PlanError, derive_rng, problems_of
from simulator.scenarios import BulkSpec, Scenario


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class _Money(_Params):
    amount: Annotated[int, Field(ge=1)] = 100
    #: When set, each amount is drawn (seeded) between ``amount`` and ``amount_max``.
    amount_max: Annotated[int, Field(ge=1)] | None = None
    tag: str | None = None
    description: str | None = None  # "{n}" → the item's sequence

    def amount_for(self, rng: random.Random) -> int:
        return rng.randint(self.amount, self.amount_max) if self.amount_max else self.amount

    def extras(self, n: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.tag:
            out["tag"] = self.tag.replace("{n}", str(n))
        if self.description:
            out["description"] = self.description.replace("{n}", str(n))
        return out


class TransfersParams(_Money):
    profile_id: str = "3001"
    source: str = "4001"
    source_type: Literal["managed_accounts", "managed_cards"] = "managed_accounts"
    destinations: list[str] = Field(default_factory=lambda: ["5002"], min_length=1)  # cycled
    destination_type: Literal["managed_accounts", "managed_cards"] = "managed_cards"
    currency: str = "GBP"


class SendsParams(_Money):
    profile_id: str = "3101"
    source: str = "4001"
    destination: str = "4101"  # Globex's account (another identity of programme P1)
    destination_type: Literal["managed_accounts", "managed_cards"] = "managed_accounts"
    beneficiary_id: str | None = None  # instead of destination: e.g. "7003"
    currency: str = "GBP"


class OwtParams(_Money):
    profile_id: str = "3201"
    source: str = "4002"  # the EUR account
    currency: str = "EUR"
    beneficiary_id: str = "7001"  # SEPA beneficiary "Hans Muster"
    description: str | None = "Invoice {n}"  # required on SEPA (≤ 35)
    #: Per-item values, cycled, instead of ``beneficiary_id`` / ``description``: a wire's rail and its
    #: description limit are checked only when it runs (docs/behaviour.md §4.3.7), so a pack mixes them.
    beneficiaries: list[str] | None = Field(default=None, min_length=1)
    descriptions: list[str] | None = Field(default=None, min_length=1)

    def item_extras(self, n: int) -> dict[str, Any]:
        out = self.extras(n)
        if self.descriptions:
            out["description"] = self.descriptions[(n - 1) % len(self.descriptions)].replace("{n}", str(n))
        return out

    def beneficiary(self, n: int) -> str:
        return (
            self.beneficiaries[(n - 1) % len(self.beneficiaries)]
            if self.beneficiaries
            else self.beneficiary_id
        )


class UsersParams(_Params):
    email_prefix: str = "trainee"
    email_domain: str = "acme.example"
    name: str = "Trainee"
    roles: list[str] = Field(default_factory=list)


class TargetsParams(_Params):
    targets: list[str] | None = None  # path parameter values, one per item, no repeats (A8)


class SpendRulesParams(TargetsParams):
    rules: dict[str, Any] = Field(default_factory=lambda: {"allowAtm": False})


#: Defaults for the targeted kinds: cards and users of identity 1001 in Appendix A.
DEFAULT_TARGETS: dict[OperationKind, list[str]] = {
    OperationKind.USER_INVITE: ["2005"],
    OperationKind.CARD_BLOCK: ["5001", "5002"],
    OperationKind.CARD_UNBLOCK: ["5003"],
    OperationKind.CARD_REMOVE: ["5002"],
    OperationKind.SPEND_RULES: ["5007"],
}

Generator = Callable[[Any, int, random.Random, int], list[dict[str, Any]]]


def _transfers(p: TransfersParams, size: int, rng: random.Random, seed: int) -> list[dict[str, Any]]:
    items = []
    for i in range(size):
        body = {
            "profileId": p.profile_id,
            "source": {"type": p.source_type, "id": p.source},
            "destination": {"type": p.destination_type, "id": p.destinations[i % len(p.destinations)]},
            "destinationAmount": {"currency": p.currency, "amount": p.amount_for(rng)},
            **p.extras(i + 1),
        }
        items.append({"pathParams": {}, "requestBody": body})
    return items


def _sends(p: SendsParams, size: int, rng: random.Random, seed: int) -> list[dict[str, Any]]:
    dest: dict[str, Any] = (
        {"beneficiaryId": p.beneficiary_id}
        if p.beneficiary_id
        else {"type": p.destination_type, "id": p.destination}
    )
    return [
        {
            "pathParams": {},
            "requestBody": {
                "profileId": p.profile_id,
                "source": {"type": "managed_accounts", "id": p.source},
                "destination": dict(dest),
                "destinationAmount": {"currency": p.currency, "amount": p.amount_for(rng)},
                **p.extras(i + 1),
            },
        }
        for i in range(size)
    ]


def _owts(p: OwtParams, size: int, rng: random.Random, seed: int) -> list[dict[str, Any]]:
    return [
        {
            "pathParams": {},
            "requestBody": {
                "profileId": p.profile_id,
                "sourceInstrument": {"type": "managed_accounts", "id": p.source},
                "transferAmount": {"currency": p.currency, "amount": p.amount_for(rng)},
                "destinationBeneficiary": {"beneficiaryId": p.beneficiary(i + 1)},
                **p.item_extras(i + 1),
            },
        }
        for i in range(size)
    ]


def _users(p: UsersParams, size: int, rng: random.Random, seed: int) -> list[dict[str, Any]]:
    items = []
    for i in range(size):
        body: dict[str, Any] = {
            "name": p.name,
            "surname": f"User{i + 1}",
            # The seed is part of the address so runs with other seeds do not collide (EMAIL_NOT_UNIQUE).
            "email": f"{p.email_prefix}{i + 1}.s{seed}@{p.email_domain}",
        }
        if p.roles:
            body["roles"] = list(p.roles)
        items.append({"pathParams": {}, "requestBody": body})
    return items


def _targeted(kind: OperationKind) -> Generator:
    param = KINDS[kind].path_param
    assert param is not None

    def generate(p: TargetsParams, size: int, rng: random.Random, seed: int) -> list[dict[str, Any]]:
        targets = p.targets or DEFAULT_TARGETS[kind]
        items: list[dict[str, Any]] = [{"pathParams": {param: targets[i]}} for i in range(size)]
        if isinstance(p, SpendRulesParams):
            for item in items:
                item["requestBody"] = dict(p.rules)
        return items

    return generate


GENERATORS: dict[OperationKind, tuple[type[_Params], Generator]] = {
    OperationKind.TRANSFERS: (TransfersParams, _transfers),
    OperationKind.SENDS: (SendsParams, _sends),
    OperationKind.OWT: (OwtParams, _owts),
    OperationKind.USERS: (UsersParams, _users),
    OperationKind.USER_INVITE: (TargetsParams, _targeted(OperationKind.USER_INVITE)),
    OperationKind.CARD_BLOCK: (TargetsParams, _targeted(OperationKind.CARD_BLOCK)),
    OperationKind.CARD_UNBLOCK: (TargetsParams, _targeted(OperationKind.CARD_UNBLOCK)),
    OperationKind.CARD_REMOVE: (TargetsParams, _targeted(OperationKind.CARD_REMOVE)),
    OperationKind.SPEND_RULES: (SpendRulesParams, _targeted(OperationKind.SPEND_RULES)),
}


def _params(scenario: Scenario, source: str) -> _Params:
    model, _ = GENERATORS[scenario.bulk.kind]
    try:
        return model.model_validate(scenario.bulk.params)
    except ValidationError as exc:
        raise PlanError(source, problems_of(exc, "bulk.params")) from None


def check_params(scenario: Scenario, source: str) -> None:
    """Load-time checks of ``[bulk.params]``: known keys and types, and enough distinct targets."""
    for bulk in scenario.setup.paused_bulks:
        targeted = issubclass(GENERATORS[bulk.kind][0], TargetsParams)
        if targeted and len(bulk.params.get("targets") or []) < bulk.size:
            raise PlanError(source, [("setup.paused_bulks", f"{bulk.kind.value}: give {bulk.size} targets")])
        generate_bulk_items(bulk, scenario.seed, source)
    params = _params(scenario, source)
    if isinstance(params, TargetsParams):
        targets = params.targets or DEFAULT_TARGETS[scenario.bulk.kind]
        if scenario.bulk.size > len(targets):
            raise PlanError(
                source,
                [
                    (
                        "bulk.size",
                        f"{scenario.bulk.size} items need as many distinct targets; have {len(targets)}",
                    )
                ],
            )
        if len(set(targets)) != len(targets):
            raise PlanError(source, [("bulk.params.targets", "targets repeat (the submission would be 409)")])


def generate_bulk_items(bulk: BulkSpec, seed: int, source: str) -> list[dict[str, Any]]:
    """The submission array of a bulk other than the pack's own (``[[setup.paused_bulks]]``)."""
    model, generate = GENERATORS[bulk.kind]
    try:
        params = model.model_validate(bulk.params)
    except ValidationError as exc:
        raise PlanError(source, problems_of(exc, "setup.paused_bulks.params")) from None
    items = generate(params, bulk.size, derive_rng(seed, f"setup:{bulk.kind.value}"), seed)
    try:
        validate_submission(KINDS[bulk.kind], items)
    except RequestInvalid as exc:
        problem = exc.body.message or "items do not validate"
        raise PlanError(source, [("setup.paused_bulks", problem)]) from None
    if isinstance(params, TargetsParams):
        targets = [item["pathParams"] for item in items]
        if len({tuple(t.values()) for t in targets}) != len(targets):
            raise PlanError(source, [("setup.paused_bulks.params.targets", "targets repeat or run out")])
    return items


def generate_items(scenario: Scenario, seed: int) -> list[dict[str, Any]]:
    """The submission array of a scenario for one seed; raises ``PlanError`` if it would not validate."""
    source = f"scenario {scenario.name}"
    params = _params(scenario, source)
    _, generate = GENERATORS[scenario.bulk.kind]
    items = generate(params, scenario.bulk.size, derive_rng(seed, "items"), seed)
    try:
        validate_submission(KINDS[scenario.bulk.kind], items)
    except RequestInvalid as exc:
        first = exc.body.syntaxErrors.invalidFields[0] if exc.body.syntaxErrors else None
        where = f"bulk.params (item field {first.fieldName}: {first.error})" if first else "bulk.params"
        raise PlanError(source, [(where, exc.body.message or "items do not validate")]) from None
    return items


__all__ = ["DEFAULT_TARGETS", "GENERATORS", "check_params", "generate_bulk_items", "generate_items"]
