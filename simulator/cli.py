"""``bulkdash-sim``: run the simulator on its own.

``bulkdash-sim serve --host 127.0.0.1 --port 8080 --db PATH --op-delay-ms 50 --webhook-url URL``; every flag
falls back to its ``SIM_*`` environment variable (Appendix B), then to the default. ``--faults FILE`` starts
with a fault plan (TOML, see ``simulator/faults/plan.py``) active.

``bulkdash-sim scenario list`` lists the shipped scenario packs; ``bulkdash-sim scenario run NAME [--seed N]
[--db PATH]`` plays one headless on a throw-away simulator, prints a summary and MATCH or MISMATCH, and exits
0 or 1 accordingly.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from simulator.settings import SimSettings
from simulator.world.seed import DEMO_PASSWORD, IDENTITIES, PROGRAMMES

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


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # Ctrl-C / SIGTERM already led to a graceful shutdown (workers stopped, last batch committed):
            # exit 0 instead of re-raising the signal.
            self._captured_signals.clear()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bulkdash-sim", description="Simulator of Weavr's bulk-process API")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the simulated API over HTTP")
    serve.add_argument("--host", help="listen address (SIM_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (SIM_PORT, default 8080)")
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
    scenario = sub.add_parser("scenario", help="training scenarios: list them, or play one headless")
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    scenario_sub.add_parser("list", help="list the shipped scenarios")
    run = scenario_sub.add_parser("run", help="submit, execute and follow a scenario; MATCH or MISMATCH")
    run.add_argument("name", help="scenario name (see 'scenario list')")
    run.add_argument(
        "--seed", type=int, help="seed of the fault plan and generated items (default: the pack's)"
    )
    run.add_argument("--db", type=Path, help="SQLite file to run on (default: a temporary one)")
    return parser


def scenario_main(args: argparse.Namespace) -> int:
    """``bulkdash-sim scenario list | run NAME [--seed N] [--db PATH]``."""
    from simulator.faults import PlanError
    from simulator.scenarios import get_scenario, list_scenarios

    try:
        scenarios = list_scenarios()
    except PlanError as exc:
        print(f"bulkdash-sim: a scenario pack is invalid:\n{exc}", file=sys.stderr)
        return 2
    if args.scenario_command == "list":
        width = max(len(s.name) for s in scenarios)
        for s in scenarios:
            print(f"{s.name:<{width}}  {s.title}  ({s.bulk.size} × {s.bulk.kind.value}, {s.execute.mode})")
        return 0
    found = get_scenario(args.name)
    if found is None:
        print(f"bulkdash-sim: no scenario {args.name!r}; try 'bulkdash-sim scenario list'", file=sys.stderr)
        return 2
    from simulator.scenarios.runner import run_scenario_sync

    return run_scenario_sync(found, args.seed, db=args.db)


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
        }.items()
        if v is not None
    }
    return SimSettings(**overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "scenario":
        return scenario_main(args)
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            print(f"bulkdash-sim: invalid setting {field}: {err['msg']}", file=sys.stderr)
        return 2
    from simulator.faults import PlanError, load_plan
    from simulator.server import Simulator  # imported late: `--help` stays instant

    try:
        plan = load_plan(args.faults) if args.faults is not None else None
        sim = Simulator(settings)
        if plan is not None:
            sim.engine.faults.set(plan)  # its windows count from now
    except PlanError as exc:
        print(f"bulkdash-sim: invalid fault plan:\n{exc}", file=sys.stderr)
        return 2
    url = f"http://{settings.host}:{settings.port}"
    webhooks = ", ".join(f"{p} → {u}" for p, u in settings.webhook_base_urls().items()) or "not configured"
    print(
        BANNER.format(
            url=url,
            db=settings.db,
            delay=settings.op_delay_ms,
            webhooks=webhooks
            + (f"\n  faults       {args.faults} (GET {url}/_sim/faults)" if args.faults else ""),
            password=DEMO_PASSWORD,
            key1=PROGRAMMES[0].api_key,
            key2=PROGRAMMES[1].api_key,
        ),
        flush=True,
    )
    assert IDENTITIES  # the banner names seeded identities
    config = uvicorn.Config(
        sim.asgi,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    try:
        _Server(config).run()
    except KeyboardInterrupt:
        pass
    print("bulkdash simulator stopped; state is saved in", settings.db, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
