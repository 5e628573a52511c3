"""The fetch layer over real local sockets, on every transport (native, aiohttp, httpcore):
deadlines against stalling and trickling servers, refused connections, DNS failures, TLS
(trusted, untrusted, expiry captured), decoding the raw stream, no connection reuse."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import pytest
import trustme

from probes.clock import SystemClock
from probes.config import GlobalConfig
from probes.http.certs import der_not_after
from probes.http.client import open_fetcher
from probes.http.fetcher import Fetcher, FetchFailure, Page
from probes.model import Failure

pytestmark = pytest.mark.integration

Reply = Callable[[asyncio.StreamWriter], Awaitable[None]]
TRANSPORTS = ["native", "aiohttp", "httpcore"]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def serve(
    reply: Reply, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[int]]]:
    """A local server on a free port that reads one request and runs `reply`; yields the
    port and a list that grows by one per accepted connection."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await reader.readuntil(b"\r\n\r\n")
            await reply(writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client gave up (the deadline tests) or rejected our certificate
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()


def ok(body: bytes, *headers: str) -> Reply:
    async def reply(writer: asyncio.StreamWriter) -> None:
        head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", "Connection: close", *headers]
        writer.write("\r\n".join(head).encode() + b"\r\n\r\n" + body)
        await writer.drain()

    return reply


async def trickle(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    for _ in range(100):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(1)


async def stall(writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


@asynccontextmanager
async def fetcher(
    transport: str, trust: ssl.SSLContext | None = None, **settings: object
) -> AsyncIterator[Fetcher]:
    config = GlobalConfig(http_transport=transport, **settings)  # type: ignore[arg-type]
    async with open_fetcher(config, clock=SystemClock(), trust=trust) as opened:
        yield opened


@pytest.mark.parametrize(
    ("reply", "stage"),
    [(trickle, "reading the body"), (stall, "waiting for the response headers")],
    ids=["trickle-1-byte-per-second", "no-response"],
)
async def test_slow_server_ends_as_timeout_at_the_deadline(
    transport: str, reply: Reply, stage: str
) -> None:
    async with serve(reply) as (port, _), fetcher(transport) as f:
        started = time.monotonic()
        got = await f.fetch(f"http://127.0.0.1:{port}/", timeout=1.2)
        elapsed = time.monotonic() - started
    assert isinstance(got, FetchFailure)
    assert got.failure is Failure.TIMEOUT
    assert stage in got.error
    assert 1.1 < elapsed < 1.7


async def test_connection_refused_is_a_connect_failure(transport: str) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with fetcher(transport) as f:
        got = await f.fetch(f"http://127.0.0.1:{port}/", timeout=5)
    assert isinstance(got, FetchFailure)
    assert got.line == f"connect: connection refused to 127.0.0.1:{port}"


@pytest.fixture(scope="module")
def resolver_is_fast() -> None:
    def resolve() -> None:
        with suppress(socket.gaierror):
            socket.getaddrinfo("zombie-probes-test.invalid", 80)

    # A daemon thread: a resolver that hangs must not hold the test run at exit either.
    thread = threading.Thread(target=resolve, daemon=True)
    thread.start()
    thread.join(2)
    if thread.is_alive():
        pytest.skip("the resolver is too slow to answer for .invalid")


@pytest.mark.usefixtures("resolver_is_fast")
async def test_unresolvable_host_is_a_dns_failure(transport: str) -> None:
    async with fetcher(transport) as f:
        got = await f.fetch("http://zombie-probes-test.invalid/", timeout=5)
    assert isinstance(got, FetchFailure)
    assert got.failure is Failure.DNS
    assert got.error.startswith("cannot resolve zombie-probes-test.invalid")


async def test_each_request_opens_a_new_connection(transport: str) -> None:
    async with serve(ok(b"hello")) as (port, connections), fetcher(transport) as f:
        for _ in range(3):
            got = await f.fetch(f"http://127.0.0.1:{port}/", timeout=5)
            assert isinstance(got, Page)
            assert got.text == "hello"
    assert len(connections) == 3


async def test_compressed_body_is_decoded_and_a_bomb_capped(transport: str) -> None:
    page = gzip.compress("<p>办事指南</p>".encode())
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    async with (
        serve(ok(page, "Content-Encoding: gzip")) as (good, _),
        serve(ok(bomb, "Content-Encoding: gzip")) as (bad, _),
        fetcher(transport, max_body="1MiB") as f,
    ):
        got = await f.fetch(f"http://127.0.0.1:{good}/", timeout=5)
        capped = await f.fetch(f"http://127.0.0.1:{bad}/", timeout=5)
    assert isinstance(got, Page)
    assert got.text == "<p>办事指南</p>"
    assert isinstance(capped, FetchFailure)
    assert capped.failure is Failure.TOO_LARGE


# --- TLS --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, not_after: dt.datetime) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", not_after=not_after).configure_cert(ctx)
    return ctx


def client_trusting(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@pytest.mark.parametrize(
    "not_after",
    [dt.datetime(2031, 5, 17, 12, 30, tzinfo=dt.UTC), dt.datetime(2051, 1, 2, tzinfo=dt.UTC)],
    ids=["utctime", "generalizedtime"],
)
async def test_trusted_certificate_expiry_is_captured(
    transport: str, ca: trustme.CA, not_after: dt.datetime
) -> None:
    async with (
        serve(ok(b"secure"), tls=server_context(ca, not_after)) as (port, _),
        fetcher(transport, trust=client_trusting(ca)) as f,
    ):
        got = await f.fetch(f"https://127.0.0.1:{port}/", timeout=5)
    assert isinstance(got, Page), getattr(got, "line", "")
    assert got.text == "secure"
    assert got.tls_not_after == not_after.timestamp()


async def test_untrusted_certificate_is_a_tls_failure(transport: str, ca: trustme.CA) -> None:
    not_after = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    async with (
        serve(ok(b"secure"), tls=server_context(ca, not_after)) as (port, _),
        fetcher(transport) as f,  # the system CA store does not know the test CA
    ):
        got = await f.fetch(f"https://127.0.0.1:{port}/", timeout=5)
    assert isinstance(got, FetchFailure)
    assert got.failure is Failure.TLS
    assert f"127.0.0.1:{port}" in got.error
    assert "certificate" in got.error


async def test_expiry_is_captured_even_with_verification_off(
    transport: str, ca: trustme.CA
) -> None:
    not_after = dt.datetime(2030, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    async with (
        serve(ok(b"secure"), tls=server_context(ca, not_after)) as (port, _),
        fetcher(transport, verify_tls=False) as f,
    ):
        got = await f.fetch(f"https://127.0.0.1:{port}/", timeout=5)
    assert isinstance(got, Page), getattr(got, "line", "")
    assert got.tls_not_after == not_after.timestamp()


async def test_plain_http_has_no_certificate_expiry(transport: str) -> None:
    async with serve(ok(b"plain")) as (port, _), fetcher(transport) as f:
        got = await f.fetch(f"http://127.0.0.1:{port}/", timeout=5)
    assert isinstance(got, Page)
    assert got.tls_not_after is None


def test_garbage_certificate_has_no_expiry() -> None:
    assert der_not_after(b"\x30\x03\x02\x01") is None
