"""``bulkdash`` with no subcommand: build the session from the command line and run the dashboard.

Embedded by default (the simulator in this process, its webhooks wired to the dashboard's receiver, logged
in as the demo user); ``--url`` with ``--api-key`` and ``--token`` (or ``--email``/``--password``) drives a
real Weavr endpoint, and so does ``--profile NAME`` from the config file (``bulkdash.config``), its secrets
resolved (or asked for) before the screen takes over the terminal. The session is built inside the app's
event loop (``BulkdashApp`` calls the connector in a worker), so the embedded simulator shares the loop and
the screen appears before it is ready.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING

from bulkdash.session import EmbeddedOptions, Session

if TYPE_CHECKING:
    from bulkdash.config import ResolvedProfile


def connector_from_profile(profile: ResolvedProfile):  # type: ignore[no-untyped-def]
    """An async callable connecting with a resolved profile (secrets unwrapped only here)."""

    async def remote() -> Session:
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
        )

    return remote


def profile_from_args(args: argparse.Namespace) -> ResolvedProfile:
    """The ``--profile`` named, with explicit flags (``--url``, ``--api-key``, …) beating the file."""
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
    return dataclasses.replace(profile, **overrides) if overrides else profile  # type: ignore[arg-type]


def connector_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """An async callable building the session the flags describe (nothing is started yet)."""
    url: str | None = getattr(args, "url", None)
    if url:
        api_key: str = args.api_key
        token: str | None = args.token
        email: str | None = args.email
        password: str | None = args.password
        receiver_port: int = getattr(args, "receiver_port", 0) or 0
        sim_root: str | None = getattr(args, "sim", None)
        sim_token: str | None = getattr(args, "sim_token", None) if sim_root else None

        async def remote() -> Session:
            return await Session.remote(
                url,
                api_key,
                token=token,
                email=email,
                password=password,
                receiver_port=receiver_port,
                sim_root=sim_root,
                sim_token=sim_token,
            )

        return remote

    options = EmbeddedOptions(
        db=getattr(args, "db", None),
        op_delay_ms=getattr(args, "op_delay_ms", 50),
        fresh=bool(getattr(args, "fresh", False)),
    )

    async def embedded() -> Session:
        return await Session.embedded(options)

    return embedded


def check_args(args: argparse.Namespace) -> str | None:
    """Why the flags cannot work together, or None."""
    if getattr(args, "profile", None):
        return None  # the profile supplies what the flags do not; checked when it is resolved
    if getattr(args, "url", None):
        if not args.api_key:
            return "--url needs --api-key (or $BULKDASH_API_KEY)"
        if not args.token and not (args.email and args.password):
            return "--url needs --token, or --email with --password"
    elif getattr(args, "email", None):
        return "--email is for a real endpoint: give --url too"
    elif getattr(args, "sim", None):
        return "--sim is for a standalone bulkdash-sim reached with --url (the embedded one has it already)"
    return None


def training_connector():  # type: ignore[no-untyped-def]
    """The embedded simulator on a throw-away database, sending transaction webhooks too (the packs are
    small and some questions are about them)."""
    options = EmbeddedOptions(fresh=True, op_delay_ms=50, transaction_webhooks=True)

    async def embedded() -> Session:
        return await Session.embedded(options)

    return embedded


def run_training(args: argparse.Namespace) -> int:
    """``bulkdash train``: the Scenarios screen first, on a fresh simulator at the chosen playback speed."""
    from bulkdash.ui.app import BulkdashApp

    app = BulkdashApp(
        training_connector(),
        read_only=bool(getattr(args, "read_only", False)),
        start="scenarios",
        speed=getattr(args, "speed", None),
    )
    return int(app.run() or 0)


def run_dashboard(args: argparse.Namespace) -> int:
    problem = check_args(args)
    if problem is not None:
        print(f"bulkdash: {problem}", file=sys.stderr)
        return 2
    connector = connector_from_args(args)
    if getattr(args, "profile", None):
        from bulkdash.config import ConfigError

        try:
            # Before Textual takes the terminal: a missing secret is asked for with hidden input.
            connector = connector_from_profile(profile_from_args(args))
        except ConfigError as exc:
            print(f"bulkdash: {exc}", file=sys.stderr)
            return 2
    choices, path = None, None
    if not getattr(args, "profile", None) and not getattr(args, "url", None):
        from bulkdash import config
        from bulkdash.connect import choices_from_file

        path = config.config_path(getattr(args, "config", None))
        try:
            # Two or more profiles: the connect screen offers them, the embedded simulator first.
            choices = choices_from_file(path, connector)
        except config.ConfigError as exc:
            print(f"bulkdash: {exc} (starting the embedded simulator)", file=sys.stderr)
    from bulkdash.ui.app import BulkdashApp  # Textual is imported only when the dashboard runs

    app = BulkdashApp(
        connector, choices=choices, config_path=path, read_only=bool(getattr(args, "read_only", False))
    )
    result = app.run()
    return int(result or 0)
