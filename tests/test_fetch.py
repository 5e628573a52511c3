"""The fetch layer's edge cases against mocked servers (respx and httpx.MockTransport):
body caps and gzip bombs, redirects, cookies, charsets, failure classification, the
per-host limit. The Fetcher sees only httpx responses, so these hold on any transport; the
cases a transport could get wrong (codings, caps, framings, headers, cookies on the wire)
run again over real sockets on every transport in test_fetch_wire.py, and deadlines, DNS
and TLS in test_fetch_sockets.py."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import respx

from probes.clock import SystemClock
from probes.config import GlobalConfig
from probes.http.client import open_fetcher
from probes.http.errors import classify
from probes.http.fetcher import Fetcher, FetchFailure, Page, detect_encoding
from probes.model import Failure

MiB = 1024 * 1024
GBK_TEXT = "市长信箱：朱镕基 王堃 留言已办结"  # 镕 and 堃 are in GBK but not in GB2312
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def make_fetcher(handler: Handler | respx.Router, **kwargs: int) -> Fetcher:
    if isinstance(handler, respx.Router):
        handler = handler.async_handler
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Fetcher(client, clock=SystemClock(), **kwargs)


async def fetch_page(fetcher: Fetcher, url: str, **kwargs: object) -> Page:
    got = await fetcher.fetch(url, timeout=5, **kwargs)  # type: ignore[arg-type]
    assert isinstance(got, Page), getattr(got, "line", got)
    return got


async def fetch_failure(fetcher: Fetcher, url: str, **kwargs: object) -> FetchFailure:
    got = await fetcher.fetch(url, timeout=5, **kwargs)  # type: ignore[arg-type]
    assert isinstance(got, FetchFailure), f"expected a failure, got {got}"
    return got


class Chunks(httpx.AsyncByteStream):
    """A body streamed in chunks, optionally slowly; records how much was taken."""

    def __init__(self, chunks: list[bytes], delay: float = 0.0) -> None:
        self.chunks, self.delay, self.taken = chunks, delay, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if self.delay:
                await asyncio.sleep(self.delay)
            self.taken += 1
            yield chunk


def raw_body(body: bytes, headers: dict[str, str], chunk: int = 16384) -> Handler:
    """A handler answering 200 with `body` streamed as the raw bytes on the wire."""

    async def handler(request: httpx.Request) -> httpx.Response:
        chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
        return httpx.Response(200, headers=headers, stream=Chunks(chunks))

    return handler


# --- body cap -------------------------------------------------------------------------


async def test_streamed_body_over_the_cap_is_too_large() -> None:
    stream = Chunks([b"x" * 1024] * 2048)  # 2 MiB, no Content-Length

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=stream)

    failure = await fetch_failure(make_fetcher(handler, max_body=MiB), "http://a.test/")
    assert failure.failure is Failure.TOO_LARGE
    assert failure.status == 200
    assert stream.taken < 1100, "reading must stop at the cap, not at the end"


async def test_body_exactly_at_the_cap_is_accepted() -> None:
    router = respx.Router()
    router.get("http://a.test/").respond(200, content=b"y" * 1000)
    page = await fetch_page(make_fetcher(router, max_body=1000), "http://a.test/")
    assert len(page.content) == 1000


async def test_per_call_max_body_overrides_the_fetcher_default() -> None:
    router = respx.Router()
    router.get("http://a.test/").respond(200, content=b"y" * 1000)
    failure = await fetch_failure(make_fetcher(router), "http://a.test/", max_body=999)
    assert failure.failure is Failure.TOO_LARGE


async def test_content_length_over_the_cap_fails_before_reading_the_body() -> None:
    stream = Chunks([b"x" * 100])

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": str(50 * MiB)}, stream=stream)

    failure = await fetch_failure(make_fetcher(handler, max_body=MiB), "http://a.test/")
    assert failure.failure is Failure.TOO_LARGE
    assert str(50 * MiB) in failure.error
    assert stream.taken == 0


async def test_gzip_bomb_stops_at_the_cap_without_inflating_in_memory() -> None:
    inflated = 10 * MiB
    bomb = gzip.compress(b"\0" * inflated, compresslevel=9)
    # A stream, not `content=`: httpx would inflate preloaded content itself.
    fetcher = make_fetcher(raw_body(bomb, {"content-encoding": "gzip"}), max_body=MiB)
    tracemalloc.start()
    try:
        failure = await fetch_failure(fetcher, "http://a.test/")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert failure.failure is Failure.TOO_LARGE
    assert peak < 4 * MiB, f"peak {peak} bytes: the bomb was inflated"


def _raw_deflate(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("gzip", lambda b: gzip.compress(b[:500]) + gzip.compress(b[500:])),
        ("identity", lambda b: b),
    ],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "gzip-two-members", "identity"],
)
async def test_compressed_bodies_are_decoded(
    encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = "<p>政务公开 2026-11-18</p>".encode() * 100
    handler = raw_body(encode(body), {"content-encoding": encoding})
    page = await fetch_page(make_fetcher(handler), "http://a.test/")
    assert page.content == body


@pytest.mark.parametrize(
    ("encoding", "content"),
    [("gzip", b"not gzip at all"), ("br", b"\x1b\x00"), ("zstd", b"\x28\xb5\x2f\xfd")],
)
async def test_unreadable_or_unsupported_encoding_is_a_parse_error(
    encoding: str, content: bytes
) -> None:
    handler = raw_body(content, {"content-encoding": encoding})
    failure = await fetch_failure(make_fetcher(handler), "http://a.test/")
    assert failure.failure is Failure.PARSE_ERROR
    assert failure.status == 200


# --- redirects --------------------------------------------------------------------------


async def test_redirect_loop_is_detected() -> None:
    router = respx.Router()
    router.get("http://a.test/one").respond(302, headers={"location": "/two"})
    router.get("http://a.test/two").respond(302, headers={"location": "http://a.test/one"})
    failure = await fetch_failure(make_fetcher(router), "http://a.test/one")
    assert failure.failure is Failure.HTTP_STATUS
    assert "redirect loop" in failure.error
    assert router.calls.call_count == 2


@pytest.mark.parametrize(("hops", "limit", "ok"), [(3, 3, True), (4, 3, False), (1, 0, False)])
async def test_redirect_limit(hops: int, limit: int, ok: bool) -> None:
    router = respx.Router()
    for i in range(hops):
        router.get(f"http://a.test/{i}").respond(301, headers={"location": f"/{i + 1}"})
    router.get(f"http://a.test/{hops}").respond(200, text="end")
    got = await make_fetcher(router, max_redirects=limit).fetch("http://a.test/0", timeout=5)
    if ok:
        assert isinstance(got, Page)
        assert got.url == f"http://a.test/{hops}"
        assert got.redirects == tuple(f"http://a.test/{i}" for i in range(hops))
    else:
        assert isinstance(got, FetchFailure)
        assert got.failure is Failure.HTTP_STATUS
        assert f"more than {limit} redirects" in got.error


async def test_relative_redirect_is_resolved_against_the_current_url() -> None:
    router = respx.Router()
    router.get("http://a.test/news/list/index.html").respond(
        302, headers={"location": "../detail/1.html?from=list"}
    )
    router.get("http://a.test/news/detail/1.html", params={"from": "list"}).respond(200)
    page = await fetch_page(make_fetcher(router), "http://a.test/news/list/index.html")
    assert page.url == "http://a.test/news/detail/1.html?from=list"


async def test_redirects_are_not_followed_when_asked() -> None:
    router = respx.Router()
    router.get("http://a.test/").respond(302, headers={"location": "/login"})
    page = await fetch_page(make_fetcher(router), "http://a.test/", follow_redirects=False)
    assert page.status == 302
    assert router.calls.call_count == 1


@pytest.mark.parametrize(
    ("status", "method", "body_kept"),
    [(303, "GET", False), (302, "GET", False), (301, "GET", False), (307, "POST", True),
     (308, "POST", True)],
)  # fmt: skip
async def test_redirect_after_post(status: int, method: str, body_kept: bool) -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/submit":
            return httpx.Response(status, headers={"location": "/done"})
        return httpx.Response(200, text="ok")

    await fetch_page(make_fetcher(handler), "http://a.test/submit", method="POST",
                     data={"q": "营业执照"})  # fmt: skip
    final = seen[-1]
    assert final.method == method
    assert (final.content != b"") is body_kept
    assert ("content-type" in final.headers) is body_kept


async def test_cookies_set_during_redirects_are_sent_and_returned() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            return httpx.Response(
                302, headers={"location": "/home", "set-cookie": "sid=abc; Path=/"}
            )
        if request.headers.get("cookie") == "sid=abc":
            return httpx.Response(200, text="welcome")
        return httpx.Response(403)

    page = await fetch_page(make_fetcher(handler), "http://a.test/login")
    assert page.status == 200
    assert page.cookies.get("sid") == "abc"


async def test_redirect_to_itself_after_setting_a_cookie_is_not_a_loop() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if "cookie" not in request.headers:
            return httpx.Response(302, headers={"location": "/", "set-cookie": "check=1"})
        return httpx.Response(200, text="page")

    page = await fetch_page(make_fetcher(handler), "http://a.test/")
    assert page.status == 200
    assert page.redirects == ("http://a.test/",)


@pytest.mark.parametrize(
    ("start", "location", "kept"),
    [
        ("http://a.test/", "http://b.test/", False),  # another host
        ("https://a.test/", "http://a.test/", False),  # downgraded to plain http
        ("https://a.test/", "https://a.test:8443/", False),  # another port
        ("http://a.test/", "http://a.test:8080/", False),
        ("http://a.test:8080/", "https://a.test/", False),  # not the default ports
        ("https://a.test/x", "/y", True),  # same origin
        ("http://a.test:80/x", "http://a.test/y", True),  # the default port written out
        ("http://a.test/", "https://a.test/", True),  # upgraded to https, as httpx allows
    ],
)
async def test_credentials_follow_a_redirect_only_within_their_origin(
    start: str, location: str, kept: bool
) -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(302, headers={"location": location})
        return httpx.Response(200)

    credentials = {"Authorization": "Bearer t", "Cookie": "sid=1", "X-Trace": "1"}
    await fetch_page(make_fetcher(handler), start, headers=credentials)
    assert seen[0].headers["authorization"] == "Bearer t"
    assert ("authorization" in seen[1].headers) is kept
    assert ("cookie" in seen[1].headers) is kept
    assert seen[1].headers["x-trace"] == "1"


@pytest.mark.parametrize("location", ["ftp://a.test/file", "http://[::1", "mailto:x@a.test"])
async def test_redirect_to_an_unusable_url_fails_cleanly(location: str) -> None:
    router = respx.Router()
    router.get("http://a.test/").respond(302, headers={"location": location})
    failure = await fetch_failure(make_fetcher(router), "http://a.test/")
    assert failure.failure is Failure.CONNECT
    assert failure.error


@pytest.mark.parametrize("url", ["http://[::1", "javascript:void(0)", "/relative/only"])
async def test_unusable_urls_are_failures_not_exceptions(url: str) -> None:
    failure = await fetch_failure(make_fetcher(respx.Router()), url)
    assert failure.failure is Failure.CONNECT


# --- charsets ---------------------------------------------------------------------------

GBK_BODY = GBK_TEXT.encode("gbk")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html; charset=gb2312", b"<html>" + GBK_BODY),
        ("text/html; charset=GBK", b"<html>" + GBK_BODY),
        ("text/html", b'<html><head><meta charset="gb2312"></head>' + GBK_BODY),
        (
            "text/html",
            b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />'
            + GBK_BODY,
        ),
        ("text/html", b"<html><body>" + GBK_BODY),  # unlabelled: not UTF-8, so GB18030
        ("text/html; charset=utf-8", b"\xef\xbb\xbf" + GBK_TEXT.encode()),
        ("text/html", b"\xef\xbb\xbf" + GBK_TEXT.encode()),
        ("text/html", GBK_TEXT.encode()),
        ("text/html; charset=gb2312", b"\xef\xbb\xbf" + GBK_TEXT.encode()),  # BOM outranks
        ("text/xml", b'<?xml version="1.0" encoding="GBK"?>' + GBK_BODY),
    ],
    ids=["header-gb2312", "header-gbk", "meta-charset", "meta-http-equiv", "unlabelled",
         "utf8-bom-labelled", "utf8-bom", "utf8-unlabelled", "bom-beats-header", "xml-decl"],
)  # fmt: skip
async def test_chinese_pages_decode_correctly(content_type: str, body: bytes) -> None:
    router = respx.Router()
    router.get("http://a.test/").respond(200, content=body, headers={"content-type": content_type})
    page = await fetch_page(make_fetcher(router), "http://a.test/")
    assert page.text.endswith(GBK_TEXT)
    assert "\ufeff" not in page.text
    assert "\ufffd" not in page.text


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html; charset=utf-8", b'<meta charset="gbk">', "utf-8"),  # header first
        ("text/html; charset=bogus-label", b'<meta charset="gbk">', "gb18030"),
        ("text/html", b'<meta charset="nonsense"><p>ascii</p>', "utf-8"),
        ("text/html; charset=iso-8859-1", b"caf\xe9", "cp1252"),
        ("text/html", b'<meta charset="utf-16"><p>x</p>', "utf-8"),
        ("text/html", b"<script>var s='charset=gbk'</script>", "utf-8"),  # not a meta tag
    ],
)
def test_charset_precedence(content_type: str, body: bytes, expected: str) -> None:
    assert detect_encoding(content_type, body) == expected


# --- client, headers, failures ------------------------------------------------------------


async def test_user_agent_and_accept_encoding_come_from_the_shared_client() -> None:
    router = respx.Router()
    route = router.get("http://a.test/").respond(200)
    settings = GlobalConfig(user_agent="zombie-probes/test (+ops@example.gov.cn)")
    transport = httpx.MockTransport(router.async_handler)
    async with open_fetcher(settings, clock=SystemClock(), transport=transport) as fetcher:
        await fetch_page(fetcher, "http://a.test/")
    sent = route.calls.last.request.headers
    assert sent["user-agent"] == "zombie-probes/test (+ops@example.gov.cn)"
    assert sent["accept-encoding"] == "gzip, deflate"  # nothing it could not bound (br)
    assert sent["connection"] == "close"


async def test_shared_client_keeps_no_cookies_between_fetches() -> None:
    router = respx.Router()
    route = router.get("http://a.test/").respond(200, headers={"set-cookie": "sid=1"})
    settings = GlobalConfig()
    transport = httpx.MockTransport(router.async_handler)
    async with open_fetcher(settings, clock=SystemClock(), transport=transport) as fetcher:
        first = await fetch_page(fetcher, "http://a.test/")
        await fetch_page(fetcher, "http://a.test/")
    assert first.cookies.get("sid") == "1"
    assert "cookie" not in route.calls.last.request.headers


async def test_trickling_body_ends_as_timeout_at_the_deadline() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Chunks([b"x"] * 100, delay=0.05))

    started = time.monotonic()
    got = await make_fetcher(handler).fetch("http://a.test/", timeout=0.3)
    assert isinstance(got, FetchFailure)
    assert got.failure is Failure.TIMEOUT
    assert "reading the body" in got.error
    assert time.monotonic() - started < 0.6


def _chain(outer: Exception, *causes: BaseException) -> Exception:
    err: BaseException = outer
    for cause in causes:
        err.__cause__ = cause
        err = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "failure", "words"),
    [
        (_chain(httpx.ConnectTimeout("x"), ConnectionRefusedError(111, "refused")),
         Failure.CONNECT, "connection refused to a.test:8080"),
        (_chain(httpx.ConnectError("All connection attempts failed"), OSError("all"),
                ConnectionRefusedError(111, "refused")),
         Failure.CONNECT, "connection refused"),
        (_chain(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known")),
         Failure.DNS, "cannot resolve a.test: Name or service not known"),
        (_chain(httpx.ConnectError("x"), ssl.SSLCertVerificationError(1, "verify failed")),
         Failure.TLS, "certificate of a.test:8080 not accepted"),
        (_chain(httpx.ConnectError("x"), ssl.SSLError(1, "wrong version number")),
         Failure.TLS, "TLS handshake"),
        (_chain(httpx.ReadError("x"), ConnectionResetError(104, "reset")),
         Failure.CONNECT, "connection reset by a.test:8080"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."),
         Failure.CONNECT, "Server disconnected"),
        (httpx.ReadTimeout("read timed out"), Failure.TIMEOUT, "timed out"),
    ],
)  # fmt: skip
def test_transport_errors_are_classified_by_root_cause(
    exc: Exception, failure: Failure, words: str
) -> None:
    got, line = classify(exc, httpx.URL("http://a.test:8080/"))
    assert got is failure
    assert words in line
    assert "\n" not in line


async def test_transport_error_becomes_a_failure_not_an_exception() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise _chain(httpx.ConnectError("boom"), ConnectionRefusedError(111, "x"))

    failure = await fetch_failure(make_fetcher(handler), "http://a.test/")
    assert failure.line == "connect: connection refused to a.test:80"


# --- per-host limit ---------------------------------------------------------------------


async def test_per_host_limit_queues_a_third_request_while_other_hosts_proceed() -> None:
    release = asyncio.Event()
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        in_flight[host] = in_flight.get(host, 0) + 1
        peak[host] = max(peak.get(host, 0), in_flight[host])
        try:
            if host == "slow.test":
                await release.wait()
            return httpx.Response(200)
        finally:
            in_flight[host] -= 1

    fetcher = make_fetcher(handler, per_host=2)
    slow = [asyncio.create_task(fetcher.fetch("http://slow.test/", timeout=5)) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert in_flight["slow.test"] == 2, "the third request to the host must wait"
    other = await asyncio.wait_for(fetcher.fetch("http://fast.test/", timeout=5), 1)
    assert isinstance(other, Page), "another host is not held up by the busy one"
    release.set()
    results = await asyncio.gather(*slow)
    assert all(isinstance(r, Page) for r in results)
    assert peak["slow.test"] == 2
    assert len(fetcher.hosts) == 0, "idle hosts must not keep a semaphore"


async def test_many_hosts_leave_no_per_host_state_behind() -> None:
    router = respx.Router()
    router.route().respond(200)
    fetcher = make_fetcher(router)
    await asyncio.gather(*(fetcher.fetch(f"http://h{i}.test/", timeout=5) for i in range(500)))
    assert len(fetcher.hosts) == 0


async def test_waiting_for_a_host_slot_does_not_count_against_the_deadline() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.3)
        return httpx.Response(200)

    fetcher = make_fetcher(handler, per_host=1)
    first = asyncio.create_task(fetcher.fetch("http://a.test/", timeout=5))
    await asyncio.sleep(0.01)
    # 0.3 s queued behind the first request, then 0.3 s of its own: within 0.5 s of the
    # target's time, though 0.6 s pass.
    got = await fetcher.fetch("http://a.test/", timeout=0.5)
    assert isinstance(got, Page)
    assert got.status == 200
    assert isinstance(await first, Page)
