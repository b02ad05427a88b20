"""The control API ``/_sim`` behind a token: open on a plain loopback bind as before; a token given, or a bind
beyond loopback, makes every route demand ``Authorization: Bearer <token>`` (401 otherwise); no ``/_sim``
answer shows a secret; ``SimControl`` and ``bulkdash --sim`` carry the token."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bulkdash.cli import build_parser
from bulkdash.cli.dashboard import connector_from_args
from bulkdash.session import Session
from bulkdash.simctl import SimControl, SimControlError
from simulator.http.control import REDACTED, Control
from simulator.server import Simulator, start_embedded
from simulator.settings import is_loopback
from tests.conftest import wait_for
from tests.simulator.helpers import free_port, login, sim_settings, start_sim_process, stop_process, transfer

TOKEN = "ctl-token-for-tests"
WEBHOOKS_KEY = "sim-webhooks-key-P1"


def _paths(sim: Simulator) -> list[tuple[str, str]]:
    """(method, concrete path) of every control route."""
    control = Control(sim.engine, sim.limiter, sim.dispatcher)
    out = []
    for route in control.routes():
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        out += [(m, "/_sim" + path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return out


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[tuple[Simulator, httpx.AsyncClient]]:
    """A simulator on loopback started with an explicit control token."""
    sim, server = await start_embedded(sim_settings(tmp_path, control_token=SecretStr(TOKEN)))
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        yield sim, client
    await server.stop()


async def test_an_explicit_token_is_required_on_every_route_even_on_loopback(
    guarded: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = guarded
    for header in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}, {"x-other": TOKEN}):
        for method, path in _paths(sim):
            resp = await client.request(method, path, headers=header)
            assert resp.status_code == 401, (method, path, header)
            assert resp.json()["code"] == "UNAUTHORIZED" and "Bearer" in resp.json()["message"]
            assert TOKEN not in resp.text
    ok = await client.get("/_sim/config", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert (await client.get("/_sim/config", headers={"authorization": f"bearer {TOKEN}"})).status_code == 200
    weird = await client.get("/_sim/config", headers={"authorization": "Bearer \u00e9t\u00e9".encode()})
    assert weird.status_code == 401  # a non-ASCII value is refused, not a 500


async def test_a_plain_loopback_bind_stays_open(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_sim/config")).status_code == 200


async def test_beyond_loopback_a_token_is_required_even_when_none_was_given(tmp_path: Path) -> None:
    sim = Simulator(sim_settings(tmp_path, host="0.0.0.0"))  # not served: requests go through ASGI
    await sim.start()
    try:
        transport = httpx.ASGITransport(app=sim.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            for method, path in _paths(sim):
                assert (await client.request(method, path)).status_code == 401, (method, path)
    finally:
        await sim.stop()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("myhost.example", False)],
)  # fmt: skip
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


async def test_no_control_answer_shows_a_secret(tmp_path: Path) -> None:
    settings = sim_settings(tmp_path, webhook_base_url_p1="http://hook:s3cr3t-pw@127.0.0.1:9/hooks")
    _, server = await start_embedded(settings)
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
            alice = await login(client)
            bulk_id = await alice.submit([transfer(1)])
            assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
            events = await wait_for(
                lambda: client.get("/_sim/webhooks", params={"bulkId": bulk_id}),
                lambda r: any(e["body"].get("status") == "COMPLETED" for e in r.json()),
            )
            bulk_events = [e for e in events.json() if "webhooks-key" in e["headers"]]
            assert bulk_events and all(e["headers"]["webhooks-key"] == REDACTED for e in bulk_events)
            answers = [
                events,
                await client.get("/_sim/webhooks"),
                await client.get("/_sim/config"),
                await client.get("/_sim/world/1001"),
                await client.get("/_sim/presenter"),
                await client.get("/_sim/faults"),
            ]
            for answer in answers:
                assert answer.status_code == 200
                for secret in (WEBHOOKS_KEY, "s3cr3t-pw", alice.token, "Passw0rd!Sim", "pbkdf2"):
                    assert secret not in answer.text, (answer.url, secret)
            assert REDACTED in answers[2].json()["webhookBaseUrl"]["P1"]
    finally:
        await server.stop()


async def test_simcontrol_sends_the_token(guarded: tuple[Simulator, httpx.AsyncClient]) -> None:
    _, client = guarded
    root = str(client.base_url)
    async with SimControl(root) as anonymous:
        with pytest.raises(SimControlError, match="requires a control token") as refused:
            await anonymous.presenter()
        assert refused.value.status == 401
    async with SimControl(root, token="wrong") as wrong:
        with pytest.raises(SimControlError, match="refused the control token") as refused:
            await wrong.presenter()
        assert "wrong" not in str(refused.value)
    async with SimControl(root, token=TOKEN) as ctl:
        assert (await ctl.presenter())["paused"] is False


async def test_bulkdash_sim_token_reaches_the_control_client(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = [
        "--url",
        "http://127.0.0.1:1/multi",
        "--api-key",
        "k",
        "--token",
        "t",
        "--sim",
        "http://127.0.0.1:1",
    ]
    seen: dict[str, object] = {}

    async def fake_remote(url: str, api_key: str, **kwargs: object) -> object:
        seen.update(kwargs)
        return object()

    monkeypatch.setattr(Session, "remote", fake_remote)
    await connector_from_args(build_parser().parse_args([*argv, "--sim-token", TOKEN]))()
    assert seen["sim_token"] == TOKEN
    monkeypatch.setenv("BULKDASH_SIM_TOKEN", "from-env")
    await connector_from_args(build_parser().parse_args(argv))()
    assert seen["sim_token"] == "from-env"


async def test_a_session_passes_its_sim_token_to_simcontrol(
    guarded: tuple[Simulator, httpx.AsyncClient],
) -> None:
    _, client = guarded
    root = str(client.base_url)
    session = await Session.remote(
        root + "/multi", "sim-api-key-P1", token="t", sim_root=root, sim_token=TOKEN
    )
    try:
        ctl = session.sim_control()
        assert ctl is not None and (await ctl.presenter())["speed"] == 1.0
    finally:
        await session.close()


def read_banner(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> str:
    """What ``bulkdash-sim serve`` printed up to the end of its banner (printed once the database is open)."""
    assert proc.stdout is not None
    fd, out, deadline = proc.stdout.fileno(), b"", time.monotonic() + timeout
    while b"Press Ctrl-C" not in out:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no banner within {timeout}s: {out!r}"
        chunk = os.read(fd, 4096)
        assert chunk, f"the simulator ended: {out!r}"
        out += chunk
    return out.decode()


@pytest.mark.slow
async def test_serve_beyond_loopback_warns_and_prints_a_generated_token(tmp_path: Path) -> None:
    port = free_port()
    proc = start_sim_process(tmp_path / "sim.db", port, "--host", "0.0.0.0", stdout=subprocess.PIPE)
    try:
        banner = read_banner(proc)
        assert banner.startswith("WARNING: listening on 0.0.0.0, beyond loopback")
        token = re.search(r"^  control token  (\S+)$", banner, re.M)
        assert token is not None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            refused = await wait_for(lambda: _get_config(client, None), lambda r: r is not None)
            assert refused is not None and refused.status_code == 401
            ok = await _get_config(client, token.group(1))
            assert ok is not None and ok.status_code == 200
    finally:
        stop_process(proc)


async def _get_config(client: httpx.AsyncClient, token: str | None) -> httpx.Response | None:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        return await client.get("/_sim/config", headers=headers)
    except httpx.TransportError:
        return None


@pytest.mark.slow
def test_a_given_token_is_not_printed(tmp_path: Path) -> None:
    proc = start_sim_process(
        tmp_path / "sim.db", free_port(), env={"SIM_CONTROL_TOKEN": TOKEN}, stdout=subprocess.PIPE
    )
    try:
        banner = read_banner(proc)
        assert "control token  as given" in banner and TOKEN not in banner
        assert "WARNING" not in banner  # loopback
    finally:
        stop_process(proc)


async def test_the_embedded_simulator_hands_its_token_to_the_dashboard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bulkdash.session import EmbeddedOptions

    monkeypatch.setenv("SIM_CONTROL_TOKEN", TOKEN)  # e.g. left in the shell that starts `bulkdash`
    session = await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0))
    try:
        ctl = session.sim_control()
        assert ctl is not None and (await ctl.presenter())["paused"] is False
    finally:
        await session.close()
