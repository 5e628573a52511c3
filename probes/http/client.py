"""The one shared HTTP client: `open_client(settings)` builds it, `open_fetcher` wraps it.

Transport. The httpx API runs on `NativeTransport` by default (probes/http/transport.py:
a bare asyncio protocol with the llhttp parser, about half the CPU per request of
httpx-aiohttp, see bench/README.md); `http_transport: aiohttp` selects the httpx-aiohttp
transport and `httpcore` httpx's own. Those two are subclassed here for one reason: to
read the peer certificate's notAfter while the connection is still open and put it in
`response.extensions["tls_not_after"]` (epoch seconds), as the native transport does,
which the fetcher copies to `Page.tls_not_after`.

Keep-alive is off: every request opens a new connection (`Connection: close`, no pooled
idle connections). A monitor that reused a pooled connection could report a site as up
while new visitors can no longer connect, and the anchor measurements showed keep-alive
buys nothing measurable at check rates. The cost is one TCP (and TLS) handshake per
request, which is also what a citizen's browser pays on a first visit.

The client never keeps cookies (a fetch that sends or receives cookies carries its own
jar, so nothing leaks between checks or sites; `DirectClient` skips httpx's own cookie
store), ignores proxy and CA environment variables (`trust_env=False`, so a
monitor behaves the same under systemd and in a shell), never follows redirects itself
(the fetcher does, with its own limit and loop detection) and has no httpx timeouts: the
fetcher's one overall deadline per request bounds everything.
"""

from __future__ import annotations

import ssl
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from probes.clock import Clock
from probes.config.model import GlobalConfig
from probes.config.tls import TlsSpec
from probes.http.certs import not_after_of
from probes.http.fetcher import ACCEPT_ENCODING, Fetcher
from probes.http.transport import NativeTransport


class _CertConnector(aiohttp.TCPConnector):
    """Notes each new connection's certificate notAfter by protocol object.

    aiohttp releases (and, without keep-alive, closes) a connection as soon as a small
    body has arrived, often before the caller sees the response, so the certificate has
    to be read when the connection is made. `_create_connection` and
    `ClientResponse._protocol` are aiohttp internals (stable since 3.x); should they
    change, `tls_not_after` goes missing and test_fetch_sockets.py fails, nothing else.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.not_after: weakref.WeakKeyDictionary[object, float | None] = (
            weakref.WeakKeyDictionary()
        )

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:
        proto = await super()._create_connection(req, traces, timeout)
        transport = getattr(proto, "transport", None)
        if transport is not None:
            self.not_after[proto] = not_after_of(transport.get_extra_info("ssl_object"))
        return proto


class TlsAiohttpTransport(AiohttpTransport):
    """httpx-aiohttp transport without keep-alive or cookies, recording the peer
    certificate's notAfter and raising only httpx errors (with the original as cause)."""

    def __init__(self, *, verify: ssl.SSLContext | bool, max_connections: int) -> None:
        super().__init__(verify=verify, trust_env=False, client=self._session)
        self._max_connections = max_connections
        self._connector: _CertConnector | None = None

    def _session(self) -> aiohttp.ClientSession:
        # Built lazily inside the running loop (aiohttp requires one).
        self._connector = _CertConnector(
            ssl=self.ssl_context, force_close=True, limit=self._max_connections
        )
        return aiohttp.ClientSession(connector=self._connector, cookie_jar=aiohttp.DummyCookieJar())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _as_httpx_errors():
            response = await super().handle_async_request(request)
        # The upstream stream wraps the aiohttp response, which keeps its protocol object.
        aio = getattr(response.stream, "_aiohttp_response", None)
        proto = getattr(aio, "_protocol", None)
        if self._connector is not None and proto is not None:
            not_after = self._connector.not_after.get(proto)
            if not_after is not None:
                response.extensions["tls_not_after"] = not_after
        response.stream = _MappedStream(response.stream)
        return response


