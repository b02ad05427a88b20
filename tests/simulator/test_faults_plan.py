"""Fault plans as data: TOML loading, errors naming file and field, /_sim/faults, speed, serve --faults."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import httpx
import pytest

from simulator import cli
from simulator.faults import PlanError, load_plan
from simulator.faults.plan import derive_rng
from simulator.server import Simulator
from tests.conftest import wait_for
from tests.simulator.faults_helpers import set_plan
from tests.simulator.helpers import free_port, start_sim_process

FULL_PLAN = """
seed = 42
identity = "1001"
description = "every section"

[speed]
op_delay_ms = 20
webhook_retry_scale = 0.002

[[operations]]
fraction = 0.2
outcome = "conflict"
error_code = "FUNDS_INSUFFICIENT"

[[operations]]
sequences = [3]
outcome = "bad_request"
invalid_fields = [{ field_name = "description", error = "SIZE", params = ["0", "35"] }]

[[operations]]
match = { amount_above = 50000, fields = { "destinationAmount.currency" = "GBP" } }
outcome = "slow"
latency_ms = 400

[api]
errors = [{ endpoints = ["GET /bulks/{bulk_id}"], rate = 0.25, status = 503 }]
throttle = { capacity = 5, refill_per_s = 2 }
latency = { distribution = "uniform", min_ms = 5, max_ms = 40 }
maintenance = [{ start_s = 10, duration_s = 5 }]

[webhooks]
outages = [{ start_s = 0, duration_s = 1.5 }]
duplicates = { events = [1] }
out_of_order = { paths = ["/bulk_process_end/watch"], events = [2] }
delays = { fraction = 0.5, delay_ms = 100 }
bad_signature = { every = 4 }
stale_timestamp = { events = [3], stale_by_s = 600 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_plan_with_every_section_loads(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, FULL_PLAN))
    assert plan.seed == 42 and plan.identity == "1001"
    assert plan.speed is not None and plan.speed.webhook_retry_scale == 0.002
    assert [r.outcome for r in plan.operations] == ["conflict", "bad_request", "slow"]
    assert plan.api is not None and plan.api.throttle is not None and plan.api.throttle.capacity == 5
    assert plan.webhooks is not None and plan.webhooks.out_of_order is not None
    # The JSON form (GET /_sim/faults) validates back to the same plan (PUT accepts what GET shows).
    assert type(plan).model_validate(plan.to_json()) == plan


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('[[operations]]\noutcome = "boom"\n', "operations[0].outcome", "conflict"),
        ('[[operations]]\noutcome = "conflict"\n', "operations[0]", "error_code is required"),
        (
            '[[operations]]\noutcome = "conflict"\nerror_code = "FUNDS_INSUFICIENT"\n',
            "operations[0]",
            "'FUNDS_INSUFICIENT' is not a 409 errorCode",
        ),
        (
            '[[operations]]\nkinds = ["card_block"]\noutcome = "conflict"\n'
            'error_code = "FUNDS_INSUFFICIENT"\n',
            "operations[0]",
            "not a 409 errorCode of card_block",
        ),
        (
            '[[operations]]\nsequnce = 3\noutcome = "slow"\nlatency_ms = 5\n',
            "operations[0].sequnce",
            "unknown key",
        ),
        ('[[operations]]\nfraction = 1.5\noutcome = "internal_error"\n', "operations[0].fraction", "1"),
        ('[[operations]]\nrange = [5, 2]\noutcome = "unavailable"\n', "operations[0].range", "low to high"),
        ('[[operations]]\noutcome = "slow"\n', "operations[0]", "latency_ms must be above 0"),
        (
            '[api]\nerrors = [{ endpoints = ["GET /bulk/{id}"], rate = 0.5 }]\n',
            "api.errors[0].endpoints",
            "matches no Multi API endpoint",
        ),
        ("[api]\nerrors = [{ rate = 0.5, status = 502 }]\n", "api.errors[0].status", "500"),
        ('[api.latency]\nfixed_ms = 5\ndistribution = "normal"\n', "api.latency", "either fixed_ms"),
        ('[api.latency]\ndistribution = "uniform"\nmin_ms = 5\n', "api.latency", "max_ms is required"),
        (
            "[api.throttle]\ncapacity = 0\nrefill_per_s = 1\n",
            "api.throttle.capacity",
            "greater than or equal",
        ),
        ("[webhooks]\noutages = [{ start_s = 1 }]\n", "webhooks.outages[0].duration_s", "Field required"),
        ("[webhooks]\nduplicates = { events = [0] }\n", "webhooks.duplicates.events[0]", "greater than"),
        ('identity = "acme"\n', "identity", "pattern"),
        ("[speed]\nop_delay_ms = -1\n", "speed.op_delay_ms", "greater than or equal"),
    ],
)
def test_invalid_plan_files_name_file_and_field(tmp_path: Path, text: str, field: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PlanError) as err:
        load_plan(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {field}"), message
    assert words in message, message


def test_broken_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"plan\.toml: invalid TOML: .*line 1"):
        load_plan(write(tmp_path, "seed = = 3\n"))
    with pytest.raises(PlanError, match=r"nowhere\.toml: file not found"):
        load_plan(tmp_path / "nowhere.toml")
    # A user's trial got tracebacks for these two:
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00seed")
    with pytest.raises(PlanError, match=r"bin\.toml: not a text file"):
        load_plan(tmp_path / "bin.toml")
    with pytest.raises(PlanError, match=r": is a directory"):
        load_plan(tmp_path)


