"""Failure modes on demand: fault plans applied per identity or globally, deterministic for their seed.

``FaultController`` (one per engine, ``engine.faults``) holds the active plans — at most one global plan
and one per identity; an identity with its own plan uses only that one — and exposes one layer per concern,
each ``None`` while no active plan uses it, so the hot paths pay one attribute test and nothing more:

* ``operations`` (:mod:`.operations`) — asked by the engine before each operation;
* ``api`` (:mod:`.api`) — asked by ``WeavrEdge`` and ``Api.guard`` for every ``/multi`` request;
* ``webhooks`` (:mod:`.webhooks`) — asked by the dispatcher for every delivery attempt.

A plan's ``[speed]`` section changes the simulator-wide op delay and webhook retry scale while it is
active; clearing the plan puts back the values it replaced. Plans are data (:mod:`.plan`): set and read at
runtime through ``/_sim/faults``, or at start with ``bulkdash-sim serve --faults FILE``. Plans are
configuration, like ``opDelayMs``: ``POST /_sim/reset`` keeps them (``DELETE /_sim/faults`` drops them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulator.faults import api as api_faults
from simulator.faults import operations as op_faults
from simulator.faults import webhooks as webhook_faults
from simulator.faults.plan import FaultPlan, PlanError, load_plan, parse_plan
from simulator.store.store import WriteBatch

if TYPE_CHECKING:
    from simulator.engine.engine import Engine

_SPEED_FIELDS = ("op_delay_ms", "webhook_retry_scale")


class FaultController:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.clock = clock  # seconds, for windows and token buckets; tests may inject their own
        self.plans: dict[str | None, FaultPlan] = {}
        self._order: list[str | None] = []  # scopes in the order their plans were set (newest last)
        self._api: dict[str | None, api_faults.ApiPlanFaults | None] = {}
        self._hooks: dict[str | None, webhook_faults.WebhookPlanFaults | None] = {}
        self._events: dict[str, webhook_faults.EventFaults] = {}
        self._speed_before: dict[str, Any] = {}  # settings values the plans' speed sections replaced
        self.operations: op_faults.OperationLayer | None = None
        self.api: api_faults.ApiLayer | None = None
        self.webhooks: webhook_faults.WebhookLayer | None = None

    # --- setting and clearing -----------------------------------------------------------------------
    def set(self, plan: FaultPlan) -> None:
        """Activate ``plan`` for its scope (replacing any plan there); its windows start now."""
        if plan.identity is not None and plan.identity not in self.engine.world.identities:
            raise PlanError("plan", [("identity", f"unknown identity {plan.identity!r}")])
        scope = plan.identity
        now = self.clock()
        self.plans[scope] = plan
        if scope in self._order:
            self._order.remove(scope)
        self._order.append(scope)
        self._api[scope] = api_faults.compile_plan(plan, now)
        self._hooks[scope] = webhook_faults.compile_plan(plan, now)
        self._rebuild()

    def clear(self, identity: str | None = None, *, everything: bool = False) -> bool:
        """Drop the plan of one scope (or all plans); False when there was none."""
        scopes = list(self.plans) if everything else [identity]
        found = False
        for scope in scopes:
            if scope in self.plans:
                found = True
                del self.plans[scope]
                self._order.remove(scope)
                self._api.pop(scope, None)
                self._hooks.pop(scope, None)
        if everything:
            self._events.clear()
        self._rebuild()
        return found or everything

    def _rebuild(self) -> None:
        self.operations = op_faults.build_layer(self.plans)
        self.api = api_faults.build_layer(self._api, self.clock)
        if any(h is not None for h in self._hooks.values()):
            self.webhooks = webhook_faults.WebhookLayer(
                dict(self._hooks), self.clock, self._signing_keys, self._bulk_identity, self._events
            )
        else:
            self.webhooks = None
        self._apply_speed()

    def _apply_speed(self) -> None:
        """Each speed field takes the value of the newest plan that sets it, or goes back to its original."""
        settings = self.engine.settings
        for name in _SPEED_FIELDS:
            value = None
            for scope in reversed(self._order):
                speed = self.plans[scope].speed
                if speed is not None and getattr(speed, name) is not None:
                    value = getattr(speed, name)
                    break
            if value is not None:
                self._speed_before.setdefault(name, getattr(settings, name))
                setattr(settings, name, value)
            elif name in self._speed_before:
                setattr(settings, name, self._speed_before.pop(name))

    # --- helpers for the layers ---------------------------------------------------------------------
    def _signing_keys(self) -> list[str]:
        return [p.api_key for p in self.engine.world.programmes.values()]

    def _bulk_identity(self, bulk_id: str | None) -> str | None:
        if bulk_id is None or not bulk_id.isdigit():
            return None
        live = self.engine.bulks.get(int(bulk_id))
        return live.row.identity_id if live is not None else None

    def note_sealed(self, batch: WriteBatch) -> None:
        """Engine.on_sealed: let the webhook layer number the events about to be written to the outbox."""
        if self.webhooks is not None and batch.events:
            self.webhooks.note_sealed(batch)

    # --- reading ------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """``GET /_sim/faults``: the active plans, and the pace they leave the simulator at."""
        settings = self.engine.settings
        return {
            "active": bool(self.plans),
            "global": self.plans[None].to_json() if None in self.plans else None,
            "identities": {scope: p.to_json() for scope, p in self.plans.items() if scope is not None},
            "speed": {"opDelayMs": settings.op_delay_ms, "webhookRetryScale": settings.webhook_retry_scale},
        }


__all__ = ["FaultController", "FaultPlan", "PlanError", "load_plan", "parse_plan"]
