"""A class's results in SQLite: who joined, where each trainee is, every answer as it is given.

Written as things happen (one short transaction per event, WAL), so a crash of the classroom — ``kill -9``
included — loses nothing already answered; reopening the file is all a restart needs. The file is created
0600: it holds display names and hashed join secrets (a trainee's secret lives only in their browser's
cookie; only its SHA-256 is kept).

Tables: ``trainees`` (name, world, where they are: scenario, phase, operations done/total, bulk status),
``answers`` (first answer per trainee × scenario × question: the choice, right / wrong / not applicable),
``hints`` (hints asked per question), ``runs`` (when each trainee started and ended each scenario),
``replies`` (the free-text reply to the customer), ``class`` (the instructor's commands: the scenario started
for everyone, the world paused, the session ended).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS trainees (
    id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    joined_ms INTEGER NOT NULL,
    seen_ms INTEGER NOT NULL,
    scenario TEXT,
    phase TEXT,
    done INTEGER,
    total INTEGER,
    bulk_status TEXT,
    bulk_id TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    trainee TEXT NOT NULL,
    scenario TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    PRIMARY KEY (trainee, scenario)
);
CREATE TABLE IF NOT EXISTS answers (
    trainee TEXT NOT NULL,
    scenario TEXT NOT NULL,
    question INTEGER NOT NULL,
    choice INTEGER NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('right', 'wrong', 'not applicable')),
    answered_ms INTEGER NOT NULL,
    PRIMARY KEY (trainee, scenario, question)
);
CREATE TABLE IF NOT EXISTS hints (
    trainee TEXT NOT NULL,
    scenario TEXT NOT NULL,
    question INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (trainee, scenario, question)
);
CREATE TABLE IF NOT EXISTS replies (
    trainee TEXT NOT NULL,
    scenario TEXT NOT NULL,
    text TEXT NOT NULL,
    replied_ms INTEGER NOT NULL,
    PRIMARY KEY (trainee, scenario)
);
CREATE TABLE IF NOT EXISTS class (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

MAX_NAME = 40
VERDICTS = ("right", "wrong", "not applicable")


class ClassError(ValueError):
    """Input the classroom refuses; the message is for the person who sent it."""


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_name(name: str) -> str:
    """A display name as shown to the class: trimmed, single-spaced, printable, 1-40 characters."""
    text = " ".join("".join(ch for ch in name if ch.isprintable()).split())
    if not text:
        raise ClassError("Type a name the class will know you by.")
    if len(text) > MAX_NAME:
        raise ClassError(f"A name of at most {MAX_NAME} characters, please.")
    return text


@dataclass(frozen=True, slots=True)
class Trainee:
    id: str  # also the name of their world on the hub
    name: str


class ClassStore:
    """The classroom's SQLite file. ``clock``: milliseconds since the epoch (injected in tests)."""

    def __init__(self, path: Path, clock: Callable[[], int] | None = None) -> None:
        self.path = path
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> ClassStore:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # 0600 from the first byte
        os.close(fd)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.executescript(SCHEMA)
        await self._db.commit()
        return self

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the class store is not open")
        return self._db

    # -- trainees ------------------------------------------------------------------------------------------

    async def join(self, name: str) -> tuple[Trainee, str]:
        """A new trainee and the secret their browser keeps (shown once, stored hashed)."""
        shown = clean_name(name)
        trainee_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        now = self._clock()
        await self.db.execute(
            "INSERT INTO trainees (id, secret_sha256, name, joined_ms, seen_ms) VALUES (?, ?, ?, ?, ?)",
            (trainee_id, _sha(secret), shown, now, now),
        )
        await self.db.commit()
        return Trainee(trainee_id, shown), secret

    async def trainee(self, secret: str | None) -> Trainee | None:
        if not secret:
            return None
        async with self.db.execute(
            "SELECT id, name FROM trainees WHERE secret_sha256 = ?", (_sha(secret),)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else Trainee(row[0], row[1])

    async def trainees(self) -> list[Trainee]:
        async with self.db.execute("SELECT id, name FROM trainees ORDER BY joined_ms, id") as cursor:
            return [Trainee(r[0], r[1]) for r in await cursor.fetchall()]

    # -- what a trainee's dashboard reports ----------------------------------------------------------------

    async def record(self, trainee: Trainee, event: dict[str, Any]) -> None:
        """One event from a trainee's dashboard (see :mod:`bulkdash.classroom.link`), stored at once."""
        kind = event.get("type")
        now = self._clock()
        scenario = event.get("scenario")
        if kind != "seen" and (not isinstance(scenario, str) or not scenario):
            raise ClassError("an event names its scenario")
        db = self.db
        if kind == "seen":
            await db.execute("UPDATE trainees SET seen_ms = ? WHERE id = ?", (now, trainee.id))
        elif kind == "started":
            await db.execute(
                "UPDATE trainees SET scenario = ?, phase = 'started', done = 0, total = ?, "
                "bulk_status = NULL, bulk_id = ?, seen_ms = ? WHERE id = ?",
                (scenario, _int(event.get("total")), _text(event.get("bulkId")), now, trainee.id),
            )
            await db.execute(
                "INSERT OR IGNORE INTO runs (trainee, scenario, started_ms) VALUES (?, ?, ?)",
                (trainee.id, scenario, now),
            )
        elif kind == "progress":
            await db.execute(
                "UPDATE trainees SET scenario = ?, phase = ?, done = ?, total = ?, bulk_status = ?, "
                "seen_ms = ? WHERE id = ?",
                (
                    scenario,
                    str(event.get("phase") or "running")[:40],
                    _int(event.get("done")),
                    _int(event.get("total")),
                    _text(event.get("status")),
                    now,
                    trainee.id,
                ),
            )
        elif kind == "answer":
            verdict = event.get("verdict")
            if verdict not in VERDICTS:
                raise ClassError(f"verdict must be one of {', '.join(VERDICTS)}")
            question, choice = _int(event.get("question")), _int(event.get("choice"))
            if question is None or choice is None:
                raise ClassError("an answer names its question and choice (numbers)")
            # The first answer counts, as on the checklist.
            await db.execute(
                "INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (trainee.id, scenario, question, choice, verdict, now),
            )
        elif kind == "hint":
            question = _int(event.get("question"))
            if question is None:
                raise ClassError("a hint names its question")
            await db.execute(
                "INSERT INTO hints VALUES (?, ?, ?, 1) ON CONFLICT DO UPDATE SET count = count + 1",
                (trainee.id, scenario, question),
            )
        elif kind == "reply":
            text = str(event.get("text") or "")[:10_000]
            await db.execute(
                "INSERT INTO replies VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET text = excluded.text, "
                "replied_ms = excluded.replied_ms",
                (trainee.id, scenario, text, now),
            )
        elif kind == "ended":
            await db.execute(
                "UPDATE runs SET ended_ms = COALESCE(ended_ms, ?) WHERE trainee = ? AND scenario = ?",
                (now, trainee.id, scenario),
            )
            await db.execute(
                "UPDATE trainees SET phase = 'ended', seen_ms = ? WHERE id = ? AND scenario = ?",
                (now, trainee.id, scenario),
            )
        else:
            raise ClassError(f"unknown event type {kind!r}")
        await db.commit()

    async def resume(self, trainee: Trainee) -> dict[str, Any] | None:
        """Where a trainee was, for a reloaded tab: the scenario not yet ended, its bulk, when it started and
        the answers given (question number → choice); None when there is nothing to pick up."""
        rows = await self.rows(
            "SELECT t.scenario, t.bulk_id, r.started_ms FROM trainees t LEFT JOIN runs r "
            "ON r.trainee = t.id AND r.scenario = t.scenario "
            "WHERE t.id = ? AND t.scenario IS NOT NULL AND t.bulk_id IS NOT NULL AND t.phase != 'ended'",
            (trainee.id,),
        )
        if not rows:
            return None
        scenario, bulk_id, started = rows[0]
        answers = await self.rows(
            "SELECT question, choice FROM answers WHERE trainee = ? AND scenario = ?", (trainee.id, scenario)
        )
        return {
            "scenario": scenario,
            "bulkId": bulk_id,
            "startedMs": started,
            "answers": {str(q): c for q, c in answers},
        }

    # -- the instructor's commands -------------------------------------------------------------------------

    async def command(self) -> dict[str, Any]:
        async with self.db.execute("SELECT value FROM class WHERE key = 'command'") as cursor:
            row = await cursor.fetchone()
        default = {"seq": 0, "scenario": None, "paused": False, "ended": False}
        return {**default, **json.loads(row[0])} if row else default

    async def set_command(self, **changes: Any) -> dict[str, Any]:
        command = {**await self.command(), **changes}
        if "scenario" in changes:
            command["seq"] = int(command["seq"]) + 1  # a new start, even of the same scenario
        await self.db.execute(
            "INSERT INTO class VALUES ('command', ?) ON CONFLICT DO UPDATE SET value = excluded.value",
            (json.dumps(command),),
        )
        await self.db.commit()
        return command

    # -- reading it back -----------------------------------------------------------------------------------

    async def overview(self) -> list[dict[str, Any]]:
        """Each trainee, where they are and how they are doing (the instructor's view): one query, polled
        each second by the instructor's page whatever the class's size."""
        rows = await self.rows(
            "SELECT t.id, t.name, t.seen_ms, t.scenario, t.phase, t.done, t.total, t.bulk_status, "
            "r.started_ms, r.ended_ms, "
            "(SELECT COUNT(*) FROM answers a WHERE a.trainee = t.id AND a.scenario = t.scenario "
            " AND a.verdict = 'right'), "
            "(SELECT COUNT(*) FROM answers a WHERE a.trainee = t.id AND a.scenario = t.scenario "
            " AND a.verdict = 'wrong'), "
            "(SELECT COUNT(*) FROM answers a WHERE a.trainee = t.id AND a.scenario = t.scenario "
            " AND a.verdict = 'not applicable'), "
            "(SELECT COALESCE(SUM(h.count), 0) FROM hints h "
            " WHERE h.trainee = t.id AND h.scenario = t.scenario) "
            "FROM trainees t LEFT JOIN runs r ON r.trainee = t.id AND r.scenario = t.scenario "
            "ORDER BY t.joined_ms, t.id"
        )
        now = self._clock()
        return [
            {
                "id": tid,
                "name": name,
                "scenario": scenario,
                "phase": phase,
                "done": done,
                "total": total,
                "status": status,
                "right": right,
                "wrong": wrong,
                "notApplicable": na,
                "hints": hints,
                "seconds": None if started is None else ((ended or now) - started) / 1000,
                "seenMsAgo": now - seen,
            }
            for tid, name, seen, scenario, phase, done, total, status, started, ended, right, wrong, na, hints
            in rows
        ]

    async def answers_for_export(self) -> list[tuple[Any, ...]]:
        """Every answer: (name, scenario, question, choice, verdict, answered_ms, hints, started_ms, id)."""
        return await self.rows(
            "SELECT t.name, a.scenario, a.question, a.choice, a.verdict, a.answered_ms, "
            "COALESCE(h.count, 0), r.started_ms, t.id "
            "FROM answers a JOIN trainees t ON t.id = a.trainee "
            "LEFT JOIN hints h ON h.trainee = a.trainee AND h.scenario = a.scenario "
            "AND h.question = a.question "
            "LEFT JOIN runs r ON r.trainee = a.trainee AND r.scenario = a.scenario "
            "ORDER BY t.name, t.id, a.scenario, a.question"
        )

    async def runs(self) -> list[tuple[Any, ...]]:
        """(trainee, scenario, started_ms, ended_ms) of every scenario started."""
        return await self.rows("SELECT trainee, scenario, started_ms, ended_ms FROM runs")

    async def hints_per_trainee(self) -> dict[str, int]:
        return dict(await self.rows("SELECT trainee, SUM(count) FROM hints GROUP BY trainee"))

    async def replies(self) -> list[tuple[str, str, str]]:
        """(name, scenario, text) of every reply to the customer."""
        return await self.rows(
            "SELECT t.name, r.scenario, r.text FROM replies r JOIN trainees t ON t.id = r.trainee "
            "ORDER BY r.scenario, t.name"
        )

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        async with self.db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:40]


__all__ = ["ClassError", "ClassStore", "Trainee", "clean_name"]
