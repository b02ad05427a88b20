"""An async client of Weavr's bulk-process API (httpx; no Textual): typed results, Weavr errors made readable.

Every call is counted against a ``RequestBudget`` and reported to ``on_call`` (the dashboard's API-call log
and delivery timeline). Responses are parsed with the tolerant wire models of ``bulkdash.contract.models``, so
unknown fields and enum values from a newer server are kept, not fatal.

Behaviour on failure (kept deliberately small):

* every call has a timeout;
* idempotent calls (GETs, and POSTs carrying an ``idempotency-ref``) are retried with jittered exponential
  back-off on connection errors, timeouts and 503; any other POST is never retried automatically, since the
  first try may have worked;
* a 429 whose ``x-ratelimit-reset`` is short is waited out and retried once, whatever the method (nothing
  happened: the server refused it first); a long one is an ``ApiError``;
* a 401 on a client that logged in with a password re-logs in once and retries the request once.

Every call has a :class:`~bulkdash.api.budget.Priority`. ``INTERACTIVE`` (the default) fails at once with
``BudgetExhausted`` when the budget is spent; ``BACKGROUND`` (reports, exports, prefetch) waits for its share
of the budget instead — and waits out a 429 too — telling ``on_wait`` how long, so it completes by pacing
itself and never takes the reserve the dashboard's polling needs.

``client.link`` says how the last exchange went, for the status bar: connected, waiting for the request
budget, rate limited by the server, server error, or unreachable — with ``retry_at``, a deadline on the
budget's clock, so a "retrying in N s" can count down (``link.retry_in_s()``).

``CallRecord`` keeps what is needed to replay a call as ``curl`` (:func:`to_curl`), with secrets redacted.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import random
import shlex
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import ValidationError

from bulkdash.api.budget import BudgetExhausted, Priority, RequestBudget
from bulkdash.contract import refusals
from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.models import (
    BulkProcessDetails,
    BulkProcessesPaged,
    BulkProcessOperationsPaged,
    BulkSubmissionCreated,
    LoginWithPasswordResponse,
)


def _seg(bulk_id: str) -> str:
    """A bulk id as one path segment: Weavr's schema puts no pattern on ids, so one holding ``/``, ``?`` or
    ``..`` must not reach another path."""
    return quote(str(bulk_id), safe="")


@dataclass(slots=True)
class CallRecord:
    at_ms: int
    method: str
    path: str
    status: int | None  # None: no response (network error)
    duration_ms: float
    request_ref: str | None
    error: str | None = None
    url: str = ""  # full URL with the query string
    headers: dict[str, str] = field(default_factory=dict)  # as sent, secrets replaced by ``***``
    body: str | None = None  # small request bodies only, secret fields replaced by ``***``
    attempt: int = 1  # 2+: an automatic retry


#: Header values never kept in a ``CallRecord`` (nor shown, nor exported).
SECRET_HEADERS = frozenset({"api-key", "authorization", "webhooks-key"})
#: JSON body keys whose values are replaced by ``***`` (the login password, mostly).
SECRET_BODY_KEYS = frozenset({"password", "token", "apikey", "api_key", "api-key", "secret"})
MAX_RECORDED_BODY = 4096  # bulk submissions can be megabytes; the log keeps only small bodies


def redact_header(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, rest = value.partition(" ")
    return f"{scheme} ***" if rest and name.lower() == "authorization" else "***"


def redact_url(url: str) -> str:
    """``url`` with the value of any query parameter named like a secret (``token``, ``api_key``...) as
    ``***``. The Multi API puts no secret in a URL; this keeps it so if a caller ever does."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(name.lower() in SECRET_BODY_KEYS for name, _ in pairs):
        return url  # as sent, byte for byte
    query = urlencode([(n, "***" if n.lower() in SECRET_BODY_KEYS else v) for n, v in pairs], safe="*")
    return urlunsplit(parts._replace(query=query))


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if str(k).lower() in SECRET_BODY_KEYS else _redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def _recorded_body(content: bytes) -> str | None:
    if not content:
        return None
    if len(content) > MAX_RECORDED_BODY:
        return f"<{len(content)} bytes, not kept>"
    try:
        return jsonlib.dumps(_redact_json(jsonlib.loads(content)), separators=(",", ":"))
    except ValueError:
        return "<non-JSON body, not kept>"  # could hold anything: never echo it


def to_curl(record: CallRecord) -> str:
    """The call as a ``curl`` command to paste into a terminal or a support ticket; secrets stay ``***``."""
    parts = ["curl", "-X", record.method, shlex.quote(record.url or record.path)]
    for name, value in record.headers.items():
        parts += ["-H", shlex.quote(f"{name}: {redact_header(name, value)}")]
    if record.body is not None and not record.body.startswith("<"):
        parts += ["--data-raw", shlex.quote(record.body)]
    return " ".join(parts)


