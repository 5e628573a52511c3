"""An httpx transport on a bare asyncio protocol with the llhttp C parser (httptools).

`NativeTransport` is an `httpx.AsyncBaseTransport`: the fetch layer and every caller keep
the httpx API, and only the wire work below it changes. One request per connection, as the
fetch layer wants (`Connection: close`, nothing pooled): connect (TLS with the client's
context and the request's `sni_hostname` extension), write the request, parse the
response with llhttp as bytes arrive, and hand the body over as a stream the fetcher
decodes and caps itself. About half the CPU per request of httpx over httpx-aiohttp
(bench/bench_fetch.py), because no second client library runs under httpx.

What it guarantees, since a monitor meets hostile and broken servers:
- The status line and headers are capped (`MAX_HEAD` bytes, `MAX_HEADERS` fields); a
  server sending more, or endless header bytes, is refused, never buffered.
- Invalid responses (a garbage status line, bad chunk framing, a body cut short before its
  Content-Length or final chunk) raise `httpx.RemoteProtocolError` with llhttp's reason;
  socket errors raise `httpx.ConnectError` or `httpx.ReadError` with the OS or TLS error
  as the cause, which the fetch layer classifies (probes/http/errors.py).
- The body is read with flow control: at most `READ_BUFFER` bytes wait in memory before
  the socket stops being read, so a caller that reads slowly (or stops at a body cap)
  never makes it buffer a large body.
- httpx's `connect`, `read` and `pool` timeouts are honoured when set; the fetch layer sets
  none and bounds the whole request with its own deadline, which cancels any await here
  and closes the connection.
- A body without Content-Length or chunking ends when the server closes the connection;
  a HEAD response and 1xx/204/304 have none.
- The peer certificate's notAfter goes in `response.extensions["tls_not_after"]`.

The parser is as lenient as aiohttp's (and browsers): invalid header characters, a bare LF
line end and spaces after a chunk size are accepted; chunk framing is not.
"""

from __future__ import annotations

import asyncio
import functools
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, cast

import httptools
import httpx

from probes.http.certs import not_after_of

__all__ = ["MAX_HEAD", "MAX_HEADERS", "NativeTransport"]

