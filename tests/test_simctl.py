"""``bulkdash.simctl.SimControl`` against a real simulator on loopback, and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bulkdash.simctl import SimControl, SimControlError
from simulator.server import Simulator, start_embedded
from tests.conftest import wait_for
from tests.simulator.helpers import free_port, sim_settings


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Simulator, SimControl]]:
    simulator, server = await start_embedded(sim_settings(tmp_path))
    ctl = SimControl(server.url)
    try:
        yield simulator, ctl
    finally:
        await ctl.aclose()
        await server.stop()


@pytest.fixture
def ctl(served: tuple[Simulator, SimControl]) -> SimControl:
    return served[1]


async def test_scenarios_listing_one_pack_and_start(ctl: SimControl) -> None:
    packs = await ctl.scenarios()
    assert packs and all({"name", "title", "kind", "size"} <= set(p) for p in packs)
    name = packs[0]["name"]
    full = await ctl.scenario(name)
    assert full["name"] == name and "questions" in full
    started = await ctl.start_scenario(name, seed=7, execute=False)
    assert started["bulkId"] and started["scenario"] == name
    assert started["seed"] == 7 and started["executed"] is False


async def test_presenter_round_trip(served: tuple[Simulator, SimControl], ctl: SimControl) -> None:
    described = await ctl.presenter()
    assert described["paused"] is False and described["speed"] == 1.0
    described = await ctl.set_presenter(paused=True, speed=2.5)
    assert described["paused"] is True and described["speed"] == 2.5
    assert (await ctl.set_presenter(speed=5))["paused"] is True  # absent fields stay
    assert (await ctl.step())["stepsPending"] == 1  # nothing is running: the step waits for an operation
    assert (await ctl.fault_now())["faultPending"] is True
    await ctl.reset()
    described = await ctl.presenter()
    assert (described["paused"], described["speed"], described["faultPending"]) == (False, 1.0, False)
    assert served[0].engine.presenter.active is False


async def test_refusals_become_readable_errors(ctl: SimControl) -> None:
    with pytest.raises(SimControlError, match="WORLD_NOT_PAUSED") as conflict:
        await ctl.step()
    assert conflict.value.status == 409
    with pytest.raises(SimControlError, match="scenario 'no-such-pack' not found") as missing:
        await ctl.scenario("no-such-pack")
    assert missing.value.status == 404
    with pytest.raises(SimControlError, match="scenario 'no-such-pack' not found"):
        await ctl.start_scenario("no-such-pack")
    with pytest.raises(SimControlError, match=r"refused \(400\).*speed") as bad:
        await ctl.set_presenter(speed=50)
    assert bad.value.status == 400


async def test_unreachable_simulator() -> None:
    ctl = SimControl(f"http://127.0.0.1:{free_port()}", timeout=2)
    try:
        with pytest.raises(SimControlError, match="simulator unreachable") as err:
            await ctl.presenter()
        assert err.value.status is None
        with pytest.raises(SimControlError, match="simulator unreachable"):
            await ctl.reset()
    finally:
        await ctl.aclose()


async def test_timeout_is_an_error_not_an_httpx_exception() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
        ctl = SimControl("http://sim.test/", client=client)
        with pytest.raises(SimControlError, match="did not answer in time"):
            await ctl.scenarios()
        await ctl.aclose()  # a client passed in stays open
        assert not client.is_closed


async def test_a_non_json_answer_is_an_error() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(SimControlError, match="not JSON"):
            await SimControl("http://sim.test", client=client).presenter()


async def test_step_through_a_running_scenario(ctl: SimControl) -> None:
    await ctl.set_presenter(paused=True)
    name = (await ctl.scenarios())[0]["name"]
    started = await ctl.start_scenario(name, execute=True)
    assert started["executed"] is True
    await wait_for(ctl.presenter, lambda p: p["waiting"] == 1)
    await ctl.step()
    await wait_for(ctl.presenter, lambda p: p["waiting"] == 1 and p["stepsPending"] == 0)
    await ctl.reset()
