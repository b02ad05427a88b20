"""``bulkdash`` with no command: the dashboard, connected as its flags say.

Embedded by default (the simulator in this process, its webhooks wired to the dashboard's receiver, logged
in as the demo user); ``--url`` with ``--api-key`` and ``--token`` (or ``--email``/``--password``) drives a
real Weavr endpoint, and so does ``--profile NAME`` from the config file (``bulkdash.config``), its secrets
resolved (or asked for) before the screen takes over the terminal. ``--sim ROOT`` adds the control API of a
standalone ``bulkdash-sim`` to either. The session is built inside the app's event loop once its first
screen is painted (``BulkdashApp`` calls the connector in a worker), so the embedded simulator shares the
loop and the screen appears before it is ready.

Issue 16 measured the embedded simulator in a process of its own, spawned first thing so that it imports
while the dashboard imports and paints (``bulkdash.sim_process``): connected sooner (0.38-0.45 s against
0.47-0.52 s on the two-core machine) but still over the 2.0x target, at the cost of a second interpreter
(~77 MB) per dashboard, which ``serve`` and ``classroom`` multiply by thirty; keys were as quick either way.
Forked instead of spawned (tried, not kept), the child served ~0.24 s after the start, before the dashboard
had even begun to connect, and connected stayed at 0.44-0.45 s: what the dashboard itself does after its
first frame (the service's imports, the login, the first poll and its drawing, ~0.23 s) is then the limit.
So the simulator stays in this loop by default; ``BULKDASH_SIM_PROCESS=1`` keeps the other design for the
benchmarks' ``--compare`` (and a machine with memory to spare).

Flags that cannot work — a URL that is none, an unknown profile, a flag the chosen connection would ignore —
are refused in one line with exit status 2 before anything starts (:func:`check_args`); a connection that
retries forever is never how a typo is reported. The session, the simulator and Textual are imported only
when the dashboard runs, so ``bulkdash --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bulkdash.cli.options import fail, non_negative_int

if TYPE_CHECKING:
    from bulkdash.config import ResolvedProfile
    from bulkdash.connect import ConnectChoice
    from bulkdash.session import Session
    from bulkdash.sim_process import SimProcess

Connector = Callable[[], Awaitable["Session"]]

#: Environment fallbacks for the secrets, so they need not appear on the command line (visible in ``ps``).
API_KEY_ENV = "BULKDASH_API_KEY"
TOKEN_ENV = "BULKDASH_TOKEN"
PASSWORD_ENV = "BULKDASH_PASSWORD"
SIM_TOKEN_ENV = "BULKDASH_SIM_TOKEN"
CONFIG_ENV = "BULKDASH_CONFIG"  # bulkdash.config.CONFIG_ENV, without importing it (tests check they agree)
DEFAULT_OP_DELAY_MS = 50
#: Set (to anything) to run the embedded simulator in a process of its own, spawned as soon as the command
#: line is parsed (``bulkdash.sim_process``): the design issue 16 measured against this one (``--compare``).
PROCESS_ENV = "BULKDASH_SIM_PROCESS"
#: The longest the garbage collector stays off once connecting began (``freezing``).
GC_OFF_MAX_S = 5.0

#: The dashboard's flags (by argparse dest) that a command may not use: it refuses them rather than ignore
#: them. Secrets are not here: a value taken from the environment was not given on this command line.
FLAGS = {
    "profile": "--profile",
    "config": "--config",
    "url": "--url",
    "email": "--email",
    "sim": "--sim",
    "receiver_port": "--receiver-port",
    "db": "--db",
    "op_delay_ms": "--op-delay-ms",
    "fresh": "--fresh",
    "read_only": "--read-only",
}
EMBEDDED_ONLY = ("db", "fresh", "op_delay_ms")


def add_dashboard_options(parser: argparse.ArgumentParser) -> None:
    """Flags of the dashboard itself (no command). Secrets may come from the environment instead."""
    remote = parser.add_argument_group(
        "a real Weavr endpoint (default: the embedded simulator)",
        "--profile and --url pick the endpoint; the embedded simulator's flags do not go with them.",
    )
    remote.add_argument(
        "--profile", metavar="NAME", help="connect with this profile of the config file (`bulkdash config`)"
    )
    remote.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="the config file (default: $BULKDASH_CONFIG, else the per-user config dir)",
    )
    remote.add_argument(
        "--url",
        help="base URL of the Multi API, http:// or https://, e.g. https://sandbox.weavr.io/multi "
        "(with --profile: instead of the profile's)",
    )
    remote.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV),
        help=f"the programme's api-key (default: ${API_KEY_ENV})",
    )
    remote.add_argument(
        "--token", default=os.environ.get(TOKEN_ENV), help=f"a user's access token (default: ${TOKEN_ENV})"
    )
    remote.add_argument("--email", help="log in with this user's email instead of a token")
    remote.add_argument(
        "--password",
        default=os.environ.get(PASSWORD_ENV),
        help=f"the user's password (default: ${PASSWORD_ENV})",
    )
    remote.add_argument(
        "--sim",
        metavar="ROOT",
        help="with --url or --profile reaching a standalone bulkdash-sim: its root URL (e.g. "
        "http://127.0.0.1:8080), for Scenarios and presenter controls",
    )
    remote.add_argument(
        "--sim-token",
        default=os.environ.get(SIM_TOKEN_ENV),
        metavar="TOKEN",
        help="with --sim: the simulator's control token, when it requires one (bound beyond loopback, or "
        f"started with --control-token) (default: ${SIM_TOKEN_ENV})",
    )
    remote.add_argument(
        "--receiver-port",
        type=int,
        default=None,
        metavar="PORT",
        help="with --url or --profile: port of the dashboard's webhook receiver (default: any free one)",
    )
    embedded = parser.add_argument_group("the embedded simulator (not with --url or --profile)")
    embedded.add_argument(
        "--db", type=Path, default=None, help="simulator database (default: per-user data dir)"
    )
    embedded.add_argument(
        "--op-delay-ms",
        type=non_negative_int,
        default=None,
        metavar="MS",
        help=f"milliseconds each simulated operation takes (default: {DEFAULT_OP_DELAY_MS})",
    )
    embedded.add_argument("--fresh", action="store_true", help="a throw-away simulator database")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="hide and refuse every action that changes something (new bulk, execute, pause, resume, cancel, "
        "scenarios, presenter controls)",
    )


def flags_given(args: argparse.Namespace, dests: tuple[str, ...] | None = None) -> list[str]:
    """The dashboard flags given on this command line (of ``dests``, default all), as they are written."""
    chosen = FLAGS if dests is None else {d: FLAGS[d] for d in dests}
    return [flag for dest, flag in chosen.items() if _given(getattr(args, dest, None))]


def _given(value: object) -> bool:
    return value is not None and value is not False  # 0 is a value (--op-delay-ms 0), False is "not set"


def _listed(flags: list[str]) -> str:
    return f"{', '.join(flags)} {'is' if len(flags) == 1 else 'are'}"


def check_args(args: argparse.Namespace) -> str | None:
    """Why the flags cannot work together, or None. Shared by the dashboard and ``bulkdash report``."""
    if getattr(args, "url", None) or getattr(args, "sim", None):
        # Only then: bulkdash.config (pydantic-settings) is not on the embedded dashboard's way to its screen.
        from bulkdash.config import ConfigError, check_url

        for dest in ("url", "sim"):
            try:
                check_url(FLAGS[dest], getattr(args, dest, None))
            except ConfigError as exc:
                return str(exc)
    remote = getattr(args, "profile", None) or getattr(args, "url", None)
    if remote:
        embedded = flags_given(args, EMBEDDED_ONLY)
        if embedded:
            return f"{_listed(embedded)} for the embedded simulator, not for --url or --profile"
    else:
        if getattr(args, "email", None):
            return "--email is for a real endpoint: give --url too"
        if getattr(args, "sim", None):
            return (
                "--sim is for a standalone bulkdash-sim reached with --url or --profile (the embedded one "
                "has it already)"
            )
        if getattr(args, "receiver_port", None) is not None:
            return (
                "--receiver-port is for a real endpoint (--url or --profile): the embedded simulator "
                "delivers to the dashboard's receiver by itself"
            )
    if getattr(args, "profile", None):
        return None  # the profile supplies what the flags do not; checked when it is resolved
    if getattr(args, "url", None):
        if not args.api_key:
            return f"--url needs --api-key (or ${API_KEY_ENV})"
        if not args.token and not (args.email and args.password):
            return "--url needs --token, or --email with --password"
    return None


def connector_from_profile(
    profile: ResolvedProfile,
    *,
    sim_root: str | None = None,
    sim_token: str | None = None,
    serve_webhooks: bool = True,
) -> Connector:
    """An async callable connecting with a resolved profile (secrets unwrapped only here); ``sim_root``:
    the profile reaches a standalone ``bulkdash-sim``, whose control API is there; ``serve_webhooks``:
    whether its receiver listens (``bulkdash report`` only reads its history)."""

    async def remote() -> Session:
        from bulkdash.session import Session

        return await Session.remote(
            profile.base_url,
            profile.api_key.get_secret_value(),
            token=profile.token.get_secret_value() if profile.token else None,
            email=profile.email,
            password=profile.password.get_secret_value() if profile.password else None,
            signing_key=profile.webhook_key.get_secret_value(),
            receiver_host=profile.receiver_host,
            receiver_port=profile.receiver_port,
            label=f"{profile.name} {profile.base_url}",
            sim_root=sim_root,
            sim_token=sim_token if sim_root else None,
            serve_webhooks=serve_webhooks,
        )

    return remote


def profile_from_args(args: argparse.Namespace) -> ResolvedProfile:
    """The ``--profile`` named, with explicit flags (``--url``, ``--api-key``, …) beating the file.

    ``ConfigError`` when there is no such profile, a secret cannot be resolved, or its URL is none.
    """
    from pydantic import SecretStr

    from bulkdash import config

    profile = config.load_profile(args.profile, getattr(args, "config", None))
    overrides: dict[str, object] = {}
    if getattr(args, "url", None):
        overrides["base_url"] = args.url
    for name in ("api_key", "token", "password"):
        if getattr(args, name, None):
            overrides[name] = SecretStr(getattr(args, name))
    if getattr(args, "email", None):
        overrides["email"] = args.email
    if getattr(args, "receiver_port", None):
        overrides["receiver_port"] = args.receiver_port
    resolved = dataclasses.replace(profile, **overrides) if overrides else profile  # type: ignore[arg-type]
    try:
        # A file written by hand is checked only here: a base_url that is no URL would retry forever.
        config.check_url("base_url", resolved.base_url)
    except config.ConfigError as exc:
        raise config.ConfigError(f"profile {args.profile!r}: {exc}") from None
    return resolved


def connector_from_args(args: argparse.Namespace) -> Connector:
    """An async callable building the session the flags describe (nothing is started yet)."""
    url: str | None = getattr(args, "url", None)
    if url:
        api_key: str = args.api_key
        token: str | None = args.token
        email: str | None = args.email
        password: str | None = args.password
        receiver_port: int = getattr(args, "receiver_port", None) or 0
        sim_root: str | None = getattr(args, "sim", None)
        sim_token: str | None = getattr(args, "sim_token", None) if sim_root else None
        serve_webhooks: bool = getattr(args, "serve_webhooks", True)

        async def remote() -> Session:
            from bulkdash.session import Session

            return await Session.remote(
                url,
                api_key,
                token=token,
                email=email,
                password=password,
                receiver_port=receiver_port,
                sim_root=sim_root,
                sim_token=sim_token,
                serve_webhooks=serve_webhooks,
            )

        return remote

    db: Path | None = getattr(args, "db", None)
    op_delay_ms = getattr(args, "op_delay_ms", None)
    fresh = bool(getattr(args, "fresh", False))
    delay = DEFAULT_OP_DELAY_MS if op_delay_ms is None else op_delay_ms

    async def embedded() -> Session:
        from bulkdash.session import EmbeddedOptions, Session

        return await Session.embedded(EmbeddedOptions(db=db, op_delay_ms=delay, fresh=fresh))

    return embedded


_SPAWNED: list[SimProcess] = []


def _stop_spawned() -> None:
    for process in _SPAWNED:
        process.kill()
    _SPAWNED.clear()


def spawned_connector(args: argparse.Namespace) -> Connector:
    """The embedded simulator of the flags in a process of its own, started NOW: it imports and opens its
    database on the other core while the dashboard imports and paints (``bulkdash.sim_process``). The
    connector then only starts the receiver and logs in. Connecting again (after the simulator died) starts
    a new process."""
    from bulkdash.sim_process import ProcessOptions, spawn

    op_delay_ms = getattr(args, "op_delay_ms", None)
    options = ProcessOptions(
        db=getattr(args, "db", None),
        op_delay_ms=DEFAULT_OP_DELAY_MS if op_delay_ms is None else op_delay_ms,
        fresh=bool(getattr(args, "fresh", False)),
    )
    first = [spawn(options)]
    _SPAWNED.extend(first)

    async def embedded() -> Session:
        from bulkdash.session import Session

        process = first.pop() if first else spawn(options)
        return await Session.spawned(process)

    return embedded


def connector_for(args: argparse.Namespace) -> Connector:
    """The profile's connector with ``--profile`` (``ConfigError`` if it cannot be used), else the flags'."""
    if not getattr(args, "profile", None):
        return connector_from_args(args)
    sim_root: str | None = getattr(args, "sim", None)
    return connector_from_profile(
        profile_from_args(args),
        sim_root=sim_root,
        sim_token=getattr(args, "sim_token", None),
        serve_webhooks=getattr(args, "serve_webhooks", True),
    )


def checked_connector(args: argparse.Namespace) -> tuple[Connector | None, str | None]:
    """The flags checked (:func:`check_args`), then the connector they name: ``(connector, None)``, or
    ``(None, why not)`` for the caller to report in one line. Run before anything takes the terminal: a
    missing secret is asked for with hidden input."""
    problem = check_args(args)
    if problem is not None:
        return None, problem
    if not getattr(args, "profile", None):
        return connector_from_args(args), None  # nothing to read: bulkdash.config stays unimported
    from bulkdash.config import ConfigError

    try:
        return connector_for(args), None
    except ConfigError as exc:
        return None, str(exc)


def freezing(connector: Connector) -> Connector:
    """``connector``, then ``gc.freeze()``: everything start-up made (Textual, pydantic's schemas, the
    session) leaves the garbage collector's generations. Measured during a 10,000-operation run (issue 16),
    a full collection over that heap stopped the dashboard's loop for 0.2-0.6 s (on a loaded machine); with
    it frozen, a full collection walks only what was made since. Start-up's few cycles of garbage stay.

    The collector is off from the start of ``run_dashboard`` until then (``gc.disable``): start-up makes
    ~1 million objects and almost no garbage, and the collections they triggered took ~30 ms before the
    first frame and as much again before the first poll (issue 16, ``benchmarks/dash_cold``). It is turned
    back on once connected, or failed to, and in any case ``GC_OFF_MAX_S`` after the connection began (a
    remote endpoint may keep it retrying)."""

    async def connect() -> Session:
        import asyncio  # already imported (this runs in the app's loop); not on ``bulkdash --help``'s path

        asyncio.get_running_loop().call_later(GC_OFF_MAX_S, gc.enable)
        try:
            return await connector()
        finally:
            gc.freeze()
            gc.enable()

    return connect


def run_dashboard(args: argparse.Namespace) -> int:
    gc.disable()  # until connected: see ``freezing``
    try:
        return _run_dashboard(args)
    finally:
        gc.enable()  # quit (or refused) before connecting: a caller's process (tests) keeps its collector


def _run_dashboard(args: argparse.Namespace) -> int:
    embedded = not (getattr(args, "profile", None) or getattr(args, "url", None))
    # With PROCESS_ENV, first thing (before the flags are checked, which imports pydantic): the simulator
    # starts on the other core while the dashboard imports and paints. Flags that turn out wrong kill it.
    spawned = spawned_connector(args) if embedded and os.environ.get(PROCESS_ENV) else None
    connector, problem = checked_connector(args)
    if connector is None:
        if spawned is not None:
            _stop_spawned()
        return fail(None, problem or "cannot connect")
    connector = freezing(spawned or connector)
    choices, path = _connect_choices(args, connector)
    from bulkdash.ui.app import BulkdashApp  # Textual is imported only when the dashboard runs

    app = BulkdashApp(
        connector, choices=choices, config_path=path, read_only=bool(getattr(args, "read_only", False))
    )
    return int(app.run() or 0)


def _connect_choices(
    args: argparse.Namespace, connector: Connector
) -> tuple[list[ConnectChoice] | None, Path | None]:
    """With neither --profile nor --url and two or more profiles in the config file: the connect screen's
    choices (the embedded simulator first) and the file; else (None, None)."""
    if getattr(args, "profile", None) or getattr(args, "url", None):
        return None, None
    path = _config_path(getattr(args, "config", None))
    if not path.is_file():
        return None, path  # the usual embedded start: bulkdash.config (pydantic-settings) is not imported
    from bulkdash import config
    from bulkdash.connect import choices_from_file

    try:
        return choices_from_file(path, connector), path
    except config.ConfigError as exc:
        print(f"bulkdash: {exc} (starting the embedded simulator)", file=sys.stderr)
        return None, path


def _config_path(explicit: Path | None) -> Path:
    """``bulkdash.config.config_path`` without importing that module (pydantic-settings): only the file's
    existence decides whether it is read. The same precedence: ``--config``, ``$BULKDASH_CONFIG``, default."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    import platformdirs

    return platformdirs.user_config_path("bulkdash") / "config.toml"
