"""Scenario packs: every shipped scenario runs headless and meets its expectation, twice with identical
outcomes; the generators of every kind; the set-up endpoint; the CLI; invalid packs."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkdash.contract.kinds import OperationKind
from simulator import cli
from simulator.cli.runner import TraineeClient, clip_payload, run_scenario
from simulator.faults import PlanError
from simulator.scenarios import Scenario, get_scenario, list_scenarios, parse_scenario
from simulator.scenarios.items import generate_items
from simulator.scenarios.setup import setup_scenario
from simulator.server import Simulator
from tests.conftest import wait_for
from tests.simulator.faults_helpers import final_bulk, operations
from tests.simulator.helpers import Api, Gate, login, transfer

NAMES = [s.name for s in list_scenarios()]
REQUIRED = {
    "all-succeed",
    "partial-failure-continue",
    "stop-on-first-failure",
    "nothing-succeeds",
    "pause-then-resume",
    "cancel-mid-run",
    "receiver-down",
    "duplicates-and-out-of-order",
    "bad-signature",
    "throttled-polling",
    "flaky-5xx-polling",
    "ten-thousand",
}


def test_the_twelve_scenarios_are_shipped() -> None:
    assert set(NAMES) >= REQUIRED
    for scenario in list_scenarios():
        assert scenario.title and scenario.narrative.strip() and scenario.questions
        assert len(generate_items(scenario, scenario.seed)) == scenario.bulk.size
    assert get_scenario("ten-thousand").bulk.size == 10_000  # type: ignore[union-attr]


@pytest.mark.parametrize("name", NAMES)
async def test_scenario_meets_its_expectation_and_replays_identically(name: str) -> None:
    scenario = get_scenario(name)
    assert scenario is not None
    first = await run_scenario(scenario)
    assert first.matched, "\n".join(first.summary_lines())
    second = await run_scenario(scenario)
    assert second.matched, "\n".join(second.summary_lines())
    # Byte-identical operation outcomes and webhook sequences (ids and timestamps masked).
    assert second.fingerprint() == first.fingerprint()


async def test_every_pack_meets_its_expectation_whatever_was_played_before(tmp_path: Path) -> None:
    """One simulator database, as ``bulkdash train`` keeps for a session: every pack played in turn, then
    every one again. Each play must meet its pack's expectation: a set-up puts the identity's accounts,
    cards and demo users back as Appendix A has them, and a pack's new users get addresses no earlier play
    took. (Before: after the payroll pack drained account 4001, eleven later packs failed their brief, and
    replaying the 10,000-user pack failed every operation with EMAIL_NOT_UNIQUE.)"""
    db = tmp_path / "sim.db"
    mismatched = []
    for play in (1, 2):
        for name in NAMES:
            scenario = get_scenario(name)
            assert scenario is not None
            report = await run_scenario(scenario, db=db)
            if not report.matched:
                mismatched.append(f"{name} (play {play}):\n" + "\n".join(report.summary_lines()))
    assert not mismatched, "\n\n".join(mismatched)


async def test_another_seed_changes_the_amounts_not_the_lesson() -> None:
    """The failures of partial-failure-continue are real business rules (blocked, missing and destroyed
    payee cards), not injected at random: another seed draws other amounts but fails the same operations
    for the same reasons."""
    scenario = get_scenario("partial-failure-continue")
    assert scenario is not None and not scenario.faults.operations  # nothing injected
    default = await run_scenario(scenario)
    other = await run_scenario(scenario, seed=8)
    assert default.matched and other.matched

    def failed(report: Any) -> list[tuple[int, str]]:
        return [
            (o["sequence"], json.loads(o["responsePayload"])["errorCode"])
            for o in report.operations
            if o["status"] == "FAILED"
        ]

    assert (
        failed(default)
        == failed(other)
        == [
            (3, "DESTINATION_INSTRUMENT_BLOCKED"),
            (8, "DESTINATION_NOT_FOUND"),
            (13, "DESTINATION_INSTRUMENT_DESTROYED"),
            (18, "DESTINATION_INSTRUMENT_BLOCKED"),
        ]
    )
    assert other.seed == 8 and other.fingerprint() != default.fingerprint()  # the amounts differ


def _failure(payload: str) -> str:
    """An operation's failure as the support ticket names it: its errorCode, or a 400's first field error."""
    body = json.loads(payload)
    if "errorCode" in body:
        return str(body["errorCode"])
    first = body["syntaxErrors"]["invalidFields"][0]
    return f"{first['error']} {first['fieldName']}"


@pytest.mark.parametrize(
    ("name", "failures"),
    [
        # £10,000 in account 4001, ten salaries of £1,500: the seventh finds £1,000 left.
        ("payroll-insufficient-funds", [(n, "FUNDS_INSUFFICIENT") for n in (7, 8, 9, 10)]),
        # Faster Payments descriptions over 18 characters; a SEPA beneficiary paid in GBP.
        (
            "wires-failed-at-run-time",
            [(3, "SIZE description"), (4, "CURRENCY_MISMATCH"), (6, "SIZE description")],
        ),
        # 5004 SYSTEM-blocked (A25), 5001 active, 5006 lost, 5005 destroyed.
        (
            "unblock-returned-403",
            [
                (2, "INSUFFICIENT_PERMISSIONS"),
                (3, "INSTRUMENT_NOT_BLOCKED"),
                (4, "INSTRUMENT_MARKED_LOST_STOLEN"),
                (5, "INSTRUMENT_DESTROYED"),
            ],
        ),
    ],
)
async def test_ticket_packs_fail_the_operations_their_story_names(
    name: str, failures: list[tuple[int, str]]
) -> None:
    """The support-ticket packs teach real business rules of the demo world, nothing injected: another seed
    fails the same operations with the same codes their narrative and checklist explain."""
    scenario = get_scenario(name)
    assert scenario is not None and not scenario.faults.operations
    report = await run_scenario(scenario, seed=scenario.seed + 1)
    assert report.matched, "\n".join(report.summary_lines())
    failed = [
        (o["sequence"], _failure(o["responsePayload"])) for o in report.operations if o["status"] == "FAILED"
    ]
    assert failed == failures


def test_owt_items_cycle_beneficiaries_and_descriptions() -> None:
    """A wires pack mixes rails and description lengths per item (their rules apply only at run time)."""
    scenario = mini(
        OperationKind.OWT,
        3,
        beneficiaries=["7002", "7001"],
        descriptions=["INV-{n}", "A longer text {n}", "X"],
        description="ignored {n}",
    )
    bodies = [item["requestBody"] for item in generate_items(scenario, 1)]
    assert [b["destinationBeneficiary"]["beneficiaryId"] for b in bodies] == ["7002", "7001", "7002"]
    assert [b["description"] for b in bodies] == ["INV-1", "A longer text 2", "X"]
    # Without the lists, one beneficiary and one description template as before.
    plain = [item["requestBody"] for item in generate_items(mini(OperationKind.OWT, 2), 1)]
    assert [b["destinationBeneficiary"]["beneficiaryId"] for b in plain] == ["7001", "7001"]
    assert [b["description"] for b in plain] == ["Invoice 1", "Invoice 2"]


async def test_the_runner_retries_reads_never_an_action_a_5xx_refused() -> None:
    """The runner follows the dashboard client's rules: a GET refused with 503 is sent again (by the client)
    and one refused with 500 is polled again (by the runner); a POST refused with 503 is sent once — it may
    have worked — and reported as refused."""
    answers = {"GET /multi/bulks/7": [503, 503, 200, 500, 200], "POST /multi/bulks/7/execute": [503, 204]}
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        line = f"{request.method} {request.url.path}"
        sent.append(line)
        status = answers[line].pop(0)
        if status == 200:
            return httpx.Response(200, json={"bulkId": "7", "status": "RUNNING"})
        return httpx.Response(status, json={"message": "refused"} if status >= 500 else None)

    client = TraineeClient(
        "http://sim.test/multi",
        "k",
        time.monotonic() + 30,
        poll_s=0.001,
        transport=httpx.MockTransport(answer),
    )
    try:
        refused = await client.action("7", "execute", {"mode": "ON_FAILURE_CONTINUE"})
        assert refused is not None and refused.status == 503
        assert sent == ["POST /multi/bulks/7/execute"]  # not repeated
        assert (await client.bulk("7"))["status"] == "RUNNING"  # 503, 503 (retried by the client), 200
        assert (await client.bulk("7"))[
            "status"
        ] == "RUNNING"  # 500 (not the client's to retry), polled again
    finally:
        await client.aclose()
    assert sent.count("GET /multi/bulks/7") == 5
    assert (client.stats.requests, client.stats.server_errors) == (6, 4)


# --- generators of every kind -------------------------------------------------------------------------


def mini(kind: OperationKind, size: int = 1, **params: Any) -> Scenario:
    return parse_scenario(
        {
            "title": f"{kind.value} generator",
            "narrative": "n",
            "bulk": {"kind": kind.value, "size": size, "params": params},
            "expect": {"status": "COMPLETED"},
        },
        "mini",
        "mini.toml",
    )


@pytest.mark.parametrize(
    ("kind", "size"),
    [
        (OperationKind.TRANSFERS, 3),
        (OperationKind.SENDS, 2),
        (OperationKind.OWT, 2),
        (OperationKind.USERS, 3),
        (OperationKind.USER_INVITE, 1),
        (OperationKind.CARD_BLOCK, 2),
        (OperationKind.CARD_UNBLOCK, 1),
        (OperationKind.CARD_REMOVE, 1),
        (OperationKind.SPEND_RULES, 1),
    ],
)
async def test_each_kinds_default_items_succeed_on_the_demo_world(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api, kind: OperationKind, size: int
) -> None:
    simulator, _ = sim
    created = await setup_scenario(simulator.engine, mini(kind, size))
    assert created["executed"] is True and created["operationCount"] == size
    bulk = await final_bulk(alice, created["bulkId"])
    ops = await operations(alice, created["bulkId"])
    assert bulk["status"] == "COMPLETED", [o.get("responsePayload") for o in ops]


def test_generated_amounts_are_seeded() -> None:
    scenario = mini(
        OperationKind.TRANSFERS, 20, amount=10, amount_max=1000, tag="t{n}", description="Pay {n}"
    )
    items = generate_items(scenario, 1)
    assert items == generate_items(scenario, 1) and items != generate_items(scenario, 2)
    assert all(10 <= i["requestBody"]["destinationAmount"]["amount"] <= 1000 for i in items)
    assert items[4]["requestBody"]["tag"] == "t5" and items[4]["requestBody"]["description"] == "Pay 5"


# --- the set-up endpoint --------------------------------------------------------------------------------


async def test_list_and_show_scenarios(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/_sim/scenarios")).json()
    assert [s["name"] for s in listed] == NAMES
    assert {"name", "title", "kind", "size", "mode", "narrative"} <= set(listed[0])
    shown = (await client.get("/_sim/scenarios/bad-signature")).json()
    assert shown["questions"][0]["answer"] and shown["expect"]["webhooks"]["rejected"] == 1
    assert (await client.get("/_sim/scenarios/nope")).status_code == 404


async def test_setup_submits_executes_and_applies_the_plan(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, client = sim
    tokens_before = len(simulator.engine.tokens.tokens)
    resp = await client.post("/_sim/scenarios/stop-on-first-failure")
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert (
        created["scenario"] == "stop-on-first-failure"
        and created["seed"] == 3
        and created["executed"] is True
    )
    assert created["identity"] == "1001" and created["execute"] == {"mode": "ON_FAILURE_STOP"}
    assert len(simulator.engine.tokens.tokens) == tokens_before  # nobody was logged in
    faults = (await client.get("/_sim/faults")).json()
    assert faults["identities"]["1001"]["seed"] == 3 and faults["speed"]["opDelayMs"] == 10
    bulk = await final_bulk(alice, created["bulkId"])  # alice (1001) sees and follows it
    assert bulk["status"] == "PARTIALLY_COMPLETED" and bulk["mode"] == "ON_FAILURE_STOP"


async def test_a_fault_asked_for_before_a_set_up_does_not_fail_the_pack(
    client: httpx.AsyncClient, alice: Api
) -> None:
    """A trainee pressed "fault now" after a run had ended, then started all-succeed: its first operation
    failed and the checklist voided two questions. A set-up forgets pending faults, steps and old holds."""
    assert (await client.post("/_sim/presenter/fault-now")).json()["faultPending"] is True
    hold = {"bulkId": "999", "operation": 1}
    assert (await client.post("/_sim/presenter/hold", json=hold)).status_code == 200
    resp = await client.post("/_sim/scenarios/all-succeed", json={"trainee": True, "speed": 10})
    assert resp.status_code == 201, resp.text
    presenter = resp.json()["presenter"]
    assert presenter["faultPending"] is False and presenter["stepsPending"] == 0
    assert presenter["paused"] is True and presenter["holds"] == []  # waiting for the trainee, as ever
    assert (await client.put("/_sim/presenter", json={"paused": False})).status_code == 200
    bulk = await final_bulk(alice, resp.json()["bulkId"])
    counts = {entry["status"]: entry["count"] for entry in bulk["operationStatusCounts"]}
    assert bulk["status"] == "COMPLETED" and counts["COMPLETED"] == 20 and counts["FAILED"] == 0


async def test_a_set_up_cancels_the_runs_an_earlier_play_left_going(
    client: httpx.AsyncClient, alice: Api
) -> None:
    """A trainee left a scenario before playing it (its bulk RUNNING, held by the paused world) and started
    another: the new bulk was refused DUPLICATE_OPERATION_TYPE and left SUBMITTED, and playing the world ran
    the old one. A set-up cancels the identity's bulks still RUNNING or PAUSED; the new one runs."""
    body = {"trainee": True, "speed": 10}
    first = (await client.post("/_sim/scenarios/all-succeed", json=body)).json()
    assert first["executed"] is True and (await alice.bulk(first["bulkId"]))["status"] == "RUNNING"
    second = (await client.post("/_sim/scenarios/partial-failure-continue", json=body)).json()
    assert second["executed"] is True and "executeRefused" not in second, second
    assert second["cancelledBulkIds"] == [first["bulkId"]]
    assert (await alice.bulk(first["bulkId"]))["status"] == "CANCELLED"
    assert (await client.put("/_sim/presenter", json={"paused": False})).status_code == 200
    assert (await final_bulk(alice, second["bulkId"]))["status"] == "PARTIALLY_COMPLETED"


