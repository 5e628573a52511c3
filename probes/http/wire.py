"""One HTTP/1.1 exchange on one connection: an asyncio protocol feeding llhttp (httptools).

`Exchange` writes one request and parses its response as bytes arrive: status and headers
(capped: `MAX_HEAD` bytes, `MAX_HEADERS` fields), then the body, kept as chunks the reader
takes (at most `READ_BUFFER` bytes wait before the socket stops being read). It never
raises into the event loop: what goes wrong is kept as `error` (an httpx transport error
with llhttp's reason, or the socket error as its cause) for the reader, and the
connection is closed once the response is complete, since nothing is ever reused.

The parser is as lenient as aiohttp's (and browsers): invalid header characters, a bare LF
line end and spaces after a chunk size are accepted; chunk framing is not. A body without
Content-Length or chunking ends when the server closes the connection; a HEAD response
and 1xx/204/304 have none.
"""

from __future__ import annotations

import asyncio
import re
from typing import cast

import httptools
import httpx

__all__ = ["MAX_HEAD", "MAX_HEADERS", "READ_BUFFER", "Exchange"]

MAX_HEAD = 64 * 1024  # status line and headers (h11 allows 100 KiB, aiohttp 8 KiB a line)
MAX_HEADERS = 256  # header fields (aiohttp: 128)
READ_BUFFER = 256 * 1024  # body bytes held before the socket stops being read
_HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:")


class Exchange(asyncio.Protocol):
    """One connection: writes one request, parses one response with llhttp.

    `not_after` is the transport's to fill (the certificate's notAfter once connected).
    """

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
    """Raised inside a parser callback to refuse the response; httptools re-raises it as
    the context of an HttpParserCallbackError, where `data_received` finds the reason."""
