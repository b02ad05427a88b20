"""The set-up of a scenario on a running engine: apply its fault plan and speed, submit its bulk, and
execute it unless the scenario leaves that to the client.

Shared by ``POST /_sim/scenarios/{name}`` (a client such as the dashboard gets the bulk id back) and, through
that endpoint, by the headless ``bulkdash-sim scenario run``. It logs nobody in: the bulk is submitted
in-process for the root demo user of the identity (``alice`` for 1001), and the plan is scoped to that
identity so other identities on the same simulator are not disturbed.

Every play meets the world its brief describes (docs/behaviour.md, "Scenario packs"): the identity's accounts,
cards and demo users are put back as Appendix A has them first (a payroll pack drains account 4001, and every
later transfer pack, or the same one again, then failed otherwise), the identity's bulks an earlier play left
RUNNING or PAUSED are cancelled, and users a pack creates get addresses no earlier play took (``.p2``,
``.p3``… before the ``@``). Bulks and their history stay; nothing is reset.

With ``trainee`` (the dashboard: a person plays the pack) the run waits for that person: the world is paused
before the bulk is submitted (so even a bulk set-up executes runs nothing until the trainee presses start,
i.e. un-pauses it), the pack's "your move" operation (``[run] pause_at`` / ``cancel_at``) gets a presenter
hold, and the pack plays at its ``[run] speed``: its op delay divided by it.
"""

from __future__ import annotations

import secrets
from typing import Any

from bulkdash.contract.kinds import KINDS
from bulkdash.contract.models import BulkProcessExecute
from simulator.engine.auth import Principal, permissions_of
from simulator.engine.engine import Engine
from simulator.errors import Conflict, NotFound
from simulator.faults.plan import FaultPlan, Speed
from simulator.scenarios import Scenario
from simulator.scenarios.items import generate_bulk_items, generate_items

DEFAULT_IDENTITY = "1001"


def demo_principal(engine: Engine, identity_id: str) -> Principal:
    """The identity's root demo user, as if logged in (no token is issued)."""
    identity = engine.world.identities.get(identity_id)
    if identity is None:
        raise NotFound()
    user = next(
        (
            u
            for u in engine.world.users.values()
            if u.identity_id == identity_id and u.credential_type == "ROOT"
        ),
        None,
    )
    if user is None:
        raise NotFound()
    return Principal("", engine.world.programmes[identity.programme], user, identity, permissions_of(user))


def paced(plan: FaultPlan, speed: float, op_delay_ms: int) -> FaultPlan:
    """``plan`` with its op delay (or the simulator's, ``op_delay_ms``, when it sets none) divided by
    ``speed``: the pack's pace for a trainee."""
    current = plan.speed or Speed()
    delay = current.op_delay_ms if current.op_delay_ms is not None else op_delay_ms
    slowed = current.model_copy(update={"op_delay_ms": min(600_000, round(delay / speed))})
    return plan.model_copy(update={"speed": slowed})