MAX_HEAD = 64 * 1024  # status line and headers (h11 allows 100 KiB, aiohttp 8 KiB a line)
MAX_HEADERS = 256  # header fields (aiohttp: 128)
READ_BUFFER = 256 * 1024  # body bytes held before the socket stops being read
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Happy eyeballs as aiohttp does it: a host whose first address hangs (an unreachable IPv6
# route) is tried on its next address after this many seconds instead of timing out.
_HAPPY_EYEBALLS_DELAY = 0.25
T = TypeVar("T")
_HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:")


class NativeTransport(httpx.AsyncBaseTransport):
    """One connection per request, at most `max_connections` open at once."""

    def __init__(self, *, verify: ssl.SSLContext | bool, max_connections: int) -> None:
        # httpx's own context for True/False (certifi's CAs; no verification), so the
        # native transport trusts exactly what the other transports trust.
        self._ssl = (
            verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify)
        )
        self._slots = asyncio.Semaphore(max_connections)
        self._open: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"not an http(s) URL: {url}", request=request)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        head = _request_head(request)
        await _limited(
            self._slots.acquire(), timeouts.get("pool"), httpx.PoolTimeout,
            "no free connection", request,
        )  # fmt: skip
        conn: _Connection | None = None
        try:
            conn = await _limited(
                self._connect(request), timeouts.get("connect"), httpx.ConnectTimeout,
                "no connection", request,
            )  # fmt: skip
            await conn.send(head, request)
            await _limited(
                conn.wait_head(), timeouts.get("read"), httpx.ReadTimeout,
                "no response headers", request,
            )  # fmt: skip
        except BaseException:
            if conn is not None:
                conn.close()
            self._release(conn)
            raise
        extensions: dict[str, Any] = {
            "http_version": conn.http_version,
            "reason_phrase": bytes(conn.reason),
        }
        if conn.not_after is not None:
            extensions["tls_not_after"] = conn.not_after
        stream = _Body(conn, timeouts.get("read"), request, lambda: self._release(conn))
        return httpx.Response(
            conn.status, headers=conn.headers, stream=stream, extensions=extensions
        )

    async def _connect(self, request: httpx.Request) -> _Connection:
        url = request.url
        secure = url.scheme == "https"
        host = url.raw_host.decode("ascii")  # an internationalised name in its IDNA form
        sni = request.extensions.get("sni_hostname") or host
        loop = asyncio.get_running_loop()
        conn = _Connection(loop, head_only=request.method == "HEAD")
        # An address literal has one address: no race to run. uvloop has no happy
        # eyeballs (its loop is no asyncio.BaseEventLoop) and tries addresses in turn.
        connect = functools.partial(
            loop.create_connection,
            lambda: conn,
            host,
            url.port or _DEFAULT_PORTS[url.scheme],
            ssl=self._ssl if secure else None,
            server_hostname=sni if secure else None,
        )
        try:
            if isinstance(loop, asyncio.BaseEventLoop) and not _is_address(host):
                await connect(happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY)
            else:
                await connect()
        except OSError as exc:  # also ssl.SSLError and socket.gaierror
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        self._open.add(conn)
        if secure and conn.transport is not None:
            conn.not_after = not_after_of(conn.transport.get_extra_info("ssl_object"))
        return conn

    def _release(self, conn: _Connection | None) -> None:
        if conn is not None:
            self._open.discard(conn)
        self._slots.release()

    async def aclose(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._open.clear()


def _is_address(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return True
    return False


def _request_head(request: httpx.Request) -> bytes:
    """The request line and headers; CR or LF inside a header would split the request."""
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
            raise httpx.LocalProtocolError(f"header {name!r} holds a line break", request=request)
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


async def _limited(
    awaitable: Awaitable[T],
    seconds: float | None,
    error: type[httpx.TimeoutException],
    what: str,
    request: httpx.Request,
) -> T:
    """`awaitable` under httpx's timeout of one phase when one is set, as `error`; without
    one (the fetcher's case) no timer at all: the caller's deadline bounds it."""
    if seconds is None:
        return await awaitable
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError as exc:
        raise error(f"{what} within {seconds:g}s", request=request) from exc


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives; closing it closes the connection."""

    def __init__(
        self,
        conn: _Connection,
        read_timeout: float | None,
        request: httpx.Request,
        release: Callable[[], None],
    ) -> None:
        self._conn, self._timeout, self._request = conn, read_timeout, request
        self._release = release
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        conn = self._conn
        while True:
            chunk = conn.take()
            if chunk:
                return chunk
            if conn.error is not None:
                self._close()
                raise conn.error
            if conn.done:
                self._close()
                raise StopAsyncIteration
            await _limited(
                conn.wait_body(), self._timeout, httpx.ReadTimeout, "no body bytes",
                self._request,
            )  # fmt: skip

    async def aclose(self) -> None:
        self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._conn.close()
            self._release()


class _Connection(asyncio.Protocol):
    """One connection: writes one request, parses one response with llhttp."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, head_only: bool) -> None:
        self.loop = loop
        self.head_only = head_only
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.parser.set_dangerous_leniencies(
            lenient_headers=True,
            lenient_optional_cr_before_lf=True,
            lenient_spaces_after_chunk_size=True,
        )
        self.status = 0
        self.reason = bytearray()
        self.http_version = b"HTTP/1.1"
        self.headers: list[tuple[bytes, bytes]] = []
        self.not_after: float | None = None
        self.head_done = False
        self.done = False  # the whole response arrived (or the connection is closed)
        self.error: httpx.TransportError | None = None
        self._head_bytes = 0
        self._head_data: list[bytes] = []  # what arrived before the headers ended
        self._head_size = 0
        self._framed = False  # the body has a Content-Length or chunking
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._received = 0
        self._reading_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None

    # --- used by the transport -------------------------------------------------------

    async def send(self, head: bytes, request: httpx.Request) -> None:
        transport = self.transport
        if transport is None or self.error is not None:
            raise self.error or httpx.WriteError("connection closed before the request")
        if request.headers.get("transfer-encoding", "").lower() == "chunked":
            transport.write(head)
            stream = request.stream
            if not isinstance(stream, httpx.AsyncByteStream):
                raise TypeError("the native transport needs an async request body")
            async for part in stream:
                if part:
                    transport.write(b"%x\r\n%s\r\n" % (len(part), part))
                    await self._drain()
            transport.write(b"0\r\n\r\n")
        else:
            body = await request.aread()
            transport.write(head + body if body else head)
        await self._drain()

    async def wait_head(self) -> None:
        while not self.head_done and self.error is None:
            await self._wait()
        if self.error is not None and not self.head_done:
            raise self.error

    async def wait_body(self) -> None:
        if not self._chunks and not self.done and self.error is None:
            await self._wait()

    def take(self) -> bytes:
        """The body bytes received since the last call, joined (b"" when none)."""
        chunks = self._chunks
        if not chunks:
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    def close(self) -> None:
        """Closes the connection from this side; a response still waited for fails."""
        if self.transport is not None:
            self.transport.close()
        if not self.done and self.error is None:
            self.error = httpx.ReadError("the connection was closed by the client")
        self.done = True
        self._wake()

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.done or self.error is not None:
            return  # after the response (or a HEAD response's headers): nothing is read
        if not self.head_done:
            self._head_bytes += len(data)
            self._head_data.append(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if not isinstance(exc.__context__, _Refused):
                raise  # a bug in a callback here, not the server's fault
            self._fail(httpx.RemoteProtocolError(str(exc.__context__)))
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            reason = str(exc) or type(exc).__name__
            if self.head_done:
                text = f"invalid HTTP response body: {reason}"
            else:
                where = self._bad_line(reason)
                text = f"invalid HTTP response status line or headers: {reason} (at {where!r})"
            self._fail(httpx.RemoteProtocolError(text))
        else:
            if not self.head_done and self._head_bytes > MAX_HEAD:
                self._fail(
                    httpx.RemoteProtocolError(f"response headers longer than {MAX_HEAD} bytes")
                )

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost decides what EOF meant

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.done or self.error is not None:
            self._wake()
            return
        if exc is not None:
            error: httpx.TransportError = httpx.ReadError(str(exc) or type(exc).__name__)
            error.__cause__ = exc
            self._fail(error)
        elif not self.head_done:
            self._fail(
                httpx.RemoteProtocolError("Server disconnected without sending a response.")
                if self._head_bytes == 0
                else httpx.RemoteProtocolError("connection closed inside the response headers")
            )
        elif self._framed:
            self._fail(
                httpx.RemoteProtocolError(
                    f"connection closed before the body was complete ({self._received} bytes)"
                )
            )
        else:  # a body delimited by the end of the connection
            self.done = True
            self._wake()

    def pause_writing(self) -> None:
        self._drained = self.loop.create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # --- httptools callbacks -------------------------------------------------------------

    def on_status(self, status: bytes) -> None:
        self.reason += status
        self._head_size += len(status)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        self._head_size += len(name) + len(value) + 4
        if len(self.headers) > MAX_HEADERS:
            raise _Refused(f"more than {MAX_HEADERS} response headers")

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if self._head_size > MAX_HEAD:
            raise _Refused(f"response headers longer than {MAX_HEAD} bytes")
        if 100 <= status < 200:
            # An interim response (100 Continue, 103 Early Hints): the real one follows.
            self.headers, self.reason, self._head_size = [], bytearray(), 0
            return
        self.status = status
        self.http_version = b"HTTP/" + self.parser.get_http_version().encode("ascii")
        self.head_done = True
        self._head_data = []
        self._framed = any(
            name.lower() in (b"content-length", b"transfer-encoding") for name, _ in self.headers
        )
        if self.head_only:  # a HEAD response has no body, whatever its headers say
            self.done = True
            if self.transport is not None:
                self.transport.close()
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self.done:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        self._received += len(body)
        if self._buffered > READ_BUFFER and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if not self.head_done:
            return  # the end of an interim response
        if not self.done:
            self.done = True
            if self.transport is not None:
                self.transport.close()  # never reused: one request per connection
            self._wake()

    # --- internals ---------------------------------------------------------------------

    def _bad_line(self, reason: str) -> str:
        """The head line llhttp refused (it gives no position): the status line while no
        header has been parsed, else the line after the last header handed over. httptools
        hands a header over only once the next one's name is parsed, so a refused name
        (an invalid token) is the line after a well-formed one."""
        lines = [line.rstrip(b"\r") for line in b"".join(self._head_data).split(b"\n")]
        index = min(1 + len(self.headers) if self.reason else 0, len(lines) - 1)
        if "token" in reason and _HEADER_LINE.match(lines[index]) and index + 1 < len(lines):
            index += 1
        return lines[index][:80].decode("latin-1")

    def _fail(self, error: httpx.TransportError) -> None:
        self.error = error
        if self.transport is not None:
            self.transport.abort()
        self._wake()

    async def _wait(self) -> None:
        waiter = self._waiter = self.loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _drain(self) -> None:
        if self._drained is not None:
            await self._drained
        if self.error is not None:
            raise self.error


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing (the reason is kept on the
    connection, since httptools reports only that a callback failed)."""
