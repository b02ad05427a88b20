"""Baselines for the HTTP benchmarks: the least a Starlette app on uvicorn can do for the same request.

``python -m benchmarks._bare_app get --port P --body-bytes N`` serves ``GET /multi/bulks/{bulk_id}`` with a
fixed JSON body of N bytes, ``post --port P`` serves any ``POST`` by reading the body and answering 204 (the
webhook receiver's route without verification or storage). Both run on uvicorn with the simulator's
server settings (httptools, uvloop, no access log), in their own process, so that a benchmark measures
them with the same client, on the same machine, in the same run as the real server.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def get_app(body_bytes: int) -> Starlette:
    body = b'{"pad":"' + b"x" * max(0, body_bytes - 10) + b'"}'

    async def bulk(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/multi/bulks/{bulk_id}", bulk, methods=["GET"])])


def post_app() -> Starlette:
    async def receive(request: Request) -> Response:
        await request.body()
        return Response(status_code=204)

    return Starlette(routes=[Route("/{path:path}", receive, methods=_ALL_METHODS)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["get", "post"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-bytes", type=int, default=200)
    args = parser.parse_args(argv)
    app = get_app(args.body_bytes) if args.kind == "get" else post_app()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
