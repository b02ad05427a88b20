"""``bulkdash`` with no subcommand: build the session from the command line and run the dashboard.

Embedded by default (the simulator in this process, its webhooks wired to the dashboard's receiver, logged
in as the demo user); ``--url`` with ``--api-key`` and ``--token`` (or ``--email``/``--password``) drives a
real Weavr endpoint. The session is built inside the app's event loop (``BulkdashApp`` calls the connector
in a worker), so the embedded simulator shares the loop and the screen appears before it is ready.
"""

from __future__ import annotations

import argparse
import sys

from bulkdash.session import EmbeddedOptions, Session


def connector_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """An async callable building the session the flags describe (nothing is started yet)."""
    url: str | None = getattr(args, "url", None)
    if url:
        api_key: str = args.api_key
        token: str | None = args.token
        email: str | None = args.email
        password: str | None = args.password
        receiver_port: int = getattr(args, "receiver_port", 0) or 0

        async def remote() -> Session:
            return await Session.remote(
                url, api_key, token=token, email=email, password=password, receiver_port=receiver_port
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
    if getattr(args, "url", None):
        if not args.api_key:
            return "--url needs --api-key (or $BULKDASH_API_KEY)"
        if not args.token and not (args.email and args.password):
            return "--url needs --token, or --email with --password"
    elif getattr(args, "email", None):
        return "--email is for a real endpoint: give --url too"
    return None


def run_dashboard(args: argparse.Namespace) -> int:
    problem = check_args(args)
    if problem is not None:
        print(f"bulkdash: {problem}", file=sys.stderr)
        return 2
    from bulkdash.ui.app import BulkdashApp  # Textual is imported only when the dashboard runs

    app = BulkdashApp(connector_from_args(args))
    result = app.run()
    return int(result or 0)