async def setup_scenario(
    engine: Engine,
    scenario: Scenario,
    *,
    seed: int | None = None,
    identity: str = DEFAULT_IDENTITY,
    execute: bool | None = None,
    trainee: bool = False,
    speed: float | None = None,
) -> dict[str, Any]:
    """Apply ``scenario`` for one run; returns ``{"bulkId", "scenario", "seed", "identity", "executed", …}``.
    With ``trainee`` also ``"waiting": true`` (the world is paused until the trainee starts it), ``"move"``
    (``{"action", "operation"}`` the world holds at, or None) and ``"speed"`` (``speed`` or the pack's).

    Raises ``NotFound`` for an unknown identity, and the engine's ``Conflict`` / ``RequestInvalid`` as a
    submission over HTTP would (e.g. ``NO_CONFIG_FOUND`` for identity 1003).
    """
    seed = scenario.seed if seed is None else seed
    principal = demo_principal(engine, identity)
    items = _unused_emails(engine, principal, generate_items(scenario, seed))
    # First the earlier runs end (a cancel lets the operation in flight finish: it may still move money),
    # then the world is put back, then the presenter's leftovers go.
    ended = await _end_earlier_runs(engine, principal)
    await engine.restore_identity(identity)
    engine.presenter.forget_pending()
    plan = scenario.plan(seed, identity)
    pace = (scenario.run.trainee_speed if speed is None else speed) if trainee else None
    if pace is not None:
        plan = paced(plan, pace, engine.settings.op_delay_ms)
        # Before the submit: a bulk that set-up executes must not run a single operation before the trainee
        # starts it (its run screen and brief are not on screen yet).
        engine.presenter.set(paused=True)
    engine.faults.set(plan)
    paused = await _paused_bulks(engine, principal, scenario, seed)
    spec, ref = KINDS[scenario.bulk.kind], scenario.setup.idempotency_ref
    if ref is not None:
        # Unique per set-up: a pack played again on the same simulator must not get its old bulk back.
        ref = f"{ref}-{secrets.token_hex(4)}"
    created = await engine.submit(principal, spec, items, ref)
    bulk_id = created.body["bulkId"]
    extra: dict[str, Any] = {"pausedBulkIds": paused} if paused else {}
    if ended:
        extra["cancelledBulkIds"] = ended
    if ref is not None:
        extra["idempotencyRef"] = ref
    if scenario.setup.replay:  # the same ref and body again: §4.1 answers the original 201, creates nothing
        replay = await engine.submit(principal, spec, items, ref)
        assert replay.replay and replay.body["bulkId"] == bulk_id, replay.body
        extra["replayBulkId"] = replay.body["bulkId"]
    if scenario.setup.duplicate:  # the same body under a new ref: a second bulk, left SUBMITTED
        duplicate = await engine.submit(principal, spec, items, f"{ref}-retry")
        extra["duplicateBulkId"] = duplicate.body["bulkId"]
    move = scenario.run.move if trainee else None
    if move is not None:
        engine.presenter.hold_at(str(bulk_id), move[1])
    run_now = (not scenario.execute.by_client) if execute is None else execute
    refused: str | None = None
    if run_now:
        try:
            await engine.execute(
                principal, bulk_id, BulkProcessExecute.model_validate(scenario.execute.body())
            )
        except Conflict as exc:
            # The bulk exists now (e.g. DUPLICATE_OPERATION_TYPE: another transfers bulk is running), so the
            # client gets its id and the reason, and may execute it later itself.
            run_now, refused = False, exc.code
    result: dict[str, Any] = {
        "bulkId": bulk_id,
        "scenario": scenario.name,
        "title": scenario.title,
        "seed": seed,
        "identity": identity,
        "kind": scenario.bulk.kind.value,
        "operationCount": len(items),
        "executed": run_now,
        "execute": scenario.execute.body(),
    }
    if refused is not None:
        result["executeRefused"] = refused
    if pace is not None:
        result["waiting"] = True
        result["speed"] = pace
        result["move"] = None if move is None else {"action": move[0], "operation": move[1]}
        result["presenter"] = engine.presenter.describe()
    return {**result, **extra}


async def _end_earlier_runs(engine: Engine, principal: Principal) -> list[str]:
    """Cancel the identity's bulks an earlier play left RUNNING or PAUSED (a trainee moved on to another
    ticket before the run ended, or it waits at a hold): they kept the new pack's bulk from executing
    (``DUPLICATE_OPERATION_TYPE``), and playing the world ran the old bulk instead. Returns their ids."""
    ended = []
    for bulk_id in engine.active_bulk_ids(principal.identity.id):
        try:
            await engine.cancel(principal, bulk_id)
        except Conflict:  # it ended meanwhile
            continue
        ended.append(bulk_id)
    return ended


def _unused_emails(engine: Engine, principal: Principal, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` with each ``requestBody.email`` made one no user of the programme has: as generated if none
    is taken, else all with the first play number (``.p2``, ``.p3``…) that frees every one of them. Items
    without an email (every kind but users) come back as they are."""
    bodies = [body for item in items if isinstance(body := item.get("requestBody"), dict) and "email" in body]
    emails = [body["email"] for body in bodies]
    programme = principal.programme.id

    def free(tag: str) -> bool:
        return all(engine.world.user_by_email(programme, _tagged(email, tag)) is None for email in emails)

    if not emails or free(""):
        return items
    play = 2
    while not free(f".p{play}"):
        play += 1
    for body in bodies:
        body["email"] = _tagged(body["email"], f".p{play}")
    return items


def _tagged(email: str, tag: str) -> str:
    local, at, domain = email.rpartition("@")
    return f"{local}{tag}{at}{domain}"


async def _paused_bulks(engine: Engine, principal: Principal, scenario: Scenario, seed: int) -> list[str]:
    """``[[setup.paused_bulks]]``: each submitted, executed and paused at once (the operation in flight
    finishes first, §5.3), so it stays PAUSED and counts towards the identity's active bulks (§3.8). One
    that cannot be (a bulk of its kind is already active, say from an earlier play of the pack) is left as
    it is."""
    out = []
    for bulk in scenario.setup.paused_bulks:
        items = generate_bulk_items(bulk, seed, f"scenario {scenario.name}")
        created = await engine.submit(principal, KINDS[bulk.kind], items, None)
        bulk_id = created.body["bulkId"]
        try:
            await engine.execute(principal, bulk_id, BulkProcessExecute.model_validate({}))
            await engine.pause(principal, bulk_id)
        except Conflict:
            continue
        out.append(bulk_id)
    return out


__all__ = ["DEFAULT_IDENTITY", "demo_principal", "setup_scenario"]
