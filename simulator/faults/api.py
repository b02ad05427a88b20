"""API-level faults: maintenance windows, 5xx on chosen endpoints, added latency, and a real token bucket.

Two call sites in ``simulator/http/app.py`` consult this layer, and only while some active plan has an
``[api]`` section (otherwise ``FaultController.api`` is ``None``):

* ``WeavrEdge`` (before routing) awaits :meth:`ApiLayer.before_request`: inside a maintenance window every
  ``/multi`` request is answered 503; otherwise matching requests are delayed, then a seeded ``rate`` of
  them is answered 500/503. Nothing behind the edge runs for a refused request, so a client may retry it.
* ``Api.guard`` / ``Api.login`` call :meth:`ApiLayer.throttle` where the real rate limiter runs (after the
  api-key check, §2.6): an empty bucket gives the same ``429`` with ``x-ratelimit-*`` headers.

The plan is picked by the caller's identity, read from the bearer token without renewing it; requests
without a (live) token — login — only see a global plan. Randomness comes from ``derive_rng`` streams made
when the plan was set, so a given sequence of requests meets the same faults on every run.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from simulator.errors import InternalError, ServiceUnavailable, SimError
from simulator.faults.plan import ApiFaults, FaultPlan, Latency, Throttle, derive_rng, endpoint_regex

if TYPE_CHECKING:
    from simulator.engine.engine import Engine

MULTI_PREFIX = "/multi"


def request_line(method: str, path: str) -> str:
    """``"GET /bulks/42"``: the method and the path under ``/multi``, as endpoint patterns see them."""
    if path.startswith(MULTI_PREFIX):
        path = path[len(MULTI_PREFIX) :] or "/"
    return f"{method.upper()} {path}"


def token_identity(engine: Engine, authorization: str | None) -> str | None:
    """The identity behind a bearer token, without renewing the token (a peek, not a login check)."""
    record = engine.tokens.peek(authorization)  # tokens are kept by digest (simulator/engine/auth.py)
    if record is None:
        return None
    user = engine.world.users.get(record.user_id)
    return user.identity_id if user is not None else None


class _Matcher:
    __slots__ = ("regexes",)

    def __init__(self, patterns: list[str]) -> None:
        self.regexes: list[re.Pattern[str]] | None = (
            None if any(p.strip() == "*" for p in patterns) else [endpoint_regex(p) for p in patterns]
        )

    def __call__(self, line: str) -> bool:
        return self.regexes is None or any(rx.match(line) for rx in self.regexes)


class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``rate`` per second; one request takes one token."""

    __slots__ = ("capacity", "last", "rate", "tokens")

    def __init__(self, capacity: int, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = float(capacity)
        self.last = now

    def take(self, now: float) -> float | None:
        """Take a token (None), or return the seconds until one will be there (the request is refused and
        takes nothing, like a 429 of the real limiter, §8)."""
        self.tokens = min(float(self.capacity), self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


class ApiPlanFaults:
    """The ``[api]`` section of one plan, with its state: buckets per api-key and seeded streams."""

    def __init__(self, api: ApiFaults, seed: int, activated_at: float) -> None:
        self.api = api
        self.activated_at = activated_at
        self.errors = [
            (_Matcher(rule.endpoints), rule.rate, rule.status, derive_rng(seed, "api-errors", i))
            for i, rule in enumerate(api.errors)
        ]
        self.latency: Latency | None = api.latency
        self.latency_match = _Matcher(api.latency.endpoints) if api.latency else None
        self.latency_rng = derive_rng(seed, "api-latency")
        self.throttle_spec: Throttle | None = api.throttle
        self.throttle_match = _Matcher(api.throttle.endpoints) if api.throttle else None
        self.buckets: dict[str, TokenBucket] = {}

    def in_maintenance(self, now: float) -> bool:
        elapsed = now - self.activated_at
        return any(w.contains(elapsed) for w in self.api.maintenance)

    def delay_s(self, line: str) -> float:
        spec = self.latency
        if spec is None or self.latency_match is None or not self.latency_match(line):
            return 0.0
        rng = self.latency_rng
        if spec.fixed_ms is not None:
            ms = float(spec.fixed_ms)
        elif spec.distribution == "uniform":
            ms = rng.uniform(spec.min_ms or 0.0, spec.max_ms or 0.0)
        elif spec.distribution == "exponential":
            ms = rng.expovariate(1 / (spec.mean_ms or 1.0))
        else:
            ms = rng.gauss(spec.mean_ms or 0.0, spec.stddev_ms or 0.0)
        return min(max(ms, 0.0), 60_000.0) / 1000

    def error_status(self, line: str) -> int | None:
        for match, rate, status, rng in self.errors:
            # Draw only for matching requests: the stream then depends on the client's calls alone.
            if match(line) and rng.random() < rate:
                return status
        return None

    def throttle(self, api_key: str, line: str, now: float) -> tuple[str, int] | None:
        spec = self.throttle_spec
        if spec is None or self.throttle_match is None or not self.throttle_match(line):
            return None
        bucket = self.buckets.get(api_key)
        if bucket is None:
            bucket = self.buckets[api_key] = TokenBucket(spec.capacity, spec.refill_per_s, now)
        wait = bucket.take(now)
        if wait is None:
            return None
        # §8's header shape: the limit hit, then every limit in force as <n>;w=<seconds>. A bucket's
        # "window" is the time it takes to refill completely; the reset is when the next token is there,
        # so a client that waits exactly x-ratelimit-reset seconds gets through.
        window = max(1, math.ceil(spec.capacity / spec.refill_per_s))
        return f"{spec.capacity}, {spec.capacity};w={window}", max(1, math.ceil(wait))


class ApiLayer:
    """The HTTP layer's entry point: picks the plan of the caller's identity (or the global plan)."""

    def __init__(self, by_scope: dict[str | None, ApiPlanFaults | None], clock: Callable[[], float]) -> None:
        self.by_scope = by_scope
        self.clock = clock

    def _for(self, identity: str | None) -> ApiPlanFaults | None:
        scope = identity if identity is not None and identity in self.by_scope else None
        return self.by_scope.get(scope)

    async def before_request(
        self, engine: Engine, method: str, path: str, authorization: str | None
    ) -> SimError | None:
        """WeavrEdge: the refusal that replaces the request (maintenance / injected 5xx), after any latency;
        the HTTP layer turns it into its response, as it does every ``SimError``."""
        faults = self._for(token_identity(engine, authorization))
        if faults is None:
            return None
        if faults.in_maintenance(self.clock()):
            return ServiceUnavailable()
        line = request_line(method, path)
        delay = faults.delay_s(line)
        if delay > 0:
            await asyncio.sleep(delay)
        status = faults.error_status(line)
        if status == 500:
            return InternalError()
        if status == 503:
            return ServiceUnavailable()
        return None

    def throttle(
        self, engine: Engine, api_key: str, method: str, path: str, authorization: str | None
    ) -> tuple[str, int] | None:
        """Api.guard: (``x-ratelimit-limit``, ``x-ratelimit-reset``) when the plan's bucket is empty."""
        faults = self._for(token_identity(engine, authorization))
        if faults is None:
            return None
        return faults.throttle(api_key, request_line(method, path), self.clock())


def compile_plan(plan: FaultPlan, activated_at: float) -> ApiPlanFaults | None:
    return ApiPlanFaults(plan.api, plan.seed, activated_at) if plan.api is not None else None


def build_layer(
    compiled: dict[str | None, ApiPlanFaults | None], clock: Callable[[], float]
) -> ApiLayer | None:
    """The layer for the active plans, or ``None`` when none has an ``[api]`` section."""
    if not any(c is not None for c in compiled.values()):
        return None
    return ApiLayer(dict(compiled), clock)


__all__ = ["ApiLayer", "ApiPlanFaults", "TokenBucket", "build_layer", "compile_plan", "request_line"]
