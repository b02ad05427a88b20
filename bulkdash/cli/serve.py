"""``bulkdash serve``: the dashboard in a browser, through ``textual-serve``, for a classroom to follow.

Each browser tab that opens the page gets its own ``bulkdash`` process (``python -m bulkdash --fresh …``),
so its own throw-away simulator database, unless ``--profile`` connects every tab to a real endpoint. The
server binds to loopback unless told otherwise; binding elsewhere prints a warning, because anyone who can
reach the port controls a dashboard. ``textual_serve`` (and aiohttp) are imported only when the command
runs, so ``bulkdash --help`` stays fast.

What would make every tab fail — an unknown profile, a port in use — is refused in one line before the
server starts (textual-serve prints its banner before it binds); contradictory flags too.

The page loads nothing from the internet (:mod:`bulkdash.webpage`).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import shlex
import socket
import sys
from typing import Any

from bulkdash.cli.options import add_speed_option, fail, non_negative_int, port_number, run_server

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
COMMAND = "serve"
#: The dashboard flags ``serve`` passes on to its tabs (the others are refused).
HONOURS = frozenset({"--profile", "--config", "--read-only", "--op-delay-ms"})


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        COMMAND,
        help="serve the dashboard to web browsers (textual-serve), on loopback unless told otherwise",
        description=(
            "Serve the dashboard as a web page: every browser tab starts its own dashboard, with its own "
            "throw-away simulator database (or, with --profile, connected to that real endpoint). Binds to "
            "127.0.0.1; to let other machines in, bind another interface with --host and give the URL "
            "their browsers use with --public-url, or forward the port (SSH tunnel, reverse proxy)."
        ),
    )
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s, this machine only)"
    )
    serve.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port to bind (default: %(default)s)"
    )
    serve.add_argument(
        "--public-url",
        metavar="URL",
        default=None,
        help="the URL browsers open, e.g. http://classroom-pc:8000 (default: http://HOST:PORT)",
    )
    dashboard = serve.add_argument_group(
        "passed to each tab's dashboard", "--profile, --train and --op-delay-ms exclude each other."
    )
    # SUPPRESS: the same flags given before `serve` (`bulkdash --read-only serve`) must not be reset here.
    dashboard.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no tab can change anything (recommended when others can reach the page)",
    )
    dashboard.add_argument(
        "--op-delay-ms",
        type=non_negative_int,
        metavar="MS",
        default=argparse.SUPPRESS,
        help="milliseconds each simulated operation takes (default: the dashboard's)",
    )
    dashboard.add_argument(
        "--profile",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="connect every tab to this config profile's real endpoint instead of a fresh simulator",
    )
    dashboard.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="the config file")
    dashboard.add_argument(
        "--train",
        action="store_true",
        help="each tab opens `bulkdash train`: the Scenarios screen on its own fresh simulator",
    )
    add_speed_option(dashboard, "with --train: the simulator's playback speed")
    serve.set_defaults(handler=serve_command, honours=HONOURS)



def dashboard_command(args: argparse.Namespace) -> list[str]:
    """The command line each browser tab's dashboard runs with."""
    argv = [sys.executable, "-m", "bulkdash"]
    profile = getattr(args, "profile", None)
    if getattr(args, "train", False):
        # Training mode: its own fresh simulator per tab, on the Scenarios screen.
        argv += ["train", "--speed", str(args.speed)]
    elif profile:
        argv += ["--profile", profile]
        if getattr(args, "config", None):
            argv += ["--config", str(args.config)]
    else:
        # No config file: the connect screen must not offer this machine's profiles (and their secrets).
        argv += ["--fresh", "--config", os.devnull]
        if getattr(args, "op_delay_ms", None) is not None:
            argv += ["--op-delay-ms", str(args.op_delay_ms)]
    if getattr(args, "read_only", False):
        argv.append("--read-only")
    return argv


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (a name counts if everything it resolves to does)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host in _WILDCARD_HOSTS:
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def public_url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def public_url_problem(public_url: str) -> str | None:
    """Why ``--public-url`` is not a URL browsers can open (``bulkdash serve`` and ``classroom``), or None."""
    if not re.match(r"https?://[^/?#]+(/[^?#]*)?$", public_url.rstrip("/")):
        return f"--public-url must look like http://HOST:PORT or https://HOST/PATH, not {public_url!r}"
    return None


def check_serve_args(args: argparse.Namespace) -> str | None:
    """Why the tabs could not start as asked, or None: found now, not once per tab."""
    if args.public_url is not None and (problem := public_url_problem(args.public_url)) is not None:
        return problem
    profile = getattr(args, "profile", None)
    delay = getattr(args, "op_delay_ms", None) is not None
    if args.train and (profile or delay):
        other = "--profile" if profile else "--op-delay-ms"
        return f"--train gives each tab its own fresh simulator: not with {other}"
    if profile and delay:
        return "--op-delay-ms is for the tabs' fresh simulators, not for --profile"
    return _profile_problem(profile, getattr(args, "config", None)) if profile else None


def _profile_problem(name: str, explicit: str | None) -> str | None:
    """Whether the profile exists and names a URL (its secrets are resolved by each tab)."""
    from bulkdash import config

    path = config.config_path(explicit)
    try:
        profile = config.select(config.load(path), name, path)
        config.check_url("base_url", profile.base_url)
    except config.ConfigError as exc:
        return str(exc)
    return None


def serve_command(args: argparse.Namespace) -> int:
    problem = check_serve_args(args)
    if problem is not None:
        return fail(COMMAND, problem)
    public_url = args.public_url.rstrip("/") if args.public_url else None

    def serve() -> None:
        # Once the port is known to be free: the warnings, then textual-serve (its banner, then its bind).
        _warn_beyond_loopback(args, public_url)
        command = shlex.join(dashboard_command(args))
        url = public_url or public_url_for(args.host, args.port)
        _make_server(command, args.host, args.port, url).serve()

    return run_server(COMMAND, args.host, args.port, serve)


def _warn_beyond_loopback(args: argparse.Namespace, public_url: str | None) -> None:
    if is_loopback(args.host):
        return
    control = (
        "look at a dashboard (--read-only)"
        if getattr(args, "read_only", False)
        else "control a dashboard (create, execute, cancel bulks); consider --read-only"
    )
    print(
        f"bulkdash serve: WARNING: {args.host}:{args.port} is not loopback: anyone who can reach this "
        f"port can {control}.",
        file=sys.stderr,
    )
    if public_url is None and args.host in _WILDCARD_HOSTS:
        wrong = public_url_for(args.host, args.port)
        print(
            f"bulkdash serve: the page tells browsers to connect to {wrong}, which works on this machine "
            f"only; give --public-url http://<this machine>:{args.port}",
            file=sys.stderr,
        )


def _make_server(command: str, host: str, port: int, public_url: str) -> Any:
    from aiohttp import web
    from textual_serve.server import Server

    class _Server(Server):
        async def _make_app(self) -> web.Application:
            import aiohttp_jinja2

            app = await super()._make_app()
            from bulkdash.webpage import offline_page_loader

            aiohttp_jinja2.setup(app, loader=offline_page_loader(self.templates_path))
            return app

    return _Server(command, host=host, port=port, title="bulkdash", public_url=public_url)
