"""What servers put on the wire, through the fetch layer on every transport (native,
aiohttp, httpcore): bodies, caps and content codings (the cases test_fetch.py has mocked),
body framings (chunked, Content-Length, close-delimited), HEAD and
bodiless statuses, interim responses, redirects and cookies over real sockets, GBK pages,
and hostile responses (garbage status lines, endless or huge headers, invalid chunking, a
body cut short, a server trickling its headers), each ending as a failure with a reason.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from probes.http.fetcher import FetchFailure
from probes.http.transport import NativeTransport
from probes.model import Failure
from tests.test_fetch_sockets import TRANSPORTS, fetcher

pytestmark = pytest.mark.integration
MiB = 1024 * 1024


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Reply = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serve(reply: Reply) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A local server handing each request (head and body) to `reply`; yields its base URL
    and the requests it received."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
            request = head + (await reader.readexactly(length) if length else b"")
            seen.append(request)
            await reply(request, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up, as the hostile cases want it to
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", seen
    finally:
        server.close()


def send(*parts: bytes, pause: float = 0.0) -> Reply:
    """A reply writing `parts` in order (`pause` seconds apart), then closing."""

    async def reply(request: bytes, writer: asyncio.StreamWriter) -> None:
        for part in parts:
            writer.write(part)
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)

    return reply


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


PAGE = "<html><title>办事指南</title><body>营业执照办理</body></html>".encode()
GBK = "市长信箱：朱镕基 王堃 留言已办结".encode("gbk")


@pytest.mark.parametrize(
    ("parts", "content"),
    [((b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE),), PAGE),
     ((b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunked(PAGE[:7], PAGE[7:])),
      PAGE),
     ((b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", PAGE[:20], PAGE[20:]), PAGE),
     ((b"HTTP/1.0 200 OK\r\n\r\n" + PAGE,), PAGE),
     ((b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",), b"ok"),
     ((b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",), b"ok")],
    ids=["content-length", "chunked", "close-delimited", "http-1.0", "100-continue",
         "bare-lf-line-ends"],
)  # fmt: skip
async def test_body_framings_give_the_whole_body(
    transport: str, parts: tuple[bytes, ...], content: bytes
) -> None:
    async with serve(send(*parts)) as (url, _), fetcher(transport) as f:
        got = await f.fetch(url + "/", timeout=5)
    assert not isinstance(got, FetchFailure), got.line
    assert (got.status, got.content) == (200, content)


@pytest.mark.parametrize(
    ("method", "head", "status"),
    [("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 200),
     ("GET", b"HTTP/1.1 204 No Content\r\n\r\n", 204),
     ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5000\r\n\r\n", 304)],
)  # fmt: skip
async def test_responses_without_a_body_end_at_once(
    transport: str, method: str, head: bytes, status: int
) -> None:
    # The server keeps the connection open: waiting for a body would run into the deadline.
    async with serve(send(head, pause=3)) as (url, _), fetcher(transport) as f:
        started = time.monotonic()
        got = await f.fetch(url + "/", timeout=2, method=method)
    assert not isinstance(got, FetchFailure), got.line
    assert (got.status, got.content) == (status, b"")
    assert time.monotonic() - started < 1


async def test_gbk_page_decodes_over_a_real_socket(transport: str) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=gbk\r\nContent-Length: %d\r\n"
    async with (
        serve(send(head % len(GBK) + b"X-Dept: \xd5\xfe\xce\xf1\r\n\r\n" + GBK)) as (
            url,
            _,
        ),
        fetcher(transport) as f,
    ):
        got = await f.fetch(url + "/", timeout=5)
    assert not isinstance(got, FetchFailure), got.line
    assert got.text == "市长信箱：朱镕基 王堃 留言已办结"


async def test_redirect_with_a_cookie_is_followed_and_the_cookie_sent(transport: str) -> None:
    async def reply(request: bytes, writer: asyncio.StreamWriter) -> None:
        if request.startswith(b"GET /login "):
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /home\r\n"
                         b"Set-Cookie: sid=abc; Path=/\r\nContent-Length: 0\r\n\r\n")  # fmt: skip
        elif b"\r\nCookie: sid=abc\r\n" in request or b"\r\ncookie: sid=abc\r\n" in request:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nwelcome")
        else:
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with serve(reply) as (url, seen), fetcher(transport) as f:
        got = await f.fetch(url + "/login", timeout=5)
    assert not isinstance(got, FetchFailure), got.line
    assert (got.status, got.text, got.redirects) == (200, "welcome", (url + "/login",))
    assert got.cookies.get("sid") == "abc"
    assert len(seen) == 2


async def test_post_form_arrives_with_its_body(transport: str) -> None:
    reply = send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    async with serve(reply) as (url, seen), fetcher(transport) as f:
        got = await f.fetch(url + "/query", timeout=5, method="POST", data={"q": "营业执照"})
    assert not isinstance(got, FetchFailure), got.line
    assert seen[0].startswith(b"POST /query HTTP/1.1\r\n")
    assert seen[0].endswith(b"\r\n\r\nq=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7")


HUGE = b"X-Pad: " + b"a" * (2 * 1024 * 1024) + b"\r\n"
MANY = b"".join(b"X-H%d: v\r\n" % i for i in range(5000))


@pytest.mark.parametrize(
    "parts",
    [(b"HELLO WORLD\r\n\r\n",),
     (b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n",),
     (b"HTTP/1.1 200 OK\r\n" + HUGE + b"\r\nbody",),
     (b"HTTP/1.1 200 OK\r\nX-Endless: ", b"a" * (1024 * 1024), b"a" * (1024 * 1024)),
     (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",),
     (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",),
     (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part",),
     (b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 7\r\n\r\nwelcome",),
     (b"",)],
    ids=["garbage-status-line", "bad-status-code", "huge-header", "endless-header",
         "invalid-chunk-size", "chunked-cut-short", "length-cut-short",
         "conflicting-lengths", "closed-without-a-response"],
)  # fmt: skip
async def test_hostile_responses_fail_with_a_reason(
    transport: str, parts: tuple[bytes, ...]
) -> None:
    async with serve(send(*parts)) as (url, _), fetcher(transport) as f:
        started = time.monotonic()
        got = await f.fetch(url + "/", timeout=5)
    assert isinstance(got, FetchFailure), f"{transport} accepted {parts[0][:60]!r}"
    assert got.failure is Failure.CONNECT
    assert url.removeprefix("http://") in got.error
    assert "\n" not in got.error
    assert time.monotonic() - started < 4, "refused at once, not at the deadline"


@pytest.mark.parametrize(
    ("error", "words"),
    [(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "invalid HTTP response body"),
     (b"HELLO WORLD\r\n\r\n", "invalid HTTP response status line"),
     (b"HTTP/1.1 200 OK\r\nX-Ok: 1\r\nBad Header\r\n\r\n", "(at 'Bad Header')"),
     (b"HTTP/1.1 200 OK\r\n" + HUGE + b"\r\n", "headers longer than 65536 bytes"),
     # httpcore (h11) bounds only their size, 100 KiB; aiohttp refuses more than 128.
     (b"HTTP/1.1 200 OK\r\n" + MANY + b"\r\nbody", "more than 256 response headers"),
     (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part",
      "closed before the body was complete (11 bytes)")],
    ids=["invalid-chunk-size", "garbage-status-line", "bad-header-line", "huge-header",
         "too-many-headers",
         "length-cut-short"],
)  # fmt: skip
async def test_native_transport_says_what_was_wrong(error: bytes, words: str) -> None:
    async with serve(send(error)) as (url, _), fetcher("native") as f:
        got = await f.fetch(url + "/", timeout=5)
    assert isinstance(got, FetchFailure)
    assert words in got.error


async def test_headers_trickled_a_byte_a_second_end_as_timeout_at_the_deadline(
    transport: str,
) -> None:
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100
    reply = send(*(head[i : i + 1] for i in range(len(head))), pause=1)
    async with serve(reply) as (url, _), fetcher(transport) as f:
        started = time.monotonic()
        got = await f.fetch(url + "/", timeout=1.5)
        elapsed = time.monotonic() - started
    assert isinstance(got, FetchFailure)
    assert got.failure is Failure.TIMEOUT
    assert "waiting for the response headers" in got.error
    assert 1.4 < elapsed < 2.0


@pytest.mark.parametrize(
    ("parts", "error"),
    [((b"",), httpx.ReadTimeout),
     ((b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",), httpx.ReadTimeout)],
    ids=["no-headers", "stalled-body"],
)  # fmt: skip
async def test_native_transport_honours_httpx_timeouts(
    parts: tuple[bytes, ...], error: type[Exception]
) -> None:
    transport = NativeTransport(verify=True, max_connections=4)
    async with (
        serve(send(*parts, pause=5)) as (url, _),
        httpx.AsyncClient(transport=transport, timeout=0.3) as client,
    ):
        started = time.monotonic()
        with pytest.raises(error):
            await client.get(url + "/")
        assert time.monotonic() - started < 1


async def test_native_transport_serves_plain_httpx_calls() -> None:
    """The httpx API on top: a non-streamed get, decoded by httpx itself."""
    body = gzip.compress(PAGE)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
    transport = NativeTransport(verify=True, max_connections=4)
    async with (
        serve(send(head % len(body) + body)) as (url, _),
        httpx.AsyncClient(transport=transport) as client,
    ):
        response = await client.get(url + "/")
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert response.reason_phrase == "OK"
    assert response.content == PAGE


# --- bodies, caps and headers on the wire (test_fetch.py has the same cases mocked) ------


def _raw_deflate(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


def _two_members(data: bytes) -> bytes:
    return gzip.compress(data[:500]) + gzip.compress(data[500:])


def _identity(data: bytes) -> bytes:
    return data


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [("gzip", gzip.compress), ("x-gzip", gzip.compress), ("deflate", zlib.compress),
     ("deflate", _raw_deflate), ("gzip", _two_members), ("identity", _identity)],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "gzip-two-members", "identity"],
)  # fmt: skip
@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_compressed_bodies_are_decoded_by_the_fetcher(
    transport: str, encoding: str, encode: Callable[[bytes], bytes], framing: str
) -> None:
    body = PAGE * 100
    wire = encode(body)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n" % encoding.encode()
    if framing == "length":
        reply = send(head + b"Content-Length: %d\r\n\r\n" % len(wire) + wire)
    else:
        reply = send(head + b"Transfer-Encoding: chunked\r\n\r\n", chunked(wire[:99], wire[99:]))
    async with serve(reply) as (url, _), fetcher(transport) as f:
        got = await f.fetch(url + "/", timeout=5)
    assert not isinstance(got, FetchFailure), got.line
    assert got.content == body


@pytest.mark.parametrize(
    ("encoding", "content"),
    [(b"gzip", b"not gzip at all"), (b"br", b"\x1b\x00"), (b"zstd", b"\x28\xb5\x2f\xfd")],
)
async def test_unreadable_or_unsupported_encoding_is_a_parse_error_on_the_wire(
    transport: str, encoding: bytes, content: bytes
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"
    reply = send(head % (encoding, len(content)) + content)
    async with serve(reply) as (url, _), fetcher(transport) as f:
        got = await f.fetch(url + "/", timeout=5)
    assert isinstance(got, FetchFailure)
    assert (got.failure, got.status) == (Failure.PARSE_ERROR, 200)


async def test_gzip_bomb_over_the_wire_stops_at_the_cap_without_inflating(transport: str) -> None:
    bomb = gzip.compress(b"\0" * (10 * MiB), compresslevel=9)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
    reply = send(head % len(bomb) + bomb)
    async with serve(reply) as (url, _), fetcher(transport, max_body="1MiB") as f:
        tracemalloc.start()
        try:
            got = await f.fetch(url + "/", timeout=5)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert isinstance(got, FetchFailure)
    assert got.failure is Failure.TOO_LARGE
    assert peak < 4 * MiB, f"peak {peak} bytes: the bomb was inflated"


async def test_endless_body_stops_being_read_at_the_cap(transport: str) -> None:
    written = 0

    async def endless(request: bytes, writer: asyncio.StreamWriter) -> None:
        nonlocal written
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        block = b"x" * 65536
        while written < 512 * MiB:
            writer.write(block)
            await writer.drain()
            written += len(block)

    async with serve(endless) as (url, _), fetcher(transport, max_body="1MiB") as f:
        got = await f.fetch(url + "/", timeout=10)
        await asyncio.sleep(0.2)  # let the server notice the closed connection
    assert isinstance(got, FetchFailure)
    assert got.failure is Failure.TOO_LARGE
    assert written < 64 * MiB, "the client kept reading after the cap"


async def test_declared_length_over_the_cap_fails_before_the_body_arrives(transport: str) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (50 * MiB)
    reply = send(head, b"x" * 100, pause=3)
    async with serve(reply) as (url, _), fetcher(transport, max_body="1MiB") as f:
        started = time.monotonic()
        got = await f.fetch(url + "/", timeout=5)
    assert isinstance(got, FetchFailure)
    assert got.failure is Failure.TOO_LARGE
    assert str(50 * MiB) in got.error
    assert time.monotonic() - started < 2


async def test_request_headers_on_the_wire_and_no_cookies_kept(transport: str) -> None:
    reply = send(b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=1\r\nContent-Length: 2\r\n\r\nok")
    async with serve(reply) as (url, seen), fetcher(transport, user_agent="zp/test") as f:
        first = await f.fetch(url + "/", timeout=5)
        await f.fetch(url + "/", timeout=5)
    assert not isinstance(first, FetchFailure), first.line
    assert first.cookies.get("sid") == "1"
    for request in seen:
        headers = {line.split(b":")[0].lower(): line.split(b":", 1)[1].strip()
                   for line in request.split(b"\r\n")[1:] if b":" in line}  # fmt: skip
        assert headers[b"user-agent"] == b"zp/test"
        assert headers[b"accept-encoding"] == b"gzip, deflate"
        assert headers[b"connection"] == b"close"
    assert b"cookie:" not in seen[1].lower(), "a cookie leaked from one fetch to the next"


# --- uvloop -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "outcome"),
    [((b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunked(PAGE[:7], PAGE[7:])),
      PAGE),
     ((b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", PAGE), PAGE),
     ((b"HELLO WORLD\r\n\r\n",), Failure.CONNECT)],
    ids=["chunked", "close-delimited", "garbage"],
)  # fmt: skip
def test_native_transport_on_uvloop(parts: tuple[bytes, ...], outcome: bytes | Failure) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> bytes | Failure:
        async with serve(send(*parts)) as (url, _), fetcher("native") as f:
            got = await f.fetch(url + "/", timeout=5)
        return got.failure if isinstance(got, FetchFailure) else got.content

    assert uvloop.run(scenario()) == outcome


async def test_native_transport_opens_at_most_max_connections() -> None:
    async def slow(request: bytes, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.5)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    transport = NativeTransport(verify=True, max_connections=2)
    timeout = httpx.Timeout(None, pool=0.2)
    async with (
        serve(slow) as (url, seen),
        httpx.AsyncClient(transport=transport, timeout=timeout) as client,
    ):
        got = await asyncio.gather(*(client.get(url + "/") for _ in range(3)),
                                   return_exceptions=True)  # fmt: skip
    assert sorted(type(r).__name__ for r in got) == ["PoolTimeout", "Response", "Response"]
    assert len(seen) == 2


async def test_closing_the_native_transport_ends_a_request_waiting_for_headers() -> None:
    transport = NativeTransport(verify=True, max_connections=4)
    async with serve(send(b"", pause=5)) as (url, _), httpx.AsyncClient(transport=transport) as c:
        waiting = asyncio.create_task(c.get(url + "/"))
        await asyncio.sleep(0.2)
        await transport.aclose()
        with pytest.raises(httpx.ReadError):
            await asyncio.wait_for(waiting, 1)
