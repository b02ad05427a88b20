"""The dispatcher's lean HTTP/1.1 client (simulator/webhooks/post.py) against a scripted raw server: the
request goes out byte for byte, connections are kept and reused, every way a body can be framed is read to
its end, and a dead peer, a slow one or a stale kept connection each ends as the dispatcher expects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from simulator.webhooks.post import ConnectError, PostClient, RemoteProtocolError

Script = Callable[[int], bytes | None]  # request number (0-based) → raw answer, None: close without one


class RawServer:
    """Reads one HTTP/1.1 request at a time per connection and writes the scripted raw answer."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hooks/transfers/watch?x=1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                self.requests.append(head + await reader.readexactly(length))
                raw = self.script(len(self.requests) - 1)
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
                if b"connection: close" in raw.lower() or b"HTTP/1.0" in raw.split(b"\r\n")[0]:
                    break
        except (asyncio.IncompleteReadError, ConnectionResetError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def client() -> AsyncIterator[PostClient]:
    posts = PostClient(timeout_s=2, max_idle_per_host=4)
    yield posts
    await posts.aclose()


NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


async def test_the_request_goes_out_as_built_and_the_connection_is_kept(client: PostClient) -> None:
    async with RawServer(lambda n: NO_CONTENT) as server:
        url = server.url
        for _ in range(3):
            assert (
                await client.post(url, b'{"a":1}', {"call-ref": "r1", "content-type": "application/json"})
                == 204
            )
    assert server.connections == 1
    authority = url.split("/")[2].encode()
    assert server.requests[0] == (
        b"POST /hooks/transfers/watch?x=1 HTTP/1.1\r\nhost: " + authority + b"\r\ncontent-length: 7\r\n"
        b'call-ref: r1\r\ncontent-type: application/json\r\n\r\n{"a":1}'
    )


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    ],
)
async def test_framed_bodies_are_read_to_their_end_and_the_connection_reused(
    client: PostClient, answer: bytes
) -> None:
    async with RawServer(lambda n: answer) as server:
        assert [await client.post(server.url, b"{}", {}) for _ in range(2)] == [200, 200]
    assert server.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 503 Busy\r\nconnection: close\r\ncontent-length: 4\r\n\r\nbusy",
        b"HTTP/1.0 200 OK\r\n\r\nthe body ends with the connection",
    ],
)
async def test_a_connection_the_server_ends_is_not_reused(client: PostClient, answer: bytes) -> None:
    async with RawServer(lambda n: answer) as server:
        statuses = [await client.post(server.url, b"{}", {}) for _ in range(2)]
    assert statuses == [int(answer.split(b" ")[1])] * 2
    assert server.connections == 2


async def test_a_kept_connection_the_server_dropped_is_retried_once_on_a_new_one(client: PostClient) -> None:
    # The second request meets the connection the server closed without answering (its keep-alive ran out).
    async with RawServer(lambda n: None if n == 1 else NO_CONTENT) as server:
        assert await client.post(server.url, b"{}", {}) == 204
        assert await client.post(server.url, b"{}", {}) == 204
    assert server.connections == 2
    assert len(server.requests) == 3


async def test_a_fresh_connection_closed_without_an_answer_is_an_error(client: PostClient) -> None:
    async with RawServer(lambda n: None) as server:
        with pytest.raises(RemoteProtocolError):
            await client.post(server.url, b"{}", {})


async def test_a_slow_server_is_a_timeout(client: PostClient) -> None:
    client.timeout_s = 0.05
    async with RawServer(lambda n: b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort") as server:
        with pytest.raises(TimeoutError):
            await client.post(server.url, b"{}", {})


async def test_nobody_listening_is_a_connect_error(client: PostClient) -> None:
    async with RawServer(lambda n: NO_CONTENT) as server:
        url = server.url
    with pytest.raises(ConnectError):
        await client.post(url, b"{}", {})


async def test_a_header_that_would_split_the_request_is_refused(client: PostClient) -> None:
    with pytest.raises(ValueError, match="split"):
        await client.post("http://127.0.0.1:9/x", b"{}", {"x-a": "1\r\nx-b: 2"})
    with pytest.raises(ValueError, match="plain http"):
        await client.post("https://127.0.0.1:9/x", b"{}", {})
