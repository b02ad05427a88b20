"""A small async client for the simulator's ``/_sim`` control API: scenario packs and presenter controls.

I/O only (httpx, no Textual): the dashboard's presenter panel calls it; so can scripts. Every failure —
the simulator unreachable, a timeout, a 4xx/5xx answer, a body that is not JSON — is a
:class:`SimControlError` with a message fit to show a person, never a raw httpx exception.

A simulator bound beyond loopback, or started with ``--control-token``, requires its control token on every
call: ``SimControl(root, token=...)`` sends it as ``Authorization: Bearer <token>`` (never in a message).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bulkdash.contract.presenter import PresenterHold, PresenterUpdate


class SimControlError(Exception):
    """A control call failed; ``str(error)`` is human readable. ``status`` is the HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _message(response: httpx.Response) -> str:
    """The most telling part of an error answer: its message, errorCode or code, else the raw text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "errorCode", "code"):
            value = body.get(key)
            if isinstance(value, str) and value:
                fields = body.get("syntaxErrors", {}).get("invalidFields") if key == "message" else None
                if isinstance(fields, list) and fields:
                    names = ", ".join(str(f.get("fieldName")) for f in fields if isinstance(f, dict))
                    return f"{value} ({names})"
                return value
    text = response.text.strip()
    return text[:200] if text else response.reason_phrase or "no details"


class SimControl:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        """``base_url`` is the simulator's root (e.g. ``http://127.0.0.1:8123``); routes live under ``/_sim``.
        ``token``: the simulator's control token, when it requires one. A ``client`` passed in is used as is
        and left open by :meth:`aclose`."""
        self.base_url = base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {token}"} if token else {}
        self._own = client is None
        self._http = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout), trust_env=False)

    async def aclose(self) -> None:
        if self._own:
            await self._http.aclose()

    async def __aenter__(self) -> SimControl:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # --- transport ----------------------------------------------------------------------------------
    async def _call(
        self, method: str, path: str, *, json: Any = None, what: str | None = None
    ) -> httpx.Response:
        url = f"{self.base_url}/_sim{path}"
        try:
            response = await self._http.request(method, url, json=json, headers=self._headers)
        except httpx.TimeoutException as exc:
            raise SimControlError(f"simulator did not answer in time ({method} {url})") from exc
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            raise SimControlError(f"simulator unreachable: {detail} ({self.base_url})") from exc
        if response.status_code == 404 and what is not None:
            raise SimControlError(f"{what} not found", 404)
        if response.status_code == 401:
            problem = "refused the control token" if self._headers else "requires a control token"
            raise SimControlError(f"the simulator's control API {problem} ({method} /_sim{path})", 401)
        if response.status_code >= 400:
            raise SimControlError(
                f"{method} /_sim{path} refused ({response.status_code}): {_message(response)}",
                response.status_code,
            )
        return response

    async def _json(self, method: str, path: str, *, json: Any = None, what: str | None = None) -> Any:
        response = await self._call(method, path, json=json, what=what)
        try:
            return response.json()
        except ValueError as exc:
            raise SimControlError(f"{method} /_sim{path}: the answer is not JSON") from exc

    # --- scenarios ----------------------------------------------------------------------------------
    async def scenarios(self) -> list[dict[str, Any]]:
        """The scenario packs: name, title, kind, size, mode, narrative."""
        return await self._json("GET", "/scenarios")

    async def scenario(self, name: str) -> dict[str, Any]:
        """One full pack, questions included."""
        return await self._json("GET", f"/scenarios/{quote(name, safe='')}", what=f"scenario {name!r}")

    async def start_scenario(
        self,
        name: str,
        *,
        seed: int | None = None,
        execute: bool | None = None,
        trainee: bool = False,
        speed: float | None = None,
    ) -> dict[str, Any]:
        """Apply the scenario and submit its bulk: ``{"bulkId", "scenario", "seed", "executed", …}``.

        ``trainee``: a person plays it — the world waits paused until they start it (``"waiting"``), holds at
        the pack's move (``"move"``) and plays at the pack's pace, or at ``speed``."""
        body: dict[str, Any] = {}
        if seed is not None:
            body["seed"] = seed
        if execute is not None:
            body["execute"] = execute
        if trainee:
            body["trainee"] = True
        if speed is not None:
            body["speed"] = speed
        return await self._json(
            "POST", f"/scenarios/{quote(name, safe='')}", json=body, what=f"scenario {name!r}"
        )

    async def clear_faults(self, identity: str | None = None) -> None:
        """``DELETE /_sim/faults``: the identity's plan (a scenario's), or every plan without one."""
        await self._call("DELETE", "/faults" + (f"?identity={quote(identity, safe='')}" if identity else ""))

    # --- presenter ----------------------------------------------------------------------------------
    async def presenter(self) -> dict[str, Any]:
        """``{"paused", "speed", "opDelayMs", "effectiveOpDelayMs", "faultPending", "waiting", …}``."""
        return await self._json("GET", "/presenter")

    async def set_presenter(
        self, *, paused: bool | None = None, speed: float | None = None
    ) -> dict[str, Any]:
        # The contract's field names; the simulator validates (its 400 names the field).
        body = PresenterUpdate.model_construct(paused=paused, speed=speed).model_dump(exclude_none=True)
        return await self._json("PUT", "/presenter", json=body)

    async def step(self) -> dict[str, Any]:
        """Run one more operation of the paused world (409 → error "… WORLD_NOT_PAUSED" when running)."""
        return await self._json("POST", "/presenter/step")

    async def fault_now(self) -> dict[str, Any]:
        return await self._json("POST", "/presenter/fault-now")

    async def hold(self, bulk_id: str, operation: int) -> dict[str, Any]:
        """Pause the world when ``bulk_id``'s operation ``operation`` is about to run (until acted on)."""
        body = PresenterHold.model_construct(bulkId=bulk_id, operation=operation).model_dump()
        return await self._json("POST", "/presenter/hold", json=body)

    async def clear_holds(self) -> dict[str, Any]:
        return await self._json("DELETE", "/presenter/hold")

    async def reset(self) -> None:
        """``POST /_sim/reset``: the seed world, no bulks, the presenter running at speed 1."""
        await self._call("POST", "/reset")

    async def send_webhooks_to(self, url: str, programme: str = "P1") -> None:
        """``PUT /_sim/config``: the programme's webhooks go to ``url`` (a dashboard's own receiver)."""
        await self._call("PUT", "/config", json={"webhookBaseUrl": {programme: url}})


__all__ = ["SimControl", "SimControlError"]
