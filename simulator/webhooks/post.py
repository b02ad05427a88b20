"""A lean keep-alive HTTP/1.1 client for the dispatcher's POSTs to plain ``http://`` webhook URLs.

httpx's pool re-checks every pooled connection (a ``poll()`` and anyio's attribute lookups each) whenever
a request starts or ends, and that, not the network, bounded webhook delivery at ~600/s end to end
(profiled with benchmarks/webhook_delivery.py). A webhook POST needs little: write the request, read the
status, skip the body. This client does that on asyncio streams and keeps idle connections per host.
``https://`` URLs, and every attempt a fault plan shapes, still go through httpx.

Errors: :class:`TimeoutError` when the whole attempt (connecting included) takes longer than the timeout;
:class:`ConnectError` when no connection can be made; :class:`RemoteProtocolError` when the peer closes or
answers something that is not HTTP/1.1. After a connection error or a timeout the connection is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

#: A response body is read (and dropped) in chunks of this size; the receiver's answer is not kept.
_CHUNK = 64 * 1024
#: The most header bytes read for one response (status line included).
_MAX_HEAD = 64 * 1024


class ConnectError(OSError):
    """No connection could be made to the webhook URL's host and port."""


class RemoteProtocolError(OSError):
    """The peer closed the connection early or did not answer in HTTP/1.1."""


class _NoAnswer(RemoteProtocolError):
    """The connection ended before a single byte of an answer arrived."""


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        """Still open, and the peer has not closed its side while the connection was idle."""
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class PostClient:
    """``await post(url, body, headers)`` → the HTTP status. One request per connection at a time."""

    def __init__(self, timeout_s: float, max_idle_per_host: int) -> None:
        self.timeout_s = timeout_s
        self.max_idle_per_host = max_idle_per_host
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not a plain http URL: {url!r}")
        host, port = parts.hostname, parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = parts.netloc.rpartition("@")[2]
        request = _request_bytes(target, authority, body, headers)
        async with asyncio.timeout(self.timeout_s):
            conn = self._take((host, port))
            if conn is not None:
                try:
                    return await self._exchange((host, port), conn, request)
                except _NoAnswer:
                    # The peer closed an idle connection just as it was reused (its keep-alive ran out):
                    # nothing was answered, so the attempt goes out once more on a new connection.
                    pass
            return await self._exchange((host, port), await self._connect(host, port), request)

    def _take(self, key: tuple[str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return None

    @staticmethod
    async def _connect(host: str, port: int) -> _Connection:
        try:
            reader, writer = await asyncio.open_connection(host, port, limit=_MAX_HEAD)
        except OSError as exc:
            raise ConnectError(exc.strerror or str(exc)) from exc
        return _Connection(reader, writer)

    async def _exchange(self, key: tuple[str, int], conn: _Connection, request: bytes) -> int:
        try:
            conn.writer.write(request)
            status, reusable = await _read_response(conn.reader)
        except BaseException:
            conn.close()
            raise
        idle = self._idle.setdefault(key, [])
        if reusable and len(idle) < self.max_idle_per_host:
            idle.append(conn)
        else:
            conn.close()
        return status

    async def aclose(self) -> None:
        conns = [c for idle in self._idle.values() for c in idle]
        self._idle.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                await conn.writer.wait_closed()


def _request_bytes(target: str, authority: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"host: {authority}", f"content-length: {len(body)}"]
    for name, value in headers.items():
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} would split the request")
        if name.lower() not in ("host", "content-length", "transfer-encoding", "connection"):
            lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, whether the connection can carry another request), the body read and dropped."""
    first = True
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            kind = _NoAnswer if first and not exc.partial else RemoteProtocolError
            raise kind("the server closed the connection without answering") from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            kind = _NoAnswer if first else RemoteProtocolError
            raise kind(f"the connection was reset: {exc}") from None
        except asyncio.LimitOverrunError:
            raise RemoteProtocolError("response headers too large") from None
        first = False
        status, headers, http11 = _parse_head(head)
        if status >= 200:
            break  # 1xx interim answers (100 Continue) come before the real one
    connection = headers.get("connection", "").lower()
    keep = connection != "close" if http11 else connection == "keep-alive"
    if status in (204, 304) or 100 <= status < 200:
        return status, keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        await _skip_chunked(reader)
        return status, keep
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise RemoteProtocolError(f"bad content-length {length!r}")
        await _skip(reader, int(length))
        return status, keep
    await _skip_to_eof(reader)  # no framing: the body ends with the connection
    return status, False


def _parse_head(head: bytes) -> tuple[int, dict[str, str], bool]:
    """(status, headers with lower-cased names, whether the answer is HTTP/1.1)."""
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or not code.isdigit():
        raise RemoteProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(code), headers, version == "HTTP/1.1"


async def _skip(reader: asyncio.StreamReader, size: int) -> None:
    while size > 0:
        chunk = await reader.read(min(size, _CHUNK))
        if not chunk:
            raise RemoteProtocolError("the server closed the connection in the middle of a body")
        size -= len(chunk)


async def _skip_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        try:
            line = await reader.readline()
        except ValueError:  # a line longer than the reader's limit
            raise RemoteProtocolError("bad chunked body") from None
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise RemoteProtocolError(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return
        await _skip(reader, size + 2)  # the chunk and its CRLF


async def _skip_to_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(_CHUNK):
        pass