def test_a_json_plan_file_is_read_as_json(tmp_path: Path) -> None:
    """The README says TOML or JSON: ``--faults plan.json`` said "invalid TOML"."""
    (tmp_path / "plan.json").write_text('{"seed": 5, "speed": {"op_delay_ms": 7}}')
    plan = load_plan(tmp_path / "plan.json")
    assert plan.seed == 5 and plan.speed is not None and plan.speed.op_delay_ms == 7
    (tmp_path / "bad.json").write_text("{seed: 5}")
    with pytest.raises(PlanError, match=r"bad\.json: invalid JSON"):
        load_plan(tmp_path / "bad.json")


def test_derived_randomness_depends_only_on_seed_purpose_and_key() -> None:
    a = [derive_rng(7, "operations", 0, 100).random() for _ in range(3)]
    assert a == [derive_rng(7, "operations", 0, 100).random() for _ in range(3)]
    assert derive_rng(7, "operations", 0, 100).random() != derive_rng(8, "operations", 0, 100).random()
    assert derive_rng(7, "operations", 0, 100).random() != derive_rng(7, "api-errors", 0, 100).random()


async def test_get_put_delete_faults(client: httpx.AsyncClient) -> None:
    empty = (await client.get("/_sim/faults")).json()
    assert empty["active"] is False and empty["global"] is None and empty["identities"] == {}

    shown = await set_plan(client, {"seed": 3, "operations": [{"sequence": 2, "outcome": "internal_error"}]})
    assert shown["active"] is True
    assert shown["global"]["operations"] == [{"sequence": 2, "outcome": "internal_error", "latency_ms": 0}]
    scoped = await set_plan(client, {"identity": "1002", "api": {"maintenance": [{"duration_s": 1}]}})
    assert set(scoped["identities"]) == {"1002"} and scoped["global"] is not None
    assert (await client.get("/_sim/faults")).json() == scoped

    assert (await client.delete("/_sim/faults", params={"identity": "1002"})).status_code == 204
    after = (await client.get("/_sim/faults")).json()
    assert after["identities"] == {} and after["global"]["seed"] == 3
    assert (await client.delete("/_sim/faults")).status_code == 204
    assert (await client.get("/_sim/faults")).json()["active"] is False


