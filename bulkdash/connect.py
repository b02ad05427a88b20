"""What the connect screen offers: the embedded simulator and each profile of the config file.

No Textual here. A choice's ``connect`` builds the session (called from the app's connect worker); a secret
the profile leaves out is asked for through ``ask`` (the dashboard answers with a masked input in a modal,
since it owns the terminal). Rows show the name, base URL and kind of auth, never a secret.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Both are imported when the connect screen is used: neither is on the way to the first screen.
    from bulkdash import config
    from bulkdash.session import Session

#: Ask the user for a secret (the prompt names field and profile); None when they decline.
Ask = Callable[[str], Awaitable[str | None]]
ChoiceConnector = Callable[[Ask], Awaitable["Session"]]

EMBEDDED_TITLE = "Embedded simulator (default)"


@dataclass(frozen=True, slots=True)
class ConnectChoice:
    title: str
    detail: str
    connect: ChoiceConnector
    profile: str | None = None  # the profile's name: editable; None for the embedded simulator


def auth_kind(profile: config.Profile) -> str:
    if profile.token is not None:
        return "token"
    if profile.email:
        return f"login {profile.email}"
    return "token (asked for)"


def embedded_choice(connect: Callable[[], Awaitable[Session]]) -> ConnectChoice:
    async def run(ask: Ask) -> Session:
        return await connect()

    return ConnectChoice(EMBEDDED_TITLE, "no configuration, demo data", run)


class _Needed(Exception):
    def __init__(self, prompt: str) -> None:
        super().__init__(prompt)
        self.prompt = prompt


async def resolve_asking(profile: config.Profile, name: str, ask: Ask) -> config.ResolvedProfile:
    """``config.resolve`` with missing secrets asked for through ``ask`` (awaited, one at a time)."""
    from bulkdash import config

    answers: dict[str, str] = {}

    def prompt(text: str) -> str:
        if text in answers:
            return answers[text]
        raise _Needed(text)

    for _ in range(len(config.SECRET_FIELDS) + 1):
        try:
            return config.resolve(profile, name, prompt=prompt, interactive=True)
        except _Needed as need:
            answer = await ask(need.prompt)
            if not answer:
                raise config.ConfigError(f"profile {name!r}: {need.prompt.split(' ')[0]} not given") from None
            answers[need.prompt] = answer
    raise config.ConfigError(f"profile {name!r}: secrets could not be resolved")


def profile_choice(path: Path, name: str, profile: config.Profile) -> ConnectChoice:
    """Connecting reads the file again (edits apply), applies ``BULKDASH_*`` overrides, resolves secrets."""

    async def run(ask: Ask) -> Session:
        from bulkdash import config
        from bulkdash.cli.dashboard import connector_from_profile

        chosen = config.select(config.load(path, warn=io.StringIO()), name, path)
        resolved = await resolve_asking(chosen, name, ask)
        return await connector_from_profile(resolved)()

    return ConnectChoice(f"{name}", f"{profile.base_url}  ·  {auth_kind(profile)}", run, profile=name)


def choices_from_file(
    path: Path, embedded: Callable[[], Awaitable[Session]], *, minimum: int = 2
) -> list[ConnectChoice] | None:
    """Embedded + every profile, when the file defines at least ``minimum`` of them; else None."""
    if not path.is_file():
        return None
    from bulkdash import config

    loaded = config.load(path)
    if len(loaded.profiles) < minimum:
        return None
    return [embedded_choice(embedded)] + [
        profile_choice(path, name, profile) for name, profile in loaded.profiles.items()
    ]
