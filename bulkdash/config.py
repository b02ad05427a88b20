"""Profiles of real Weavr endpoints in a TOML file, for ``bulkdash --profile NAME``.

The file is ``config.toml`` in the per-user config dir (platformdirs), or ``$BULKDASH_CONFIG``, or
``--config PATH``. The embedded simulator needs no configuration and stays the default.

Secrets (``api_key``, ``token``, ``password``, ``webhook_key``) are ``SecretStr`` throughout, so no repr or
log shows them. In the file they may be ``"env:VAR"`` (read at start), left out (asked for at start with
hidden input when there is a terminal), or written literally — then the file must be private (0600), and a
warning says so otherwise. ``BULKDASH_<FIELD>`` environment variables override the chosen profile's fields.
No I/O here beyond reading the file and writing it (``init``, ``edit_profile``); no Textual.

Edits keep the file the user wrote: they go through tomlkit, which keeps comments, order, formatting and
keys this version does not know; only the edited fields (and the profile's name) change, every other byte
stays. The result is validated before it is saved (it must load, URLs must be http(s) URLs) and written
atomically (temp file + ``os.replace``), private (0600) from its creation.
"""

from __future__ import annotations

import getpass
import io
import os
import stat
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_ENV = "BULKDASH_CONFIG"
SECRET_FIELDS = ("api_key", "token", "password", "webhook_key")
ENV_PREFIX = "env:"


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and what is wrong."""


class Profile(BaseModel):
    """One endpoint. Auth is a ``token``, or ``email`` with ``password``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    api_key: SecretStr | None = None
    token: SecretStr | None = None
    email: str | None = None
    password: SecretStr | None = None
    #: The key webhooks are signed with (Weavr: the programme's api-key, the default).
    webhook_key: SecretStr | None = None
    receiver_host: str = "127.0.0.1"
    receiver_port: Annotated[int, Field(ge=0, le=65535)] = 0
    #: The URL the sender reaches the receiver at (a tunnel), shown to the user.
    public_url: str | None = None


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profiles: dict[str, Profile] = Field(default_factory=dict)


class ProfileOverrides(BaseSettings):
    """``BULKDASH_BASE_URL``, ``BULKDASH_API_KEY``, … : environment values beating the file's."""

    model_config = SettingsConfigDict(env_prefix="BULKDASH_", extra="ignore")

    base_url: str | None = None
    api_key: SecretStr | None = None
    token: SecretStr | None = None
    email: str | None = None
    password: SecretStr | None = None
    webhook_key: SecretStr | None = None
    receiver_host: str | None = None
    receiver_port: int | None = None
    public_url: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedProfile:
    """A profile with every secret it needs in hand (still ``SecretStr``), ready to connect."""

    name: str
    base_url: str
    api_key: SecretStr
    token: SecretStr | None
    email: str | None
    password: SecretStr | None
    webhook_key: SecretStr
    receiver_host: str
    receiver_port: int
    public_url: str | None


def default_path() -> Path:
    return platformdirs.user_config_path("bulkdash") / "config.toml"


def config_path(explicit: Path | str | None = None) -> Path:
    """``--config`` beats ``$BULKDASH_CONFIG`` beats the per-user default."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    return default_path()


def _describe(exc: ValidationError) -> str:
    # ``include_input=False``: a wrongly typed secret must not be echoed back.
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)
    )


def load(path: Path, *, warn: TextIO | None = None) -> ConfigFile:
    """Read and check the file; ``ConfigError`` names the file and the line or field that is wrong."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (create one with `bulkdash config init`)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None  # the message carries line and column
    try:
        config = ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from None
    check_permissions(path, config, warn=warn if warn is not None else sys.stderr)
    return config


def holds_literal_secret(config: ConfigFile) -> bool:
    for profile in config.profiles.values():
        for name in SECRET_FIELDS:
            value: SecretStr | None = getattr(profile, name)
            if value is not None and not value.get_secret_value().startswith(ENV_PREFIX):
                return True
    return False


def check_permissions(path: Path, config: ConfigFile, *, warn: TextIO) -> bool:
    """Warn (and return False) when a file holding a literal secret is readable by group or others."""
    if os.name == "nt" or not holds_literal_secret(config):
        return True  # Windows has ACLs, not mode bits; env: references are no secret
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        print(
            f"warning: {path} holds secrets and is readable by others (mode {mode:04o}); "
            f"run: chmod 600 {path}",
            file=warn,
        )
        return False
    return True


def select(config: ConfigFile, name: str, path: Path, *, env: bool = True) -> Profile:
    """The named profile with ``BULKDASH_*`` environment overrides applied."""
    profile = config.profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise ConfigError(f"{path}: no profile {name!r} (profiles: {known})")
    if not env:
        return profile
    try:
        overrides = ProfileOverrides().model_dump(exclude_none=True)
    except ValidationError as exc:
        raise ConfigError(f"environment: BULKDASH_{_describe(exc).upper()}") from None
    if not overrides:
        return profile
    try:
        return Profile.model_validate({**profile.model_dump(), **overrides})
    except ValidationError as exc:
        raise ConfigError(f"profile {name!r} with environment overrides: {_describe(exc)}") from None