async def test_put_rejects_invalid_plans_naming_the_field(client: httpx.AsyncClient) -> None:
    resp = await client.put(
        "/_sim/faults", json={"operations": [{"sequence": 1, "outcome": "conflict", "error_code": "NOPE"}]}
    )
    assert resp.status_code == 400
    body = resp.json()
    assert body["message"].startswith("Invalid fault plan: operations[0]: error_code 'NOPE'")
    assert body["errors"][0]["field"] == "operations[0]"
    resp = await client.put("/_sim/faults", json={"webhooks": {"outages": [{"duration_s": 0}]}})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "webhooks.outages[0].duration_s"
    resp = await client.put("/_sim/faults", json={"identity": "9999"})
    assert resp.status_code == 400 and resp.json()["errors"] == [
        {"field": "identity", "message": "unknown identity '9999'"}
    ]
    resp = await client.put("/_sim/faults", json=[1, 2])
    assert resp.status_code == 400 and "table / JSON object" in resp.json()["message"]
    assert (await client.put("/_sim/faults", content=b"{nope")).status_code == 400
    # Nothing was applied by any of them.
    assert (await client.get("/_sim/faults")).json()["active"] is False


async def test_speed_applies_while_active_and_is_restored(client: httpx.AsyncClient) -> None:
    before = (await client.get("/_sim/config")).json()
    await set_plan(client, {"speed": {"op_delay_ms": 7, "webhook_retry_scale": 0.01}})
    during = (await client.get("/_sim/config")).json()
    assert (during["opDelayMs"], during["webhookRetryScale"]) == (7, 0.01)
    assert (await client.get("/_sim/faults")).json()["speed"] == {"opDelayMs": 7, "webhookRetryScale": 0.01}
    # A newer plan (another scope) that sets only one field takes that field; the other stays.
    await set_plan(client, {"identity": "1002", "speed": {"op_delay_ms": 3}})
    assert (await client.get("/_sim/config")).json()["opDelayMs"] == 3
    await client.delete("/_sim/faults", params={"identity": "1002"})
    assert (await client.get("/_sim/config")).json()["opDelayMs"] == 7
    await client.delete("/_sim/faults")
    after = (await client.get("/_sim/config")).json()
    assert (after["opDelayMs"], after["webhookRetryScale"]) == (
        before["opDelayMs"],
        before["webhookRetryScale"],
    )


async def test_no_plan_means_no_layers(sim: tuple[Simulator, httpx.AsyncClient]) -> None:
    simulator, client = sim
    faults = simulator.engine.faults
    assert (faults.operations, faults.api, faults.webhooks) == (None, None, None)
    await set_plan(client, {"api": {"maintenance": [{"start_s": 100, "duration_s": 1}]}})
    assert faults.api is not None and faults.operations is None and faults.webhooks is None
    await client.delete("/_sim/faults")
    assert (faults.operations, faults.api, faults.webhooks) == (None, None, None)


def test_serve_refuses_an_invalid_plan_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, '[[operations]]\noutcome = "conflict"\nerror_code = "NOPE"\n')
    assert cli.main(["serve", "--db", str(tmp_path / "s.db"), "--port", "0", "--faults", str(path)]) == 2
    err = capsys.readouterr().err
    assert "invalid fault plan" in err and f"{path}: operations[0]: error_code 'NOPE'" in err


@pytest.mark.slow
async def test_serve_starts_with_the_plan_active(tmp_path: Path) -> None:
    path = write(tmp_path, FULL_PLAN)
    port = free_port()
    proc = start_sim_process(tmp_path / "s.db", port, "--faults", str(path), stdout=subprocess.PIPE)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:

            async def probe() -> dict | None:
                try:
                    return (await client.get("/_sim/faults")).json()
                except httpx.TransportError:
                    return None

            shown = await wait_for(probe, lambda v: v is not None, timeout=20)
        assert shown["identities"]["1001"]["seed"] == 42
        assert shown["speed"] == {"opDelayMs": 20, "webhookRetryScale": 0.002}
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert b"faults" in out and str(path).encode() in out
