"""``bulkdash-sim serve``: the simulator on its own, over HTTP.

``bulkdash-sim serve --host 127.0.0.1 --port 8080 --db PATH --op-delay-ms 50 --webhook-url URL``; every flag
falls back to its ``SIM_*`` environment variable (Appendix B), then to the default. ``--faults FILE`` starts
with a fault plan (TOML, see ``simulator/faults/plan.py``) active.

Nothing runs before the command knows it can serve: the settings and the fault plan are checked, the port is
bound (the very socket uvicorn then serves, so no other program can take it in between; ``--port 0`` picks
a free one and the banner shows it), and the database is opened (locked, migrated, checked). A port in use,
an address that is not this machine's, or a file that cannot serve — not a database, damaged, from a newer
simulator, read-only, in use by another simulator — ends the command with one line on stderr and exit
status 2, before the banner (``--debug`` adds the traceback of a database problem). Bound beyond loopback,
the banner warns and the control API requires a token (``--control-token`` / ``SIM_CONTROL_TOKEN``, else one
is generated and printed; see simulator/http/control.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sqlite3
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from pydantic import SecretStr, ValidationError

from simulator.settings import SimSettings, is_loopback
from simulator.world.seed import DEMO_PASSWORD, PROGRAMMES

if TYPE_CHECKING:
    from simulator.faults import FaultPlan
    from simulator.server import Simulator

PROG = "bulkdash-sim"
#: Exit status of a command that cannot start (as argparse's, for a usage error).
CANNOT_START = 2

BANNER = """bulkdash simulator — Weavr Multi API bulk processes, offline
  base URL     {url}/multi
  control API  {url}/_sim
  database     {db}
  op delay     {delay} ms per operation
  webhooks     {webhooks}

Demo credentials (password for every user: {password}):
  api-key {key1}: alice@acme.example (ROOT, Acme 1001), frank@acme.example (ADMIN),
                  fiona@acme.example (FUNDS_MANAGEMENT_ROLE), carol@globex.example (Globex 1002)
  api-key {key2}: erin@initech.example (Initech 1004)

Log in:  curl -s -X POST {url}/multi/login_with_password -H 'api-key: {key1}' \\
           -H 'content-type: application/json' \\
           -d '{{"email":"alice@acme.example","password":{{"value":"{password}"}}}}'
Press Ctrl-C to stop.
"""

BEYOND_LOOPBACK = """WARNING: listening on {host}, beyond loopback. Anyone who can reach port {port} can use
         the API with the demo credentials below; the control API ({url}/_sim) requires the
         control token: Authorization: Bearer <token>
"""
TOKEN_GENERATED = """  control token  {token}
                 (generated for this run: send it as 'Authorization: Bearer <token>' to /_sim;
                 --control-token or SIM_CONTROL_TOKEN chooses one)