Prompt = Callable[[str], str]


def _interactive() -> bool:
    return sys.stdin.isatty()


def resolve(
    profile: Profile,
    name: str,
    *,
    environ: dict[str, str] | None = None,
    prompt: Prompt | None = None,
    interactive: bool | None = None,
) -> ResolvedProfile:
    """Resolve ``env:VAR`` secrets and ask for missing ones (hidden input) when there is a terminal."""
    environ = dict(os.environ) if environ is None else environ
    interactive = _interactive() if interactive is None else interactive
    ask = prompt or getpass.getpass

    def secret(field: str, value: SecretStr | None, *, required: bool = True) -> SecretStr | None:
        if value is not None:
            text = value.get_secret_value()
            if not text.startswith(ENV_PREFIX):
                return value
            var = text[len(ENV_PREFIX) :]
            if environ.get(var):
                return SecretStr(environ[var])
            raise ConfigError(f"profile {name!r}: {field} refers to ${var}, which is not set")
        if not required:
            return None
        if not interactive:
            raise ConfigError(
                f'profile {name!r}: no {field}; set it in the config file (e.g. "env:VAR") or run '
                "bulkdash in a terminal to be asked for it"
            )
        answer = ask(f"{field} for profile {name!r}: ")
        if not answer:
            raise ConfigError(f"profile {name!r}: no {field} given")
        return SecretStr(answer)

    api_key = secret("api_key", profile.api_key)
    assert api_key is not None
    # A token if one is configured; else email + password; else ask for a token.
    token = secret("token", profile.token, required=not profile.email)
    password = secret("password", profile.password, required=token is None)
    webhook_key = secret("webhook_key", profile.webhook_key, required=False) or api_key
    return ResolvedProfile(
        name=name,
        base_url=profile.base_url,
        api_key=api_key,
        token=token,
        email=profile.email,
        password=password if token is None else None,
        webhook_key=webhook_key,
        receiver_host=profile.receiver_host,
        receiver_port=profile.receiver_port,
        public_url=profile.public_url,
    )


def show(config: ConfigFile) -> str:
    """The profiles as TOML-ish text: literal secrets as ``***``, ``env:`` references as they are."""
    lines: list[str] = []
    for name, profile in config.profiles.items():
        lines.append(f"[profiles.{name}]")
        for field, value in profile.model_dump().items():
            if value is None:
                if field in SECRET_FIELDS[:3]:
                    lines.append(f"# {field}: not set (asked for at start if needed)")
                continue
            if isinstance(value, SecretStr):
                text = value.get_secret_value()
                shown = text if text.startswith(ENV_PREFIX) else "***"
                lines.append(f'{field} = "{shown}"')
            elif isinstance(value, int):
                lines.append(f"{field} = {value}")
            else:
                lines.append(f'{field} = "{value}"')
        lines.append("")
    return "\n".join(lines) if lines else "(no profiles)\n"


EXAMPLE = """\
# bulkdash configuration: profiles of real Weavr endpoints, used with `bulkdash --profile NAME`.
#
# embedded: without --profile (and without --url), bulkdash runs its embedded simulator, logged in as a
# demo user. That needs no configuration and has no profile here.
#
# Secrets (api_key, token, password, webhook_key) may be written as "env:VARIABLE" (read when bulkdash
# starts), or left out to be asked for (hidden input) when bulkdash starts in a terminal. A secret written
# here literally requires this file to stay private (chmod 600); bulkdash warns otherwise.
# BULKDASH_<FIELD> environment variables (BULKDASH_API_KEY, BULKDASH_BASE_URL, ...) override the file.

[profiles.sandbox]
base_url = "https://sandbox.weavr.io/multi"
api_key = "env:WEAVR_API_KEY"
# Authenticate with a user's email and password (the token is renewed when it expires) ...
email = "you@example.com"
password = "env:WEAVR_PASSWORD"
# ... or with an access token instead:
# token = "env:WEAVR_TOKEN"
# The key webhook signatures are checked with (default: api_key).
# webhook_key = "env:WEAVR_API_KEY"
# Where the dashboard's webhook receiver listens, and the public URL reaching it (e.g. a tunnel).
receiver_host = "127.0.0.1"
receiver_port = 9000
# public_url = "https://example.ngrok.app"
"""


def init(path: Path, *, force: bool = False) -> Path:
    """Write the commented example (mode 0600); refuse to overwrite an existing file unless ``force``."""
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists (use --force to overwrite)")
    try:
        save(path, EXAMPLE)
    except OSError as exc:  # a read-only or missing place: one line, not mkstemp's traceback
        raise ConfigError(f"{path}: cannot write it: {exc.strerror or exc}") from None
    return path


