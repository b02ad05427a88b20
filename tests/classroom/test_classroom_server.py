"""The classroom over real HTTP: joining by name, worlds kept apart, a reload resumes, the instructor's view
and controls, the session's end, and nobody without the token in the instructor's API."""

from __future__ import annotations

import time

import httpx
import pytest

from bulkdash.api.client import ApiError, WeavrClient
from bulkdash.contract.kinds import OperationKind
from bulkdash.model.generate import generate
from bulkdash.session import DEMO_API_KEY, DEMO_EMAIL, DEMO_PASSWORD
from tests.classroom.conftest import TOKEN, RunningClass, world_token


async def _world(classroom: RunningClass, browser: httpx.AsyncClient) -> tuple[str, WeavrClient]:
    """The trainee's world as their dashboard reaches it: its root on the hub, logged in as the demo user."""
    me = (await browser.get("/api/me")).json()
    root = f"{classroom.info['hub']}/w/{me['id']}"
    client = WeavrClient(f"{root}/multi", DEMO_API_KEY)
    await client.login(DEMO_EMAIL, DEMO_PASSWORD)
    return root, client


async def _world_paused(classroom: RunningClass, browser: httpx.AsyncClient) -> bool:
    """Whether the trainee's world is paused, as its simulator's presenter says."""
    root, api = await _world(classroom, browser)
    await api.aclose()
    headers = {"Authorization": "Bearer " + await classroom_world_token(classroom, root)}
    async with httpx.AsyncClient(timeout=10) as sim:
        return bool((await sim.get(f"{root}/_sim/presenter", headers=headers)).json()["paused"])


async def test_join_needs_a_name_and_the_page_needs_joining(classroom: RunningClass) -> None:
    async with classroom.browser() as browser:
        assert (await browser.get("/")).headers["location"] == "/join"
        refused = await browser.post("/join", data={"name": "   "})
        assert refused.status_code == 400 and "Type a name" in refused.text
        assert (await browser.post("/join", data={"name": "x" * 41})).status_code == 400
        assert (await browser.get("/ws")).status_code == 401
        assert (await browser.post("/join", data={"name": "Ada"})).status_code == 303
        page = await browser.get("/")
        assert page.status_code == 200 and "/ws" in page.text
        assert "fonts.googleapis.com" not in page.text  # nothing loaded from the internet


async def test_two_trainees_do_not_see_each_others_bulks_or_balances(classroom: RunningClass) -> None:
    ada, bob = await classroom.join("Ada"), await classroom.join("Bob")
    (ada_root, ada_api), (bob_root, bob_api) = await _world(classroom, ada), await _world(classroom, bob)
    assert ada_root != bob_root
    items = generate(OperationKind.TRANSFERS, 3, 0, token="a")
    created = await ada_api.submit(OperationKind.TRANSFERS, items)
    bulk_id = created.bulkId
    assert bulk_id is not None
    await ada_api.execute(bulk_id, "ON_FAILURE_CONTINUE")
    assert [b.bulkId for b in (await ada_api.list_bulks()).bulkProcesses] == [bulk_id]
    assert (await bob_api.list_bulks()).bulkProcesses == []
    # The same id in Bob's world is nothing of his (not Ada's bulk).
    with pytest.raises(ApiError) as refused:
        await bob_api.get_bulk(bulk_id)
    assert refused.value.status == 404
    # Balances: Bob's world is the seed world, whatever Ada's transfer did.
    headers = {"Authorization": "Bearer " + await classroom_world_token(classroom, bob_root)}
    async with httpx.AsyncClient(timeout=10) as sim:
        bob_world = (await sim.get(f"{bob_root}/_sim/world/1001", headers=headers)).json()
    async with httpx.AsyncClient(timeout=10) as fresh:
        # A world nobody has used: the seed balances to compare with.
        seed = await _seed_balance(classroom, fresh)
    assert _balance(bob_world, "4001") == seed
    for client in (ada, bob, ada_api, bob_api):
        await client.aclose()


async def classroom_world_token(classroom: RunningClass, root: str) -> str:
    return await world_token(classroom, root.rsplit("/", 1)[1])


async def _seed_balance(classroom: RunningClass, http: httpx.AsyncClient) -> int:
    carol = await classroom.join("Carol")
    root, api = await _world(classroom, carol)
    headers = {"Authorization": "Bearer " + await classroom_world_token(classroom, root)}
    world = (await http.get(f"{root}/_sim/world/1001", headers=headers)).json()
    await carol.aclose()
    await api.aclose()
    return _balance(world, "4001")


def _balance(world: dict, instrument: str) -> int:
    for item in world.get("instruments", []):
        if item.get("id") == instrument:
            return int(item["balance"])
    raise AssertionError(f"no instrument {instrument} in {world}")


async def test_a_reload_resumes_the_same_trainee_and_world(classroom: RunningClass) -> None:
    ada = await classroom.join("Ada")
    first = (await ada.get("/api/me")).json()
    # A reload is the same browser (its cookie) asking again: same trainee, same world.
    again = (await ada.get("/api/me")).json()
    assert again["id"] == first["id"] and again["name"] == "Ada"
    assert (await ada.get("/")).status_code == 200
    await ada.aclose()