"""
TOKEN_GIVEN = """  control token  as given (--control-token / SIM_CONTROL_TOKEN): /_sim requires it
"""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # Ctrl-C / SIGTERM already led to a graceful shutdown (workers stopped, last batch committed):
            # exit 0 instead of re-raising the signal.
            self._captured_signals.clear()


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="serve the simulated API over HTTP")
    serve.add_argument("--host", help="listen address (SIM_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port, 0 for any free one (SIM_PORT, default 8080)")
    serve.add_argument("--db", type=Path, help="SQLite file (SIM_DB, default in the user data dir)")
    serve.add_argument(
        "--op-delay-ms",
        type=int,
        dest="op_delay_ms",
        help="time each operation spends RUNNING (SIM_OP_DELAY_MS, default 50)",
    )
    serve.add_argument(
        "--webhook-url",
        dest="webhook_url",
        help="webhook base URL for programme P1 (SIM_WEBHOOK_BASE_URL_P1)",
    )
    serve.add_argument("--webhook-url-p2", dest="webhook_url_p2", help="webhook base URL for programme P2")
    serve.add_argument("--rate-limits", dest="rate_limits", help="e.g. '100;w=60,1000;w=3600' or 'off'")
    serve.add_argument("--faults", type=Path, help="a fault plan (TOML) to start with; see GET /_sim/faults")
    serve.add_argument(
        "--control-token",
        dest="control_token",
        metavar="TOKEN",
        help="require this token (Authorization: Bearer) on the control API /_sim (SIM_CONTROL_TOKEN, "
        "preferred: not visible in ps); bound beyond loopback one is generated when not given",
    )
    serve.add_argument(
        "--packs",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also offer the scenario packs in DIR (repeatable; besides the shipped and your own)",
    )
    serve.add_argument(
        "--debug", action="store_true", help="show the traceback when the simulator cannot start"
    )
    serve.set_defaults(handler=serve_command)


def settings_from(args: argparse.Namespace) -> SimSettings:
    overrides = {
        k: v
        for k, v in {
            "host": args.host,
            "port": args.port,
            "db": args.db,
            "op_delay_ms": args.op_delay_ms,
            "webhook_base_url_p1": args.webhook_url,
            "webhook_base_url_p2": args.webhook_url_p2,
            "rate_limits": args.rate_limits,
            "control_token": args.control_token,
        }.items()
        if v is not None
    }
    return SimSettings(**overrides)


def banner(settings: SimSettings, faults: Path | None, *, token_generated: bool) -> str:
    url = f"http://{settings.host}:{settings.port}"
    webhooks = ", ".join(f"{p} → {u}" for p, u in settings.webhook_base_urls().items()) or "not configured"
    text = BANNER.format(
        url=url,
        db=settings.db,
        delay=settings.op_delay_ms,
        webhooks=webhooks + (f"\n  faults       {faults} (GET {url}/_sim/faults)" if faults else ""),
        password=DEMO_PASSWORD,
        key1=PROGRAMMES[0].api_key,
        key2=PROGRAMMES[1].api_key,
    )
    token = settings.control_token
    if token is not None:
        # The token is printed only when we made it up: one given is the caller's, and may sit in a log.
        extra = TOKEN_GENERATED.format(token=token.get_secret_value()) if token_generated else TOKEN_GIVEN
        text = text.replace("\n\nDemo credentials", f"\n{extra.rstrip()}\n\nDemo credentials", 1)
    if not is_loopback(settings.host):
        text = BEYOND_LOOPBACK.format(host=settings.host, port=settings.port, url=url) + text
    return text


def _say(line: str) -> int:
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)
    return CANNOT_START


def _say_cannot_start(settings: SimSettings, exc: BaseException, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    from simulator.store.store import StoreError

    if isinstance(exc, StoreError):
        return _say(str(exc))
    return _say(f"cannot use the simulator database {settings.db}: {exc}")  # a damaged page met later


async def serve(
    sim: Simulator, config: uvicorn.Config, text: str, debug: bool, sock: socket.socket | None = None
) -> int:
    """Open the simulator (its database first), print the banner, serve (on ``sock`` when given, already
    bound) until stopped, then close it."""
    from simulator.store.store import StoreError

    try:
        await sim.start()
    except (StoreError, sqlite3.Error) as exc:
        await sim.store.close()  # nothing may keep the process alive (aiosqlite's threads are not daemons)
        return _say_cannot_start(sim.settings, exc, debug)
    except BaseException:
        await sim.store.close()
        raise
    try:
        print(text, flush=True)
        await _Server(config).serve(sockets=[sock] if sock is not None else None)
    finally:
        await sim.stop()
    return 0


def serve_command(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            _say(f"invalid setting {field}: {err['msg']}")
        return CANNOT_START
    from simulator.scenarios.sources import pack_dir_problem, use_pack_dirs

    for folder in args.packs:
        if (problem := pack_dir_problem(folder)) is not None:
            return _say(problem)
    use_pack_dirs(args.packs)
    from bulkdash.serving import bind_problem, bind_socket_now

    try:
        # First thing: a port in use is one line within a moment, not a traceback after the banner.
        sock = bind_socket_now(settings.host, settings.port)
    except OSError as exc:
        return _say(bind_problem(settings.host, settings.port, exc))
    try:
        settings.port = sock.getsockname()[1]  # --port 0: the one the system chose, for the banner
        return _serve_on(sock, settings, args)
    finally:
        sock.close()  # uvicorn closed it when it stopped serving; not served (refused), it is closed here


def _serve_on(sock: socket.socket, settings: SimSettings, args: argparse.Namespace) -> int:
    from simulator.faults import PlanError, load_plan
    from simulator.http.control import resolve_control_token
    from simulator.server import Simulator  # imported late: `--help` stays instant

    given = settings.control_token is not None
    token = resolve_control_token(settings)  # the one given, or one made up beyond loopback, or None
    settings.control_token = SecretStr(token) if token is not None else None
    try:
        plan: FaultPlan | None = load_plan(args.faults) if args.faults is not None else None
        sim = Simulator(settings)
        if plan is not None:
            sim.engine.faults.set(plan)  # its windows count from now
    except PlanError as exc:
        return _say(f"invalid fault plan:\n{exc}")
    config = uvicorn.Config(
        sim.asgi,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        # The simulator is opened and closed around serving (serve()), so that a database that cannot
        # serve ends the command with one line before anything is served or the banner printed.
        lifespan="off",
        timeout_graceful_shutdown=3,
    )
    text = banner(settings, args.faults, token_generated=not given)
    try:
        # uvicorn's own event loop choice (uvloop when installed), as uvicorn.Server.run would make it.
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            status = runner.run(serve(sim, config, text, args.debug, sock))
    except KeyboardInterrupt:
        status = 0
    if status == 0:
        print("bulkdash simulator stopped; state is saved in", settings.db, flush=True)
    return status