async def test_the_world_is_put_back_after_the_earlier_runs_have_ended(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    """A cancel lets the operation in flight finish, and it may still move money: restored before that, the
    world was off by one transfer for the new pack (account 4001 one payment short)."""
    simulator, client = sim
    gate = Gate(hold_at=2)
    simulator.engine.before_operation = gate
    bulk_id = await alice.submit([transfer(100 + i) for i in range(5)])  # from 4001
    assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
    await gate.reached.wait()  # operation 2 in flight: it will debit 4001 when let go
    setting_up = asyncio.ensure_future(client.post("/_sim/scenarios/all-succeed", json={"execute": False}))
    live = simulator.engine.bulks[int(bulk_id)]
    await wait_for(lambda: asyncio.sleep(0, live.stop_request), bool)  # the cancel waits for operation 2
    simulator.engine.before_operation = None
    gate.release.set()
    created = (await setting_up).json()
    assert created["cancelledBulkIds"] == [bulk_id]
    assert simulator.engine.world.instruments["4001"].balance == 1_000_000  # as Appendix A has it


async def test_setup_leaves_execution_to_the_client_when_the_scenario_says_so(
    client: httpx.AsyncClient, alice: Api
) -> None:
    created = (await client.post("/_sim/scenarios/pause-then-resume", json={})).json()
    assert created["executed"] is False
    assert (await alice.bulk(created["bulkId"]))["status"] == "SUBMITTED"
    override = (await client.post("/_sim/scenarios/all-succeed", json={"seed": 5, "execute": False})).json()
    assert override["executed"] is False and override["seed"] == 5
    assert (await client.get("/_sim/faults")).json()["identities"]["1001"]["seed"] == 5


async def test_setup_returns_the_bulk_when_execute_is_refused(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, client = sim
    simulator.engine.settings.max_active_bulks = 2  # the pack's own two paused bulks take both places
    created = (await client.post("/_sim/scenarios/too-many-requests-409")).json()
    assert created["executed"] is False and created["executeRefused"] == "TOO_MANY_REQUESTS"
    assert (await alice.bulk(created["bulkId"]))["status"] == "SUBMITTED"
    for paused in created["pausedBulkIds"]:
        assert (await alice.post(f"/bulks/{paused}/cancel")).status_code == 204
    assert (await alice.post(f"/bulks/{created['bulkId']}/execute", json={})).status_code == 204


async def test_setup_for_another_identity(client: httpx.AsyncClient, alice: Api) -> None:
    created = (
        await client.post("/_sim/scenarios/all-succeed", json={"identity": "1002", "execute": False})
    ).json()
    carol = await login(client, "carol@globex.example")
    assert (await carol.bulk(created["bulkId"]))["status"] == "SUBMITTED"
    assert (await alice.get(f"/bulks/{created['bulkId']}")).status_code == 404
    assert set((await client.get("/_sim/faults")).json()["identities"]) == {"1002"}


@pytest.mark.parametrize(
    ("name", "body", "status", "expected"),
    [
        ("nope", {}, 404, {"code": "NOT_FOUND", "message": "Resource not found"}),
        ("all-succeed", {"identity": "1003"}, 409, {"errorCode": "NO_CONFIG_FOUND"}),
        ("all-succeed", {"identity": "9999"}, 404, {"code": "NOT_FOUND", "message": "Resource not found"}),
        ("all-succeed", {"seed": "x"}, 400, None),
        ("all-succeed", {"bogus": 1}, 400, None),
    ],
)
async def test_setup_errors(
    client: httpx.AsyncClient, name: str, body: dict[str, Any], status: int, expected: dict[str, Any] | None
) -> None:
    resp = await client.post(f"/_sim/scenarios/{name}", json=body)
    assert resp.status_code == status, resp.text
    if expected is not None:
        assert resp.json() == expected


# --- the CLI ----------------------------------------------------------------------------------------------


def test_cli_lists_the_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scenario", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == NAMES


def test_cli_runs_a_scenario_to_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "run.db"
    assert cli.main(["scenario", "run", "stop-on-first-failure", "--seed", "3", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Scenario stop-on-first-failure: Stop on the first failure (seed 3)" in out
    assert "operations: COMPLETED 4, FAILED 1, CANCELLED 7" in out
    assert "\nMATCH\n" in out and "ON_FAILURE_STOP" in out
    # Without --answers a trainee sees the run's facts, never the answer key.
    assert "Answer key:" not in out and "correct:" not in out and "add --answers" in out
    assert db.exists()


def test_cli_prints_the_answer_key_only_with_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scenario", "run", "stop-on-first-failure", "--answers"]) == 0
    out = capsys.readouterr().out
    key = out[out.index("Answer key:") :].splitlines()
    scenario = get_scenario("stop-on-first-failure")
    assert scenario is not None
    q = scenario.questions[2]
    at = key.index(f"  3. {q.question}")
    assert key[at + 1] == f"     correct: 2. {q.choices[1]}"
    assert key[at + 2] == f"     why: {q.answer}"
    assert key[at + 3 : at + 6] == [f"     evidence: {fact.describe()}" for fact in q.facts()]
    # The failed operation's payload is printed whole.
    assert '#5 FAILED {"errorCode":"DESTINATION_INSTRUMENT_BLOCKED"}' in out


@pytest.mark.parametrize(
    ("payload", "shown"),
    [
        ('{"errorCode":"FUNDS_INSUFFICIENT"}', '{"errorCode":"FUNDS_INSUFFICIENT"}'),
        (
            json.dumps({"errorCode": "X", "message": "m" * 60, "details": "d" * 60}),
            '{"errorCode":"X","message":"' + "m" * 60 + '", …}',
        ),
        ("not json " * 20, "not json " * 20),
    ],
)
def test_payloads_are_shown_whole_or_cut_at_a_field_boundary(payload: str, shown: str) -> None:
    assert clip_payload(payload) == shown


def test_cli_reports_a_mismatch_with_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = get_scenario("nothing-succeeds")
    assert real is not None
    wrong = real.model_copy(update={"expect": real.expect.model_copy(update={"status": "COMPLETED"})})
    monkeypatch.setattr("simulator.scenarios.get_scenario", lambda name: wrong)
    assert cli.main(["scenario", "run", "nothing-succeeds"]) == 1
    out = capsys.readouterr().out
    assert (
        "MISMATCH status: expected = 'COMPLETED', got 'FAILED'" in out and out.rstrip().count("MISMATCH") >= 2
    )


def test_cli_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scenario", "run", "nope"]) == 2
    assert "no scenario 'nope'" in capsys.readouterr().err


# --- invalid packs ----------------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "title": "t",
    "narrative": "n",
    "bulk": {"kind": "transfers", "size": 4},
    "expect": {"status": "COMPLETED"},
}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"title": None}, "title: Field required"),
        ({"bulk": {"kind": "transfer", "size": 4}}, "bulk.kind: Input should be"),
        (
            {"bulk": {"kind": "transfers", "size": 10_001}},
            "bulk.size: Input should be less than or equal to 10000",
        ),
        (
            {"bulk": {"kind": "transfers", "size": 4, "params": {"amout": 5}}},
            "bulk.params.amout: unknown key",
        ),
        (
            {"bulk": {"kind": "card_block", "size": 3}},
            "bulk.size: 3 items need as many distinct targets; have 2",
        ),
        ({"faults": {"seed": 3}}, "leave out seed and identity"),
        ({"faults": {"operations": [{"outcome": "boom"}]}}, "faults.operations[0].outcome"),
        ({"expect": {"status": "DONE"}}, "expect.status"),
        (
            {"expect": {"status": "COMPLETED", "counts": {"COMPLETED": 3, "FAILED": 0, "CANCELLED": 0}}},
            "expect.counts add up to 3, not bulk.size 4",
        ),
        ({"run": {"pause_at": 9}}, "run.pause_at = 9 is beyond bulk.size 4"),
        ({"name": "other"}, "name: must match the file name"),
        ({"extra": 1}, "extra: unknown key"),
    ],
)
def test_invalid_scenarios_name_the_field(change: dict[str, Any], words: str) -> None:
    data = {**BASE, **change}
    with pytest.raises(PlanError) as err:
        parse_scenario({k: v for k, v in data.items() if v is not None}, "mini", "packs/mini.toml")
    assert str(err.value).startswith("packs/mini.toml: ") and words in str(err.value), str(err.value)


def test_every_pack_file_is_valid_toml_and_data() -> None:
    import tomllib
    from importlib import resources

    files = [e for e in resources.files("simulator.scenarios.packs").iterdir() if e.name.endswith(".toml")]
    assert len(files) == len(NAMES)
    for entry in files:
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        parse_scenario(data, entry.name[: -len(".toml")], entry.name)
        assert json.dumps(data)  # plain data, nothing exotic