class ApiError(Exception):
    """A request that did not succeed, described the way a person (and a support ticket) needs it."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        code: str | None = None,
        request_ref: str | None = None,
        body: Any = None,
        retry_after_s: float | None = None,
        retry_at: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.request_ref = request_ref
        self.body = body
        self.retry_after_s = retry_after_s
        #: When trying again makes sense (a 429's reset), on the client's budget clock: a deadline.
        self.retry_at = retry_at

    def __str__(self) -> str:
        ref = f" (request-ref {self.request_ref})" if self.request_ref else ""
        return f"{self.message}{ref}"


def describe_error(
    status: int, body: Any, *, retry_after_s: float | None = None, login: bool = False
) -> tuple[str, str | None]:
    """(message, code) from a Weavr error body: ``errorCode``, ``syntaxErrors``, or ``code``/``message``, as
    the sentence of ``bulkdash.contract.refusals`` (what it means, what to do, the code in brackets).
    ``login``: the answer was to a login, where a bare 401/403 is about the credentials."""
    return refusals.answer(status, body, retry_after_s=retry_after_s, login=login)


class LinkState(StrEnum):
    """How the last exchange with the server went, in the words the status bar uses."""

    CONNECTING = "connecting"  # nothing sent yet
    CONNECTED = "connected"  # the server answered (a 4xx is an answer too)
    WAITING_FOR_BUDGET = "waiting for the request budget"  # our own allowance, nothing was sent
    RATE_LIMITED = "rate limited"  # the server answered 429
    SERVER_ERROR = "server error"  # the server answered 5xx
    UNREACHABLE = "unreachable"  # no answer: connection refused, DNS, timeout


@dataclass(slots=True)
class Link:
    """The client's view of its connection. ``retry_at`` (budget clock) is when a request may go again, for
    the states that know it (waiting for the budget, rate limited); None otherwise."""

    clock: Callable[[], float]
    state: LinkState = LinkState.CONNECTING
    reason: str | None = None
    retry_at: float | None = None
    #: Called when ``state`` changes (not on every request).
    on_change: list[Callable[[Link], None]] = field(default_factory=list)

    def retry_in_s(self) -> float | None:
        """Seconds until ``retry_at`` now — read it at each redraw, it counts down."""
        return None if self.retry_at is None else max(0.0, self.retry_at - self.clock())

    def set(self, state: LinkState, reason: str | None = None, retry_at: float | None = None) -> None:
        changed = state is not self.state
        self.state, self.reason, self.retry_at = state, reason, retry_at
        if changed:
            for callback in list(self.on_change):
                callback(self)


#: How many 429s a background request waits out before it gives up (each wait is the server's reset).
MAX_BACKGROUND_429 = 5


class WeavrClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        token: str | None = None,
        *,
        timeout_s: float = 10.0,
        budget: RequestBudget | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_attempts: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        max_429_wait_s: float = 5.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.token = token
        self.budget = budget or RequestBudget()
        self.on_call = on_call
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_429_wait_s = max_429_wait_s
        self._sleep = sleep  # injectable, so tests of retries take no time
        self._rand = rand
        self._credentials: tuple[str, str] | None = None  # set by ``login``: lets a 401 renew the token
        self._relogin_lock = asyncio.Lock()
        self.link = Link(self.budget.clock)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(timeout_s), transport=transport, trust_env=False
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- transport ----------------------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, base·2^(attempt-1)], capped, so retrying clients do not stampede."""
        return self._rand() * min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        priority: Priority = Priority.INTERACTIVE,
        on_wait: Callable[[float], None] | None = None,
    ) -> httpx.Response:
        extra = headers or {}
        # Only idempotent calls may be repeated: a POST without idempotency-ref may have worked the first
        # time (the answer was lost, not the request), and repeating it would create a second bulk.
        retryable = method == "GET" or any(k.lower() == "idempotency-ref" for k in extra)
        background = priority is Priority.BACKGROUND
        attempt, waited_429, renewed = 0, 0, False
        while True:
            attempt += 1
            token_used = self.token if auth else None
            try:
                resp = await self._send(
                    method, path, json, params, extra, token_used, attempt, priority=priority, on_wait=on_wait
                )
            except ApiError as exc:
                if exc.status is None and retryable and attempt < self.max_attempts:
                    await self._sleep(self._backoff(attempt))
                    continue
                raise
            status = resp.status_code
            ref = resp.headers.get("request-ref")
            if status == 503 and retryable and attempt < self.max_attempts:
                await self._sleep(self._backoff(attempt))
                continue
            if status == 429:
                reset = _float(resp.headers.get("x-ratelimit-reset"))
                wait = reset if reset is not None else 60.0
                self.budget.note_429(wait)
                retry_at = self.budget.blocked_until
                if retryable and background and waited_429 < MAX_BACKGROUND_429:
                    # Background work paces itself: the next _send waits for the budget, which the 429 now
                    # blocks until its reset (reported through on_wait like any other wait).
                    waited_429 += 1
                    continue
                # Any method: a 429 is a refusal before anything happened, so repeating even a plain POST
                # (execute, pause…) cannot do it twice. Only GETs and idempotent POSTs were, and the first
                # execute under the throttle failed where the README promised one wait (a user's trial).
                if not waited_429 and wait <= self.max_429_wait_s:
                    waited_429 = 1
                    await self._sleep(wait + 0.05)  # a hair past the reset, so the budget lets us through
                    continue
                limit = resp.headers.get("x-ratelimit-limit", "")
                message = refusals.rate_limited(limit.split(",")[0].strip() or None, wait)
                self.link.set(LinkState.RATE_LIMITED, message, retry_at)
                raise ApiError(429, message, request_ref=ref, retry_after_s=reset, retry_at=retry_at)
            if status == 401 and auth and not renewed and self._credentials and path != "/logout":
                # The request was refused before anything happened, so repeating it (even a POST) is safe.
                renewed = True
                await self._renew(token_used)
                continue
            if status >= 400:
                body = _json_or_none(resp)
                # A 503 of a store that cannot write says when to come back (Retry-After, seconds).
                retry_after = _float(resp.headers.get("retry-after")) if status >= 500 else None
                message, code = describe_error(
                    status, body, retry_after_s=retry_after, login=path == "/login_with_password"
                )
                self._note_answer(status, message)
                raise ApiError(
                    status, message, code=code, request_ref=ref, body=body, retry_after_s=retry_after
                )
            self._note_answer(status, None)
            return resp

    def _note_answer(self, status: int, message: str | None) -> None:
        """The server answered: reachable, though a 5xx says it is not well."""
        if status >= 500:
            self.link.set(LinkState.SERVER_ERROR, message)
        else:
            self.link.set(LinkState.CONNECTED)

    async def _await_budget(self, priority: Priority, on_wait: Callable[[float], None] | None) -> None:
        """Interactive: the budget allows one more request now, or ``BudgetExhausted`` (the link says we are
        waiting for the budget, until when). Background: wait until it allows one."""
        if priority is Priority.BACKGROUND:

            def waiting(exc: BudgetExhausted) -> None:
                if on_wait is not None:
                    on_wait(exc.wait_s)

            await self.budget.acquire(priority, self._sleep, waiting)
            return
        try:
            self.budget.check(priority)
        except BudgetExhausted as exc:
            state = LinkState.RATE_LIMITED if exc.server else LinkState.WAITING_FOR_BUDGET
            self.link.set(state, exc.reason, exc.until)
            raise

    async def _renew(self, stale_token: str | None) -> None:
        """Log in again, once for all the calls that met the same expired token at the same time."""
        async with self._relogin_lock:
            if self.token != stale_token or self._credentials is None:
                return  # another call renewed it meanwhile
            await self.login(*self._credentials)

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        extra: dict[str, str],
        token: str | None,
        attempt: int,
        *,
        priority: Priority = Priority.INTERACTIVE,
        on_wait: Callable[[float], None] | None = None,
    ) -> httpx.Response:
        """One HTTP exchange: budget, timeout, call record; transport failures become ``ApiError(None)``."""
        await self._await_budget(priority, on_wait)
        # From here to ``spend`` nothing awaits: no other task can take the slot the budget just allowed.
        h = {"api-key": self.api_key, **extra}
        if token:
            h["authorization"] = f"Bearer {token}"
        request = self._http.build_request(method, path, json=json, params=params, headers=h)
        recorded = {k: redact_header(k, v) for k, v in h.items()}
        if json is not None:
            recorded["content-type"] = "application/json"
        info = (redact_url(str(request.url)), recorded, _recorded_body(request.content), attempt)
        started = time.perf_counter()
        self.budget.spend(priority)
        try:
            resp = await self._http.send(request)
        except httpx.TimeoutException as exc:
            self._record(method, path, None, started, None, "timeout", info)
            raise self._unreachable(f"No answer from {self.base_url} (timeout)") from exc
        except httpx.HTTPError as exc:
            self._record(method, path, None, started, None, type(exc).__name__, info)
            raise self._unreachable(f"Cannot reach {self.base_url}: {exc or type(exc).__name__}") from exc
        self._record(method, path, resp.status_code, started, resp.headers.get("request-ref"), None, info)
        return resp

    def _unreachable(self, message: str) -> ApiError:
        self.link.set(LinkState.UNREACHABLE, message)
        return ApiError(None, message)

    def _record(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        ref: str | None,
        error: str | None,
        info: tuple[str, dict[str, str], str | None, int],
    ) -> None:
        if self.on_call is not None:
            url, headers, body, attempt = info
            self.on_call(
                CallRecord(
                    int(time.time() * 1000),
                    method,
                    path,
                    status,
                    (time.perf_counter() - started) * 1000,
                    ref,
                    error,
                    url=url,
                    headers=headers,
                    body=body,
                    attempt=attempt,
                )
            )

    @staticmethod
    def _parse(model: Any, resp: httpx.Response) -> Any:
        try:
            return model.model_validate(resp.json())
        except (ValueError, ValidationError) as exc:
            # Without the input values: a login answer holds the token, which must not reach the screen.
            detail = (
                "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                    for e in exc.errors(include_input=False)
                )
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            raise ApiError(
                resp.status_code,
                f"Unexpected response body from the server: {detail}"[:300],
                request_ref=resp.headers.get("request-ref"),
            ) from exc

    # --- endpoints ----------------------------------------------------------------------------------
    async def login(self, email: str, password: str) -> LoginWithPasswordResponse:
        resp = await self._request(
            "POST", "/login_with_password", json={"email": email, "password": {"value": password}}, auth=False
        )
        result: LoginWithPasswordResponse = self._parse(LoginWithPasswordResponse, resp)
        self.token = result.token
        self._credentials = (email, password)  # kept in memory only, to renew an expired token
        return result

    async def logout(self) -> None:
        await self._request("POST", "/logout")
        self.token = None
        self._credentials = None  # a deliberate logout: do not log back in behind the user's back

    # The reads take ``priority`` (and, for background, ``on_wait``: seconds about to be spent waiting for the
    # budget); the user's actions (submit, execute, pause...) are always interactive.
    async def list_bulks(
        self,
        offset: int = 0,
        limit: int = 100,
        status: str | None = None,
        *,
        priority: Priority = Priority.INTERACTIVE,
        on_wait: Callable[[float], None] | None = None,
    ) -> BulkProcessesPaged:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if status:
            params["status"] = status
        resp = await self._request("GET", "/bulks", params=params, priority=priority, on_wait=on_wait)
        return self._parse(BulkProcessesPaged, resp)

    async def get_bulk(
        self,
        bulk_id: str,
        *,
        priority: Priority = Priority.INTERACTIVE,
        on_wait: Callable[[float], None] | None = None,
    ) -> BulkProcessDetails:
        resp = await self._request("GET", f"/bulks/{_seg(bulk_id)}", priority=priority, on_wait=on_wait)
        return self._parse(BulkProcessDetails, resp)

    async def list_operations(
        self,
        bulk_id: str,
        offset: int = 0,
        limit: int = 100,
        status: str | None = None,
        sequence: int | None = None,
        *,
        priority: Priority = Priority.INTERACTIVE,
        on_wait: Callable[[float], None] | None = None,
    ) -> BulkProcessOperationsPaged:
        params: dict[str, Any] = {"offset": offset, "limit": min(limit, 100)}
        if status:
            params["status"] = status
        if sequence is not None:
            params["sequence"] = sequence
        path = f"/bulks/{_seg(bulk_id)}/operations"
        resp = await self._request("GET", path, params=params, priority=priority, on_wait=on_wait)
        return self._parse(BulkProcessOperationsPaged, resp)

    async def submit(
        self, kind: OperationKind, items: list[dict[str, Any]], idempotency_ref: str | None = None
    ) -> BulkSubmissionCreated:
        spec = KINDS[kind]
        # Always an idempotency-ref, so a submission whose answer was lost can be retried without creating
        # a second bulk; the same ref is reused by every retry of this call.
        headers = {"idempotency-ref": idempotency_ref or str(uuid.uuid4())}
        resp = await self._request(spec.method, spec.bulk_path, json=items, headers=headers)
        return self._parse(BulkSubmissionCreated, resp)

    async def execute(
        self, bulk_id: str, mode: str | None = None, webhook_interval: int | None = None
    ) -> None:
        body: dict[str, Any] = {}
        if mode:
            body["mode"] = mode
        if webhook_interval is not None:
            body["webhookInterval"] = webhook_interval
        await self._request("POST", f"/bulks/{_seg(bulk_id)}/execute", json=body)

    async def pause(self, bulk_id: str) -> None:
        await self._request("POST", f"/bulks/{_seg(bulk_id)}/pause")

    async def resume(self, bulk_id: str) -> None:
        await self._request("POST", f"/bulks/{_seg(bulk_id)}/resume")

    async def cancel(self, bulk_id: str) -> None:
        await self._request("POST", f"/bulks/{_seg(bulk_id)}/cancel")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _json_or_none(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None
