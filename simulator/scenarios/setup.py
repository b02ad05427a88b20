"""The set-up of a scenario on a running engine: apply its fault plan and speed, submit its bulk, and
execute it unless the scenario leaves that to the client.

Shared by ``POST /_sim/scenarios/{name}`` (a client such as the dashboard gets the bulk id back) and, through
that endpoint, by the headless ``bulkdash-sim scenario run``. It resets nothing and logs nobody in: the bulk
is submitted in-process for the root demo user of the identity (``alice`` for 1001), and the plan is scoped
to that identity so other identities on the same simulator are not disturbed.
"""

from __future__ import annotations

from typing import Any

from bulkdash.contract.kinds import KINDS
from bulkdash.contract.models import BulkProcessExecute
from simulator.engine.auth import Principal, permissions_of
from simulator.engine.engine import Engine
from simulator.errors import Conflict, NotFound
from simulator.scenarios import Scenario
from simulator.scenarios.items import generate_items

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


async def setup_scenario(
    engine: Engine,
    scenario: Scenario,
    *,
    seed: int | None = None,
    identity: str = DEFAULT_IDENTITY,
    execute: bool | None = None,
) -> dict[str, Any]:
    """Apply ``scenario`` for one run; returns ``{"bulkId", "scenario", "seed", "identity", "executed", …}``.

    Raises ``NotFound`` for an unknown identity, and the engine's ``Conflict`` / ``RequestInvalid`` as a
    submission over HTTP would (e.g. ``NO_CONFIG_FOUND`` for identity 1003).
    """
    seed = scenario.seed if seed is None else seed
    principal = demo_principal(engine, identity)
    items = generate_items(scenario, seed)
    engine.faults.set(scenario.plan(seed, identity))
    created = await engine.submit(principal, KINDS[scenario.bulk.kind], items, None)
    bulk_id = created.body["bulkId"]
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
    return result


__all__ = ["DEFAULT_IDENTITY", "demo_principal", "setup_scenario"]
