"""Scenario packs: a trainee's story as a TOML file shipped in ``simulator/scenarios/packs/``.

A scenario has a title, a narrative (what the customer reports), the bulk to submit (kind, size and the
parameters of a generated item list, :mod:`.items`), the execute options, what the headless runner does
while the bulk runs (pause, resume, cancel), a fault plan with its speed (:mod:`simulator.faults.plan`),
the expected outcome, and the trainee's checklist (``bulkdash.contract.scenarios.Question``).

* :func:`list_scenarios` / :func:`get_scenario` read the packs (package data, via ``importlib.resources``).
* :func:`simulator.scenarios.setup.setup_scenario` applies one to a running engine — used by
  ``POST /_sim/scenarios/{name}`` and so by ``bulkdash-sim scenario run``.
* :func:`simulator.cli.runner.run_scenario` plays one headless end to end and checks the outcome.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bulkdash.contract.kinds import OperationKind
from bulkdash.contract.scenarios import Difficulty, Question, ScenarioSummary
from simulator.faults.plan import FaultPlan, PlanError, problems_of

PACKAGE = "simulator.scenarios.packs"

FinalStatus = Literal["COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"]
CountedStatus = Literal["SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BulkSpec(_Strict):
    kind: OperationKind
    size: Annotated[int, Field(ge=1, le=10_000)]
    #: Parameters of the kind's item generator (simulator/scenarios/items.py), checked when loading.
    params: dict[str, Any] = Field(default_factory=dict)


class ExecuteSpec(_Strict):
    mode: Literal["ON_FAILURE_STOP", "ON_FAILURE_CONTINUE"] = "ON_FAILURE_CONTINUE"
    webhook_interval: Annotated[int, Field(ge=1)] | None = None
    #: ``POST /_sim/scenarios/{name}`` submits but leaves execute to the trainee's client.
    by_client: bool = False

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.webhook_interval is not None:
            out["webhookInterval"] = self.webhook_interval
        return out


class RunSpec(_Strict):
    """What the headless runner (the "trainee") does while the bulk runs."""

    #: Pause while this operation is RUNNING (it finishes first, §5.3), then resume after resume_after_ms.
    pause_at: Annotated[int, Field(ge=1)] | None = None
    resume_after_ms: Annotated[int, Field(ge=0, le=60_000)] = 200
    #: Cancel while this operation is RUNNING.
    cancel_at: Annotated[int, Field(ge=1)] | None = None
    poll_interval_ms: Annotated[int, Field(ge=1, le=10_000)] = 25

    @model_validator(mode="after")
    def _one_action(self) -> RunSpec:
        if self.pause_at is not None and self.cancel_at is not None:
            raise ValueError("give pause_at or cancel_at, not both")
        return self


class WebhookExpect(_Strict):
    """Expected webhook facts for the bulk (each optional)."""

    published: int | None = None  # events in the outbox
    delivered: int | None = None  # outbox deliveryStatus DELIVERED
    failed: int | None = None  # outbox deliveryStatus FAILED
    received: int | None = None  # requests the receiver accepted, duplicates included
    rejected: int | None = None  # requests the receiver refused (e.g. 401 for a bad signature)
    duplicates: int | None = None  # accepted requests repeating a call-ref already seen
    stale: int | None = None  # accepted requests with a stale published-timestamp
    out_of_order: bool | None = None  # bulk events arrived with counts going backwards
    retried_min: int | None = None  # at least this many events needed more than one attempt


class ClientExpect(_Strict):
    throttled_min: int | None = None  # at least this many 429s seen by the client
    server_errors_min: int | None = None  # at least this many 500/503s seen by the client


class Expect(_Strict):
    status: FinalStatus
    counts: dict[CountedStatus, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    paused: bool | None = None  # the runner saw the bulk PAUSED
    webhooks: WebhookExpect | None = None
    client: ClientExpect | None = None


class Scenario(_Strict):
    name: str
    title: str
    difficulty: Difficulty = "intermediate"
    narrative: str
    seed: int = 1
    bulk: BulkSpec
    execute: ExecuteSpec = ExecuteSpec()
    run: RunSpec = RunSpec()
    #: The fault plan, without ``seed`` and ``identity``: set-up fills both in (the run's seed, the identity
    #: the bulk is submitted for).
    faults: FaultPlan = FaultPlan()
    expect: Expect
    #: The trainee's checklist (multiple choice, each answer settled by facts the dashboard shows).
    questions: list[Question] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> Scenario:
        if "seed" in self.faults.model_fields_set or "identity" in self.faults.model_fields_set:
            raise ValueError(
                "faults: leave out seed and identity (the scenario's seed and the set-up fill them)"
            )
        counts = self.expect.counts
        if (
            counts
            and sum(counts.values()) != self.bulk.size
            and {"COMPLETED", "FAILED", "CANCELLED"} <= set(counts)
        ):
            raise ValueError(
                f"expect.counts add up to {sum(counts.values())}, not bulk.size {self.bulk.size}"
            )
        for name in ("pause_at", "cancel_at"):
            at = getattr(self.run, name)
            if at is not None and at > self.bulk.size:
                raise ValueError(f"run.{name} = {at} is beyond bulk.size {self.bulk.size}")
        return self

    def plan(self, seed: int | None = None, identity: str | None = None) -> FaultPlan:
        """The scenario's fault plan for one run: its seed, scoped to the identity being trained."""
        return self.faults.model_copy(
            update={"seed": self.seed if seed is None else seed, "identity": identity}
        )

    def summary(self) -> dict[str, Any]:
        """The pack as the dashboard lists it and briefs the trainee (``bulkdash.contract.scenarios``)."""
        return ScenarioSummary(
            name=self.name,
            title=self.title,
            difficulty=self.difficulty,
            kind=self.bulk.kind.value,
            size=self.bulk.size,
            mode=self.execute.mode,
            webhookInterval=self.execute.webhook_interval,
            narrative=self.narrative.strip(),
            byClient=self.execute.by_client,
            questions=self.questions,
        ).model_dump(mode="json")


def parse_scenario(data: dict[str, Any], name: str, source: str) -> Scenario:
    """Validate a parsed TOML scenario (its name is its file stem), or raise :class:`PlanError`."""
    if data.get("name", name) != name:
        raise PlanError(source, [("name", f"must match the file name {name!r} (or be left out)")])
    try:
        scenario = Scenario.model_validate({**data, "name": name})
    except ValidationError as exc:
        raise PlanError(source, problems_of(exc)) from None
    from simulator.scenarios.items import check_params  # late: items imports this module

    check_params(scenario, source)
    return scenario


@cache
def _packs() -> dict[str, Scenario]:
    out: dict[str, Scenario] = {}
    for entry in sorted(resources.files(PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            name = entry.name[: -len(".toml")]
            try:
                data = tomllib.loads(entry.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise PlanError(f"packs/{entry.name}", [("", f"invalid TOML: {exc}")]) from None
            out[name] = parse_scenario(data, name, f"packs/{entry.name}")
    return out


def list_scenarios() -> list[Scenario]:
    """Every shipped scenario, by name."""
    return list(_packs().values())


def get_scenario(name: str) -> Scenario | None:
    return _packs().get(name)


__all__ = ["Scenario", "get_scenario", "list_scenarios", "parse_scenario"]
