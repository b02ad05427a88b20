"""``bulkdash-sim``: run the simulator on its own.

``bulkdash-sim serve --host 127.0.0.1 --port 8080 --db PATH --op-delay-ms 50 --webhook-url URL``; every flag
falls back to its ``SIM_*`` environment variable (Appendix B), then to the default.
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
    return parser


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
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            print(f"bulkdash-sim: invalid setting {field}: {err['msg']}", file=sys.stderr)
        return 2
    from simulator.server import Simulator  # imported late: `--help` stays instant

    sim = Simulator(settings)
    url = f"http://{settings.host}:{settings.port}"
    webhooks = ", ".join(f"{p} → {u}" for p, u in settings.webhook_base_urls().items()) or "not configured"
    print(
        BANNER.format(
            url=url,
            db=settings.db,
            delay=settings.op_delay_ms,
            webhooks=webhooks,
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
