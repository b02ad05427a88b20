"""Scenario packs: a trainee's story as a TOML file shipped in ``simulator/scenarios/packs/``.

A scenario has a title, a narrative (what the customer reports), the bulk to submit (kind, size and the
parameters of a generated item list, :mod:`.items`), the execute options, what the headless runner does
while the bulk runs (pause, resume, cancel), a fault plan with its speed (:mod:`simulator.faults.plan`),
the expected outcome, and the trainee's checklist (``bulkdash.contract.scenarios.Question``).

* :func:`list_scenarios` / :func:`get_scenario` read the packs: shipped, the trainer's folder and ``--packs``
  folders (:mod:`.sources`).
* :func:`simulator.scenarios.setup.setup_scenario` applies one to a running engine — used by
  ``POST /_sim/scenarios/{name}`` and so by ``bulkdash-sim scenario run``.
* :func:`simulator.cli.runner.run_scenario` plays one headless end to end and checks the outcome.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bulkdash.contract.kinds import OperationKind
from bulkdash.contract.presenter import MAX_SPEED, MIN_TRAINEE_SPEED, TRAINEE_SPEED
from bulkdash.contract.scenarios import Difficulty, ExpectedAction, Question, Reply, ScenarioSummary
from simulator.faults.plan import FaultPlan, PlanError, problems_of

FinalStatus = Literal["COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"]
CountedStatus = Literal["SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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
    #: How fast the pack plays when a person trains on it (set-up with ``trainee``): the pack's op delay is
    #: divided by it, like the presenter's speed divides it. The headless runner ignores it. Default
    #: ``TRAINEE_SPEED`` (0.05: a 10 ms operation takes 200 ms).
    speed: Annotated[float, Field(ge=MIN_TRAINEE_SPEED, le=MAX_SPEED)] | None = None

    @model_validator(mode="after")
    def _one_action(self) -> RunSpec:
        if self.pause_at is not None and self.cancel_at is not None:
            raise ValueError("give pause_at or cancel_at, not both")
        return self

    @property
    def trainee_speed(self) -> float:
        return TRAINEE_SPEED if self.speed is None else self.speed

    @property
    def move(self) -> tuple[Literal["pause", "cancel"], int] | None:
        """The trainee's "your move": pause or cancel while operation N runs (the world holds there)."""
        if self.pause_at is not None:
            return "pause", self.pause_at
        if self.cancel_at is not None:
            return "cancel", self.cancel_at
        return None


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


class SetupSpec(_Strict):
    """What a ticket needs set up besides the pack's bulk (``[setup]``; simulator/scenarios/setup.py).

    ``idempotency_ref`` submits the bulk with that ``idempotency-ref`` (made unique per set-up, so a pack
    played twice on one simulator gets a new bulk); ``replay`` then sends the same body under the same ref
    (§4.1: the same bulk comes back, nothing is created) and ``duplicate`` under a new ref (a second bulk,
    left SUBMITTED). ``paused_bulks`` are submitted, executed and paused before the pack's bulk, as a
    customer's forgotten runs: they count towards the identity's active bulks (§3.8, decision A7).
    """

    idempotency_ref: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    replay: bool = False
    duplicate: bool = False
    paused_bulks: list[BulkSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> SetupSpec:
        if (self.replay or self.duplicate) and self.idempotency_ref is None:
            raise ValueError("replay and duplicate need an idempotency_ref")
        kinds = [b.kind for b in self.paused_bulks]
        if len(set(kinds)) != len(kinds):
            raise ValueError("paused_bulks: one bulk per kind (a second would be DUPLICATE_OPERATION_TYPE)")
        if any(b.size < 2 for b in self.paused_bulks):
            raise ValueError("paused_bulks: at least 2 operations each (one would finish before the pause)")
        return self


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
    #: What the brief asks the trainee to do (``[[expect_actions]]``), judged from the dashboard's API log.
    expect_actions: list[ExpectedAction] = Field(default_factory=list)
    #: A customer's question the trainee answers in free text (``[reply]``: prompt, model answer).
    reply: Reply | None = None
    #: What set-up does besides submitting the bulk (``[setup]``): idempotent replays, other bulks.
    setup: SetupSpec = SetupSpec()

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
        if self.bulk.kind in {b.kind for b in self.setup.paused_bulks}:
            raise ValueError("setup.paused_bulks: the pack's own kind would be DUPLICATE_OPERATION_TYPE")
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
            expect_actions=self.expect_actions,
            reply=self.reply,
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


def _loaded() -> tuple[dict[str, Scenario], tuple[PlanError, ...]]:
    from simulator.scenarios.sources import folders_key

    return _loaded_from(folders_key())


@cache
def _loaded_from(folders: tuple[str, ...]) -> tuple[dict[str, Scenario], tuple[PlanError, ...]]:
    """The packs of these folders (the key: a change of folders reads them again)."""
    from simulator.scenarios.sources import pack_files

    out: dict[str, Scenario] = {}
    problems: list[PlanError] = []
    for pack in pack_files():
        try:
            try:
                data = tomllib.loads(pack.text)
            except tomllib.TOMLDecodeError as exc:
                raise PlanError(pack.source, [("", f"invalid TOML: {exc}")]) from None
            out[pack.name] = parse_scenario(data, pack.name, pack.source)
        except PlanError as exc:
            if pack.origin == "shipped":
                raise  # a shipped pack that does not load is a bug, found by the tests
            # A trainer's broken pack must not take the others down: it is left out and reported
            # (``scenario list`` and ``scenario validate`` show why).
            problems.append(exc)
    return out, tuple(problems)


def _packs() -> dict[str, Scenario]:
    return _loaded()[0]


def pack_problems() -> list[PlanError]:
    """Why each of the trainer's packs that did not load was left out."""
    return list(_loaded()[1])


def reload_packs() -> None:
    """Read the pack folders again (after a pack was written or changed)."""
    _loaded_from.cache_clear()


def list_scenarios() -> list[Scenario]:
    """Every shipped scenario, by name."""
    return list(_packs().values())


def get_scenario(name: str) -> Scenario | None:
    return _packs().get(name)


__all__ = ["Scenario", "get_scenario", "list_scenarios", "parse_scenario"]
