"""A trainee's dashboard talking to the classroom: what they do goes to the instructor's view, what the
instructor starts comes to them.

Plain Python over the dashboard's service (no Textual): once a second :meth:`ClassroomLink.tick` reads the
service's training state and posts what changed since the last tick — the scenario started, how far its run
is, each answer (right / wrong / not applicable: the checklist's own verdict), each hint, the reply to the
customer, the scenario ended — and reads the instructor's command: a scenario started for everyone (by a
sequence number, so the same scenario can be started twice) is set up here as if the trainee had chosen it.

The classroom being slow or away never touches the dashboard: a failed post is kept and sent again on the
next tick (events are idempotent on the classroom's side: first answer counts, hints and progress are
state), and a failure is noted once, not per tick.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from bulkdash.service import DashboardService

log = logging.getLogger(__name__)
INTERVAL_S = 1.0


class ClassroomLink:
    def __init__(
        self,
        api_url: str,
        secret: str,
        service: DashboardService,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.service = service
        self._client = client or httpx.AsyncClient(base_url=api_url, timeout=5)
        self._client.headers["Authorization"] = f"Bearer {secret}"
        self._sent: dict[str, Any] = {}  # what the classroom has been told (by key)
        self._pending: list[dict[str, Any]] = []
        self._seen_seq: int | None = None
        self._scenario: str | None = None
        self.command: dict[str, Any] = {}
        self.failing = False

    async def aclose(self) -> None:
        await self._client.aclose()

    async def run(self, interval: float = INTERVAL_S) -> None:
        """Tick until cancelled (the dashboard quitting)."""
        while True:
            await self.tick()
            await asyncio.sleep(interval)  # a poll period, not synchronisation

    async def tick(self) -> None:
        self._collect()
        if not self._pending:
            # A heartbeat: the instructor tells a quiet trainee from a gone one, and how fresh a row is.
            self._pending.append({"type": "seen"})
        try:
            while self._pending:
                answer = await self._client.post("/api/me/events", json=self._pending[0])
                if answer.status_code >= 500:
                    raise httpx.HTTPStatusError("classroom error", request=answer.request, response=answer)
                if answer.status_code >= 400:
                    log.warning("the classroom refused an event: %s", answer.text)
                self._pending.pop(0)
            me = await self._client.get("/api/me")
            if me.status_code == 200:
                body = me.json()
                self.command = body.get("command", {})
                if self._seen_seq is None:
                    await self._resume(body.get("resume"))
                await self._obey(self.command)
            self.failing = False
        except httpx.HTTPError as exc:
            if not self.failing:
                log.warning("the classroom does not answer (%s); trying each second", type(exc).__name__)
            self.failing = True

    def _post(self, key: str, value: Any, event: dict[str, Any]) -> None:
        if self._sent.get(key) != value:
            self._sent[key] = value
            self._pending.append(event)

    def _collect(self) -> None:
        """Events for what changed in the service's training state since the last tick."""
        training = self.service.training
        if training is None:
            if self._scenario is not None:
                self._pending.append({"type": "ended", "scenario": self._scenario})
                self._scenario = None
            return
        name = training.scenario.name
        if name != self._scenario:
            if self._scenario is not None:
                self._pending.append({"type": "ended", "scenario": self._scenario})
            self._scenario = name
            self._sent = {k: v for k, v in self._sent.items() if not k.startswith("run:")}
            self._pending.append(
                {
                    "type": "started",
                    "scenario": name,
                    "total": training.scenario.size,
                    "bulkId": training.bulk_id,
                }
            )
        done = training.history[-1][2] if training.history else 0
        status = training.history[-1][1] if training.history else None
        progress = (training.phase, done, status)
        self._post(
            f"run:{name}:progress",
            progress,
            {
                "type": "progress",
                "scenario": name,
                "phase": training.phase,
                "done": done,
                "total": training.scenario.size,
                "status": status,
            },
        )
        for index, verdict in sorted(training.verdicts.items()):
            judged = "not applicable" if not verdict.counts else ("right" if verdict.correct else "wrong")
            self._post(
                f"run:{name}:answer:{index}",
                judged,
                {
                    "type": "answer",
                    "scenario": name,
                    "question": index + 1,
                    "choice": verdict.chosen,
                    "verdict": judged,
                },
            )
        for index in sorted(training.hints):
            self._post(
                f"run:{name}:hint:{index}", True, {"type": "hint", "scenario": name, "question": index + 1}
            )
        if training.reply_draft is not None:
            self._post(
                f"run:{name}:reply",
                training.reply_draft,
                {"type": "reply", "scenario": name, "text": training.reply_draft},
            )

    async def _resume(self, resume: Any) -> None:
        """A reloaded tab: the scenario the trainee was in, its run and their answers, picked up again."""
        if not isinstance(resume, dict) or self.service.training is not None:
            return
        listed = await self.service.list_scenarios()
        found = next((s for s in listed.scenarios if s.name == resume.get("scenario")), None)
        if found is None or not resume.get("bulkId"):
            return
        answers = {int(q) - 1: int(c) for q, c in (resume.get("answers") or {}).items()}
        # What the classroom already holds is not sent again (it would reset the row's progress).
        self._scenario = found.name
        self.service.resume_scenario(found, str(resume["bulkId"]), answers, resume.get("startedMs"))

    async def _obey(self, command: dict[str, Any]) -> None:
        seq = int(command.get("seq") or 0)
        if self._seen_seq is None:
            # Joining (or reloading) after a start does not replay it: the trainee picks up from the list.
            self._seen_seq = seq
            return
        if seq <= self._seen_seq:
            return
        self._seen_seq = seq
        name = command.get("scenario")
        if not name or self.service.starting_scenario:
            return
        listed = await self.service.list_scenarios()
        found = next((s for s in listed.scenarios if s.name == name), None)
        if found is None:
            log.warning("the instructor started %s, which this dashboard does not list", name)
            return
        if self.service.training is not None:
            self.service.end_scenario()  # as the trainee's own "end scenario" would
        self.service.start_scenario(found)


__all__ = ["ClassroomLink"]