def save(path: Path, text: str) -> None:
    """Replace the file atomically: readers see the old text or the new, never a part. The new file is
    0600 from its creation (``mkstemp``), so a secret in it is never briefly readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_profile(
    name: str, explicit: Path | str | None = None, *, warn: TextIO | None = None, **resolve_kwargs: Any
) -> ResolvedProfile:
    """File → profile → environment overrides → secrets resolved: what ``bulkdash --profile`` uses."""
    path = config_path(explicit)
    profile = select(load(path, warn=warn), name, path)
    return resolve(profile, name, **resolve_kwargs)


PROFILE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


#: The fields the connect screen edits; secrets are never edited there.
EDITABLE_FIELDS = ("base_url", "receiver_host", "receiver_port", "public_url")
#: Fields holding a URL: an edit must leave an http(s) URL with a host there (or nothing, when optional).
URL_FIELDS = ("base_url", "public_url")


def check_url(field: str, value: str | None) -> None:
    """``ConfigError`` unless ``value`` is an http:// or https:// URL with a host (None: not set, fine)."""
    if value is None:
        return
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port that is no number or out of range
    except ValueError:
        raise ConfigError(f"{field}: not a URL: {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ConfigError(f"{field}: must be an http:// or https:// URL with a host, not {value!r}")


def edit_profile(path: Path, old_name: str, new_name: str, changes: dict[str, Any]) -> Profile:
    """Change the non-secret ``changes`` of profile ``old_name`` (renamed ``new_name``) and save the file.

    Only what changes is touched: a field given with the value it already has is left as written, comments,
    order, other profiles and unknown keys stay byte for byte. Checked first (the profile with its changes,
    then the whole new file); ``ConfigError`` says what is wrong and leaves the file as it was.
    """
    if not new_name or not set(new_name) <= PROFILE_NAME_CHARS:
        raise ConfigError("name: letters, digits, '-' and '_' only")
    if set(changes) & set(SECRET_FIELDS):
        raise ConfigError("secrets are not edited here")
    if unknown := set(changes) - set(EDITABLE_FIELDS):
        raise ConfigError(f"not editable here: {', '.join(sorted(unknown))}")
    config = load(path, warn=io.StringIO())
    old = config.profiles.get(old_name)
    if old is None:
        raise ConfigError(f"{path}: no profile {old_name!r}")
    if new_name != old_name and new_name in config.profiles:
        raise ConfigError(f"name: a profile {new_name!r} exists already")
    try:
        profile = Profile.model_validate({**old.model_dump(), **changes})
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    for field in URL_FIELDS:
        check_url(field, getattr(profile, field))
    # Imported here: ~30 ms that the dashboard's start-up (which imports this module) does not need.
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, TOMLKitError) as exc:  # it loaded a moment ago: changed meanwhile
        raise ConfigError(f"{path}: cannot edit: {exc}") from None
    profiles = doc["profiles"]
    table = profiles[old_name]
    for field in changes:
        value = getattr(profile, field)
        if value != getattr(old, field):
            _set_key(table, field, value)
    if new_name != old_name:
        _rename(profiles, old_name, new_name)
    text = doc.as_string()
    _check_saved_form(path, text, new_name, profile)
    save(path, text)
    return profile


def _set_key(table: Any, key: str, value: Any) -> None:
    """Set, replace (keeping its comment) or remove (``None``) ``key`` of a profile's table."""
    if value is None:
        if key in table:
            del table[key]
        return
    if key in table:
        table[key] = value  # tomlkit keeps the key's place and its trailing comment
        return
    # A new key goes after the table's last key, not after the blank lines and comments that end the table
    # (those introduce the next one): set them aside, append, put them back.
    body = table.value.body
    tail = []
    while body and body[-1][0] is None:
        tail.insert(0, body.pop())
    table.add(key, value)
    body.extend(tail)


def _rename(profiles: Any, old: str, new: str) -> None:
    """Rename a profile in place: tomlkit has no rename, so the tables from it on are removed and appended
    again in order, each keeping the indentation it had (tomlkit would otherwise add blank lines)."""
    from tomlkit.items import Table

    names = list(profiles.keys())
    moved = [(name, profiles[name]) for name in names[names.index(old) :]]
    indents = [table.trivia.indent if isinstance(table, Table) else None for _, table in moved]
    for name, _ in moved:
        profiles.remove(name)
    for (name, table), indent in zip(moved, indents, strict=True):
        profiles.append(new if name == old else name, table)
        if indent is not None:
            table.trivia.indent = indent


def _check_saved_form(path: Path, text: str, name: str, profile: Profile) -> None:
    """What is about to be saved loads, and holds the edited profile as validated: else nothing is saved."""
    try:
        saved = ConfigFile.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"{path}: the edit would leave an invalid file ({exc}); nothing saved") from None
    if saved.profiles.get(name) != profile:
        raise ConfigError(f"{path}: the edit could not be applied as asked; nothing saved")
