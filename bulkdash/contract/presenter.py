"""The presenter controls' contract (``/_sim/presenter``), once for the simulator and the dashboard: the
playback speed range, the body of ``PUT /_sim/presenter`` and of ``POST /_sim/presenter/hold``, and how fast a
scenario pack plays for a trainee by default."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MIN_SPEED = 0.1
MAX_SPEED = 10.0
#: A pack's ``[run] speed`` when it names none: a trainee's run plays 20 times slower than the headless
#: runner's (a pack's 10 ms operation takes 200 ms), slow enough to follow it by eye.
TRAINEE_SPEED = 0.05
#: The slowest a pack may play for a trainee (its op delay is divided by the speed, at set-up).
MIN_TRAINEE_SPEED = 0.01


class PresenterUpdate(BaseModel):
    """Body of ``PUT /_sim/presenter``: what to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    paused: bool | None = None
    speed: float | None = Field(default=None, ge=MIN_SPEED, le=MAX_SPEED)


class PresenterHold(BaseModel):
    """Body of ``POST /_sim/presenter/hold``: pause the world when ``bulkId``'s operation ``operation`` is
    about to run (a trainee's "your move" moment)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    bulkId: str = Field(min_length=1, max_length=40, pattern=r"^[0-9]+$")
    operation: int = Field(ge=1, le=10_000)


__all__ = [
    "MAX_SPEED",
    "MIN_SPEED",
    "MIN_TRAINEE_SPEED",
    "TRAINEE_SPEED",
    "PresenterHold",
    "PresenterUpdate",
]
