"""The presenter controls' contract (``/_sim/presenter``), once for the simulator and the dashboard: the
playback speed range and the body of ``PUT /_sim/presenter``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MIN_SPEED = 0.1
MAX_SPEED = 10.0


class PresenterUpdate(BaseModel):
    """Body of ``PUT /_sim/presenter``: what to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    paused: bool | None = None
    speed: float | None = Field(default=None, ge=MIN_SPEED, le=MAX_SPEED)


__all__ = ["MAX_SPEED", "MIN_SPEED", "PresenterUpdate"]
