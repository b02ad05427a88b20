"""Simulator settings (docs/behaviour.md Appendix B): environment variables ``SIM_*``, overridable by CLI
flags."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("bulkdash", appauthor=False)) / "simulator.db"


RateWindow = tuple[int, int]  # (limit, window seconds)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine. Names other than ``localhost`` count as
    reachable from outside: what they resolve to can change."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_rate_limits(text: str) -> list[RateWindow]:
    """``"100;w=60,1000;w=3600"`` → ``[(100, 60), (1000, 3600)]``; ``"off"`` → ``[]``."""
    text = text.strip()
    if text.lower() in ("off", "", "none"):
        return []
    out: list[RateWindow] = []
    for part in text.split(","):
        limit, _, window = part.strip().partition(";w=")
        shape = f"rate limit {part.strip()!r} must look like '<n>;w=<seconds>'"
        if not window:
            raise ValueError(shape)
        try:
            pair = (int(limit), int(window))
        except ValueError:
            raise ValueError(f"{shape}, two whole numbers") from None
        if min(pair) < 1:
            # A window of 0 s divided by zero on every request (each answered 500, a user's trial); no
            # request at all per window would refuse the login too.
            raise ValueError(f"{shape}, both at least 1")
        out.append(pair)
    return sorted(out, key=lambda lw: lw[1])


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook base URL (an http(s) URL with a host), or None. ``notaurl`` used to be
    taken, and every delivery then failed on its scheme: the webhooks were lost without a word (a user's
    trial)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return f"not an http(s) URL with a host: {url!r}"
    return None


class SimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIM_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    db: Path = Field(default_factory=default_db_path)
    op_delay_ms: int = Field(50, ge=0)
    token_ttl_s: int = Field(300, ge=1)
    rate_limits: str = "100;w=60,1000;w=3600,10000;w=86400"
    max_active_bulks: int = Field(3, ge=1)
    idempotency_ttl_s: int = Field(86400, ge=1)
    webhook_base_url_p1: str | None = None
    webhook_base_url_p2: str | None = None
    webhook_timeout_s: float = Field(5.0, gt=0)
    webhook_retry_scale: float = Field(1.0, ge=0)
    progress_webhook_path: str = "/bulk_process_end/watch"
    transaction_webhooks: bool = True
    faults: bool = False
    # The control API's token (SIM_CONTROL_TOKEN): required by /_sim when set, and always when bound beyond
    # loopback (generated then; see simulator/http/control.py).
    control_token: SecretStr | None = None
    # Group commit: operations are committed together with their world effects every this many
    # operations or milliseconds, whichever comes first (docs/behaviour.md §5.3 leaves batching to us).
    batch_ops: int = Field(200, ge=1)
    batch_ms: int = Field(50, ge=1)

    @field_validator("rate_limits")
    @classmethod
    def _check_limits(cls, v: str) -> str:
        parse_rate_limits(v)
        return v

    @field_validator("webhook_base_url_p1", "webhook_base_url_p2")
    @classmethod
    def _check_webhook_url(cls, v: str | None) -> str | None:
        problem = webhook_url_problem(v) if v else None
        if problem is not None:
            raise ValueError(problem)
        return v

    @field_validator("control_token")
    @classmethod
    def _check_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().strip():
            return None  # SIM_CONTROL_TOKEN= (empty) means "none given"
        return v

    @property
    def rate_windows(self) -> list[RateWindow]:
        return parse_rate_limits(self.rate_limits)

    def webhook_base_urls(self) -> dict[str, str]:
        out = {}
        if self.webhook_base_url_p1:
            out["P1"] = self.webhook_base_url_p1
        if self.webhook_base_url_p2:
            out["P2"] = self.webhook_base_url_p2
        return out
