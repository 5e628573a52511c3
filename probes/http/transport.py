"""An httpx transport on a bare asyncio protocol with the llhttp C parser (httptools).

`NativeTransport` is an `httpx.AsyncBaseTransport`: the fetch layer and every caller keep
the httpx API, and only the wire work below it changes. One request per connection, as the
fetch layer wants (`Connection: close`, nothing pooled): connect (TLS with the client's
context and the request's `sni_hostname` extension), hand the request to an `Exchange`
(probes/http/wire.py: the protocol and the parser, with their caps), and give the body to
httpx as a stream the fetcher decodes and caps itself. It costs 0.57-0.87x the CPU per
fetch of the httpx-aiohttp transport in the same runs (bench/RESULTS.md), because no
second client library runs under httpx.

What callers can rely on:
- Invalid responses (a garbage status line, oversized headers, bad chunk framing, a body
  cut short before its Content-Length or final chunk) raise `httpx.RemoteProtocolError`
  with llhttp's reason and the line refused; socket errors raise `httpx.ConnectError` or
  `httpx.ReadError` with the OS or TLS error as the cause, which the fetch layer
  classifies (probes/http/errors.py).
- httpx's `connect`, `read` and `pool` timeouts are honoured when set; the fetch layer sets
  none and bounds the whole request with its own deadline, which cancels any await here
  and closes the connection.
- At most `max_connections` are open at once; closing the transport closes them.
- A host name is resolved for every request (the loop's getaddrinfo; no cache, as with
  httpcore, where aiohttp caches for 10 s), so a DNS failure shows at the next check; a
  name with several addresses is connected with happy eyeballs on asyncio's loop.
- The peer certificate's notAfter goes in `response.extensions["tls_not_after"]`.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx

from probes.http.certs import not_after_of
from probes.http.wire import Exchange

__all__ = ["NativeTransport"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Happy eyeballs as aiohttp does it: a host whose first address hangs (an unreachable IPv6
# route) is tried on its next address after this many seconds instead of timing out.
_HAPPY_EYEBALLS_DELAY = 0.25
T = TypeVar("T")


class NativeTransport(httpx.AsyncBaseTransport):
    """One connection per request, at most `max_connections` open at once."""

    def __init__(self, *, verify: ssl.SSLContext | bool, max_connections: int) -> None:
        # httpx's own context for True/False (certifi's CAs; no verification), so the
        # native transport trusts exactly what the other transports trust.
        self._ssl = (
            verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify)
        )
        self._slots = asyncio.Semaphore(max_connections)
        self._open: set[Exchange] = set()

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
        conn: Exchange | None = None
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

    async def _connect(self, request: httpx.Request) -> Exchange:
        url = request.url
        secure = url.scheme == "https"
        host = url.raw_host.decode("ascii")  # an internationalised name in its IDNA form
        sni = request.extensions.get("sni_hostname") or host
        loop = asyncio.get_running_loop()
        conn = Exchange(loop, head_only=request.method == "HEAD")
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

    def _release(self, conn: Exchange | None) -> None:
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
        conn: Exchange,
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