async def test_the_instructor_sees_an_answer_within_two_seconds(classroom: RunningClass) -> None:
    ada = await classroom.join("Ada")
    teacher = await classroom.instructor()
    assert (await ada.post("/api/me/events", json={"type": "started", "scenario": "all-succeed", "total": 8})
            ).status_code == 204
    sent = time.monotonic()
    answer = {"type": "answer", "scenario": "all-succeed", "question": 1, "choice": 2, "verdict": "wrong"}
    assert (await ada.post("/api/me/events", json=answer)).status_code == 204
    while True:
        view = (await teacher.get("/api/class")).json()
        row = next(t for t in view["trainees"] if t["name"] == "Ada")
        if row["wrong"] == 1:
            break
        assert time.monotonic() - sent < 2.0, row
    assert row["scenario"] == "all-succeed" and row["right"] == 0
    # The first answer counts, as on the checklist.
    again = {**answer, "choice": 1, "verdict": "right"}
    assert (await ada.post("/api/me/events", json=again)).status_code == 204
    row = next(t for t in (await teacher.get("/api/class")).json()["trainees"] if t["name"] == "Ada")
    assert (row["right"], row["wrong"]) == (0, 1)
    await ada.aclose()
    await teacher.aclose()


async def test_bad_events_are_refused_in_words(classroom: RunningClass) -> None:
    ada = await classroom.join("Ada")
    for body, words in [
        ({"type": "answer", "scenario": "x", "question": 1, "choice": 1, "verdict": "maybe"}, "verdict"),
        ({"type": "answer", "scenario": "x", "question": "one", "choice": 1, "verdict": "right"}, "numbers"),
        ({"type": "launch", "scenario": "x"}, "unknown event"),
        ({"type": "started"}, "names its scenario"),
    ]:
        answer = await ada.post("/api/me/events", json=body)
        assert answer.status_code == 400 and words in answer.json()["message"], answer.text
    assert (await ada.post("/api/me/events", content=b"{not json")).status_code == 400
    async with classroom.browser() as stranger:
        assert (await stranger.post("/api/me/events", json={"type": "seen"})).status_code == 401
    await ada.aclose()


async def test_instructor_controls_need_the_token_and_reach_every_world(classroom: RunningClass) -> None:
    ada, bob = await classroom.join("Ada"), await classroom.join("Bob")
    async with classroom.browser() as stranger:
        assert (await stranger.get("/instructor")).status_code == 401
        assert (await stranger.get("/instructor", params={"token": "guess"})).status_code == 401
        for path in ("/api/class/start", "/api/class/pause", "/api/class/end"):
            assert (await stranger.post(path, json={})).status_code == 401
    # A browser still holding a former session's token (a restart makes a new one) opens the new URL, and
    # its cookie is renewed: the old cookie won over the URL, and the instructor was locked out.
    async with classroom.browser() as returning:
        returning.cookies.set("bulkdash_instructor", "the-token-before-a-restart")
        assert (await returning.get("/instructor", params={"token": "guess"})).status_code == 401
        assert (await returning.get("/instructor", params={"token": TOKEN})).status_code == 200
        assert (await returning.get("/api/class")).status_code == 200  # by the renewed cookie
    teacher = await classroom.instructor()
    refused = await teacher.post("/api/class/start", json={"scenario": "no-such-pack"})
    assert refused.status_code == 400
    for bad in (b"not json", b"[1]", b'{"scenario": 7}'):
        nameless = await teacher.post("/api/class/start", content=bad)
        assert nameless.status_code == 400 and "naming the scenario" in nameless.json()["message"]
    for odd in ("yes", "false", 1, None):
        vague = await teacher.post("/api/class/pause", json={"paused": odd})
        assert vague.status_code == 400 and "true or false" in vague.json()["message"]
    started = (await teacher.post("/api/class/start", json={"scenario": "all-succeed"})).json()
    assert started["scenario"] == "all-succeed" and started["seq"] == 1
    assert (await ada.get("/api/me")).json()["command"]["seq"] == 1  # what the dashboards poll
    paused = (await teacher.post("/api/class/pause", json={"paused": True})).json()
    assert paused["paused"] is True and paused["worldsNotReached"] == 0
    assert [await _world_paused(classroom, browser) for browser in (ada, bob)] == [True, True]
    # Ada's world waits for her to start it (as her dashboard reports); playing again leaves it waiting:
    # it ran her bulk to its end while her screen said "Press space to start" (a user's trial).
    waiting = {"type": "progress", "scenario": "all-succeed", "phase": "ready", "done": 0, "total": 20}
    assert (await ada.post("/api/me/events", json=waiting)).status_code == 204
    assert (await bob.post("/api/me/events", json={**waiting, "phase": "playing"})).status_code == 204
    played = (await teacher.post("/api/class/pause", json={"paused": False})).json()
    assert (played["worldsNotReached"], played["worldsWaitingForTrainee"]) == (0, 1)
    assert [await _world_paused(classroom, browser) for browser in (ada, bob)] == [True, False]
    assert (await teacher.post("/api/class/end")).json()["ended"] is True
    async with classroom.browser() as late:
        assert (await late.get("/join")).status_code == 410
        ended = await late.post("/join", data={"name": "Late"})
        assert ended.status_code == 410
        # Said, not hidden: the late joiner saw an empty form and no reason (a user's trial).
        assert '<p class="error" id="error" >This session has ended.</p>' in ended.text
    for client in (ada, bob, teacher):
        await client.aclose()
