"""A trainee's dashboard in the classroom (what each browser tab runs), driven by Pilot: it connects to the
trainee's own world on the hub, the world's webhooks reach its receiver, the instructor's "start for
everyone" opens the scenario's run on it, and its answers reach the instructor's view."""

from __future__ import annotations

from bulkdash.classroom.link import ClassroomLink
from bulkdash.classroom.trainee import classroom_connector
from bulkdash.contract.kinds import OperationKind
from bulkdash.model.generate import generate
from bulkdash.ui.app import BulkdashApp
from tests.classroom.conftest import TOKEN, RunningClass, world_token
from tests.ui.helpers import until


async def test_the_trainee_dashboard_follows_the_instructor(classroom: RunningClass) -> None:
    ada = await classroom.join("Ada")
    secret = ada.cookies["bulkdash_trainee"]
    me = (await ada.get("/api/me")).json()
    world = f"{classroom.info['hub']}/w/{me['id']}"
    app = BulkdashApp(classroom_connector(world, await world_token(classroom, me["id"])), start="scenarios")
    link = ClassroomLink(classroom.info["api"], secret, app.service)
    teacher = await classroom.instructor()
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: app.session is not None, timeout=20, what="connected to the world")
            session = app.session
            assert session is not None and session.receiver is not None
            # The world's webhooks come to this dashboard's own receiver.
            created = await session.client.submit(
                OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 2, 0, token="w")
            )
            assert created.bulkId is not None
            await session.client.execute(created.bulkId, "ON_FAILURE_CONTINUE")
            await until(pilot, lambda: app.service.webhook_count > 0, timeout=20, what="a webhook")

            await link.tick()  # joins: the current command is taken as seen, not replayed
            started = await teacher.post("/api/class/start", json={"scenario": "all-succeed"})
            assert started.status_code == 200
            await link.tick()
            await until(
                pilot, lambda: app.service.training is not None, timeout=20, what="the scenario set up"
            )
            training = app.service.training
            assert training is not None and training.scenario.name == "all-succeed"
            await until(pilot, lambda: training.bulk_id in (app.screen.id or ""), what="its run screen")

            question = training.questions[0]
            training.answer(0, question.correct)
            training.hints.add(1)
            await link.tick()
            view = (await teacher.get("/api/class", headers={"Authorization": f"Bearer {TOKEN}"})).json()
            row = next(t for t in view["trainees"] if t["name"] == "Ada")
            assert row["scenario"] == "all-succeed"
            assert row["right"] + row["notApplicable"] == 1 and row["hints"] == 1
            assert row["total"] == training.scenario.size
            bulk_id, chosen = training.bulk_id, training.verdicts[0].chosen

        # A reload: a new dashboard process for the same trainee picks the scenario up where it was.
        connect = classroom_connector(world, await world_token(classroom, me["id"]))
        again = BulkdashApp(connect, start="scenarios")
        reloaded = ClassroomLink(classroom.info["api"], secret, again.service)
        try:
            async with again.run_test(size=(120, 36)) as pilot:
                await until(pilot, lambda: again.session is not None, timeout=20, what="connected again")
                await reloaded.tick()
                await until(pilot, lambda: again.service.training is not None, what="the scenario resumed")
                resumed = again.service.training
                assert resumed is not None and resumed.bulk_id == bulk_id
                assert resumed.scenario.name == "all-succeed" and resumed.verdicts[0].chosen == chosen
                await until(pilot, lambda: bulk_id in (again.screen.id or ""), what="its run screen again")
                await reloaded.tick()  # nothing is counted twice, nothing is lost
                view = (await teacher.get("/api/class")).json()
                row = next(t for t in view["trainees"] if t["name"] == "Ada")
                assert row["scenario"] == "all-succeed" and row["right"] + row["notApplicable"] == 1
        finally:
            await reloaded.aclose()
    finally:
        await link.aclose()
        await ada.aclose()
        await teacher.aclose()


async def test_the_link_keeps_events_while_the_classroom_is_away(classroom: RunningClass) -> None:
    """A classroom that does not answer loses nothing: the events wait and go on the next tick."""
    ada = await classroom.join("Ada")

    class FakeService:
        training = None
        starting_scenario = False

    link = ClassroomLink("http://127.0.0.1:9", ada.cookies["bulkdash_trainee"], FakeService())  # type: ignore[arg-type]
    link._pending.append({"type": "started", "scenario": "all-succeed", "total": 8})
    await link.tick()
    assert link.failing and len(link._pending) == 1
    link._client.base_url = classroom.url  # the classroom is back
    await link.tick()
    assert not link.failing and link._pending == []
    teacher = await classroom.instructor()
    view = (await teacher.get("/api/class")).json()
    assert [t["scenario"] for t in view["trainees"]] == ["all-succeed"]
    await link.aclose()
    await ada.aclose()
    await teacher.aclose()