class TlsHttpcoreTransport(httpx.AsyncHTTPTransport):
    """httpx's default transport, recording the peer certificate's notAfter."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        stream = response.extensions.get("network_stream")
        if stream is not None:
            not_after = not_after_of(stream.get_extra_info("ssl_object"))
            if not_after is not None:
                response.extensions["tls_not_after"] = not_after
        return response


class _MappedStream(httpx.AsyncByteStream):
    """Re-raises errors while reading an aiohttp body as httpx errors."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        with _as_httpx_errors():
            await self._inner.aclose()


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """The upstream mapping lets some aiohttp, ssl and OS errors through unmapped; the
    fetcher expects httpx errors and classifies them by their cause chain."""
    try:
        yield
    except httpx.HTTPError:
        raise
    except ssl.SSLError as exc:
        raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise httpx.NetworkError(str(exc) or type(exc).__name__) from exc


class DirectClient(httpx.AsyncClient):
    """httpx's client, handing a streamed request without auth or redirects straight to
    its transport.

    This client keeps no cookies (each fetch has its own jar), follows no redirects and has
    no auth or event hooks, so what httpx's `send` adds around the transport call is per
    response work for nothing: above all a urllib request and response built to offer each
    response to a cookie store that refuses everything (a tenth of a fetch's CPU). Any
    other call (`client.get`, a non-streamed send) goes through httpx unchanged.
    """

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self.wire = transport

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        if not stream or auth is not httpx.USE_CLIENT_DEFAULT or follow_redirects is not False:
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = await self.wire.handle_async_request(request)
        response.request = request
        return response


def _no_cookies() -> CookieJar:
    # An empty allow-list blocks every domain: the client itself keeps nothing.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _build_client(
    settings: GlobalConfig,
    verify: ssl.SSLContext | bool,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    max_connections = max(100, 4 * settings.max_in_flight)
    if transport is None:
        if settings.http_transport == "native":
            transport = NativeTransport(verify=verify, max_connections=max_connections)
        elif settings.http_transport == "aiohttp":
            transport = TlsAiohttpTransport(verify=verify, max_connections=max_connections)
        else:
            transport = TlsHttpcoreTransport(
                verify=verify,
                trust_env=False,
                limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=0),
            )
    headers = {
        "User-Agent": settings.user_agent,
        "Accept-Encoding": ACCEPT_ENCODING,
        "Connection": "close",
    }
    return DirectClient(
        transport=transport,
        headers=headers,
        cookies=_no_cookies(),  # the jar itself: httpx.Cookies(...) would copy it
        timeout=httpx.Timeout(None),
        follow_redirects=False,
        trust_env=False,
    )


@asynccontextmanager
async def open_client(
    settings: GlobalConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    trust: ssl.SSLContext | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The shared client for `settings`.

    transport: replaces the network transport (tests with mocked servers).
    trust: a TLS context to verify servers with instead of the system CA store (a private
        CA); ignored when `settings.verify_tls` is off.
    """
    verify: ssl.SSLContext | bool = settings.verify_tls
    if verify and trust is not None:
        verify = trust
    async with _build_client(settings, verify, transport) as client:
        yield client


class TlsClients:
    """Clients for checks with their own `tls:` (a CA file, or no verification), one per
    distinct setting, opened on first use and closed with this pool (`async with`).

    A check's `server_name` needs no client of its own: the fetcher sends it per request.
    """

    def __init__(self, settings: GlobalConfig) -> None:
        self.settings = settings
        self._clients: dict[tuple[str | None, bool], httpx.AsyncClient] = {}

    def client_for(self, tls: TlsSpec) -> httpx.AsyncClient:
        key = (tls.ca_file, tls.insecure)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _build_client(self.settings, tls.context())
        return client

    async def __aenter__(self) -> TlsClients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


@asynccontextmanager
async def open_fetcher(
    settings: GlobalConfig,
    *,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
    trust: ssl.SSLContext | None = None,
) -> AsyncIterator[Fetcher]:
    """The fetcher on the shared client for `settings` (see `open_client`), with the body
    cap, redirect limit and per-host limit from `settings`, and the clients of checks with
    their own TLS settings (`TlsClients`): the one place a fetcher is built."""
    async with (
        open_client(settings, transport=transport, trust=trust) as client,
        TlsClients(settings) as tls,
    ):
        yield Fetcher(
            client,
            clock=clock,
            max_body=settings.max_body,
            max_redirects=settings.max_redirects,
            per_host=settings.per_host_concurrency,
            tls_clients=tls,
        )
