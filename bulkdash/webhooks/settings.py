"""Settings of the webhook receiver: where it listens, which keys it checks, where it keeps its history.

The keys are ``SecretStr`` so that a settings object printed in a log, a traceback or a repr never shows
them; code that needs the value calls ``get_secret_value()`` at the point of use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: Bodies above this are answered 413 (bodies of docs/behaviour.md §6 are a few hundred bytes; 1 MiB is
# generous).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_TOLERANCE_S = 300.0
#: A year: any wider tolerance flags nothing anyway; ``inf`` (or ``1e308``) ended ``bulkdash listen`` in a
#: traceback, converting it to milliseconds.
MAX_TOLERANCE_S = 365 * 24 * 3600.0


def default_db_path() -> Path:
    """``webhooks.db`` in the per-user data directory of the ``bulkdash`` app (platform specific)."""
    return platformdirs.user_data_path("bulkdash", appauthor=False) / "webhooks.db"


class ReceiverSettings(BaseModel):
    """Everything a :class:`~bulkdash.webhooks.receiver.WebhookReceiver` needs; immutable once built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 0
    #: The programme's ``api-key``: the HMAC key of ``signature`` and ``signature-v2`` (docs/behaviour.md
    # §6.3).
    signing_key: SecretStr
    #: The programme's webhooks key, compared with the ``webhooks-key`` header when set.
    webhooks_key: SecretStr | None = None
    #: How far ``published-timestamp`` may be from the receiver's clock before it is flagged.
    tolerance_s: Annotated[float, Field(gt=0, le=MAX_TOLERANCE_S)] = DEFAULT_TOLERANCE_S
    #: The SQLite history file (``":memory:"`` keeps it in memory, for throwaway use).
    db_path: Path = Field(default_factory=default_db_path)
    max_body_bytes: Annotated[int, Field(ge=1)] = DEFAULT_MAX_BODY_BYTES

    @field_validator("signing_key")
    @classmethod
    def _signing_key_not_empty(cls, value: SecretStr) -> SecretStr:
        # An empty HMAC key would "verify" signatures anyone can compute: refuse it outright.
        if not value.get_secret_value():
            raise ValueError("signing_key must not be empty")
        return value

    @field_validator("webhooks_key")
    @classmethod
    def _empty_webhooks_key_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty webhooks key would match an empty header: treat it as "not configured".
        if value is not None and not value.get_secret_value():
            return None
        return value
