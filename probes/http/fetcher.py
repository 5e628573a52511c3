"""The one fetch layer: every HTTP request the monitor makes goes through `Fetcher.fetch`.

It owns the deadline (one overall `asyncio.timeout` per request covering every redirect
hop and the body, so a server trickling a byte a second cannot hold a check), the body
cap (counted on decoded bytes: the raw stream is decompressed here in bounded steps, so a
gzip bomb never inflates past the cap in memory), redirects (followed here, with a limit
and loop detection), cookies across redirects, charset decoding and the per-host
concurrency limit.

Time spent waiting for the monitor's own per-host slot is not the target's: the request's
deadline stands still while it waits, and a `QueueTime` given to `for_check` is told, so
the check's deadline stands still too. Otherwise a burst of checks on one slow host (200
requests for a site answering in 3 s through 2 slots) would record the monitor's own queue
as the site's timeouts.

A target's failure is returned as a `FetchFailure` with a reason from the fixed set and
one line a human can act on; status codes are not failures
here (the check kinds judge them). Exceptions from here are bugs.

The client (User-Agent, TLS verification, transport, no keep-alive) comes from
`probes.http.client.open_client`. Durations are read on the injected clock; the deadline
itself is the event loop's (`asyncio.timeout`), since it must bound real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from probes.clock import Clock
from probes.config.tls import TlsSpec
from probes.http.decode import (
    ACCEPT_ENCODING,
    BodyDecoder,
    BodyError,
    BodyTooLarge,
    detect_encoding,
)
from probes.http.errors import classify, one_line
from probes.model import Failure

__all__ = [
    "ACCEPT_ENCODING",
    "FetchFailure",
    "FetchOutcome",
    "Fetcher",
    "Page",
    "detect_encoding",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that describe a request body; dropped when a redirect turns the request into a GET.
_BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")
# Credentials the caller set for one origin are not sent to another one a redirect names.
_ORIGIN_BOUND_HEADERS = ("authorization", "cookie")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def keeps_credentials(source: httpx.URL, target: httpx.URL) -> bool:
    """Whether a redirect from `source` to `target` may carry the caller's credentials:
    the same origin (scheme, host and port), or, as httpx allows, the same host upgraded
    from http on port 80 to https on port 443. A downgrade to http, another port or
    another host drops them."""
    if _origin(source) == _origin(target):
        return True
    return (
        source.host == target.host
        and _origin(source)[::2] == ("http", 80)
        and _origin(target)[::2] == ("https", 443)
    )


@dataclass(frozen=True, slots=True)
class Page:
    """A response that arrived: final URL, status, headers, body (decoded, capped) and the
    codec its text decodes with.

    redirects: the URLs redirected from, in order (empty when none).
    tls_not_after: the final connection's certificate notAfter (epoch s), None for http.
    cookies: the jar after the whole exchange (the request's cookies plus any set).
    """

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    encoding: str
    duration: float
    redirects: tuple[str, ...] = ()
    tls_not_after: float | None = None
    cookies: httpx.Cookies = field(default_factory=httpx.Cookies)

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";", maxsplit=1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """A request that did not produce a usable response, and why.

    status: the HTTP status when one arrived (a redirect loop, a body too large), else 0.
    """

    url: str
    failure: Failure
    error: str
    duration: float
    status: int = 0

    @property
    def line(self) -> str:
        """One line for humans: `connect: connection refused to 127.0.0.1:1`."""
        return f"{self.failure.value}: {self.error}"


FetchOutcome = Page | FetchFailure


class _Failed(Exception):
    """Internal: ends a fetch with a failure (carries the reason to `fetch`)."""

    def __init__(self, failure: Failure, error: str, status: int = 0) -> None:
        super().__init__(error)
        self.failure, self.error, self.status = failure, error, status


@dataclass(slots=True)
class _Progress:
    """Where a fetch got to, for a timeout message that says what was slow."""

    url: httpx.URL
    stage: str = "waiting for a per-host slot"
    received: int = 0
    hops: int = 0


@dataclass(slots=True)
class _Request:
    """The request of the current hop; a redirect rewrites it."""

    method: str
    url: httpx.URL
    headers: dict[str, str]
    data: Mapping[str, str] | None
    json: Any
    follow: bool

    def redirect(self, status: int, location: httpx.URL) -> None:
        if not keeps_credentials(self.url, location):
            self.headers = {
                k: v for k, v in self.headers.items() if k.lower() not in _ORIGIN_BOUND_HEADERS
            }
        # 303 always becomes a GET; 301/302 after a POST too, as every browser does.
        if status == 303 or (status in (301, 302) and self.method == "POST"):
            self.method = "HEAD" if self.method == "HEAD" else "GET"
            self.data, self.json = None, None
            self.headers = {k: v for k, v in self.headers.items() if k.lower() not in _BODY_HEADERS}
        self.url = location


class Pausable(Protocol):
    """A deadline that stands still between `pause()` and `resume()` (a run's hard stop)."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...


class QueueTime:
    """The time one check run spent blocked by the monitor's own queue: while some of its
    requests wait for a per-host slot and none is talking to a target.

    The runner creates one per run on its clock, passes it to `Fetcher.for_check` and adds
    `total` to the run's deadline; `pause_with` registers the run's hard stop, which stands
    still while the queue blocks the run.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.total = 0.0
        self._waiting = 0
        self._active = 0
        self._since: float | None = None
        self._stops: list[Pausable] = []

    def pause_with(self, stop: Pausable) -> None:
        """Pause `stop` whenever the queue blocks the run, until `detach`."""
        self._stops.append(stop)
        if self._since is not None:
            stop.pause()

    def detach(self, stop: Pausable) -> None:
        self._stops.remove(stop)

    def queued(self) -> None:
        self._waiting += 1
        self._update()

    def admitted(self) -> None:
        self._waiting -= 1
        self._active += 1
        self._update()

    def left_queue(self) -> None:
        """A request that was waiting gave up (its caller's own deadline or cancellation)."""
        self._waiting -= 1
        self._update()

    def released(self) -> None:
        self._active -= 1
        self._update()

    def _update(self) -> None:
        blocked = self._waiting > 0 and self._active == 0
        if blocked and self._since is None:
            self._since = self.clock.monotonic()
            for stop in self._stops:
                stop.pause()
        elif not blocked and self._since is not None:
            self.total += self.clock.monotonic() - self._since
            self._since = None
            for stop in self._stops:
                stop.resume()


class _HostSlots:
    """At most `per_host` requests in flight per host. A host's semaphore lives only while
    someone holds or waits for it, so thousands of hosts leave nothing behind."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    def __len__(self) -> int:
        return len(self._slots)

    @contextlib.asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        sem, users = self._slots.setdefault(host, (asyncio.Semaphore(self.per_host), [0]))
        users[0] += 1
        try:
            async with sem:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[host]


class ClientsForTls(Protocol):
    """Opens the client of a check's own TLS settings (`probes.http.client.TlsClients`)."""

    def client_for(self, tls: TlsSpec) -> httpx.AsyncClient: ...


class Fetcher:
    """Makes requests on one shared `httpx.AsyncClient` owned by the caller."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        max_body: int = 5 * 1024 * 1024,
        max_redirects: int = 10,
        per_host: int = 2,
        tls_clients: ClientsForTls | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.tls_clients = tls_clients
        # (host it applies to, or None: each fetch's first host; the name to verify)
        self.server_name: tuple[str | None, str] | None = None
        self.max_body = max_body
        self.max_redirects = max_redirects
        self.per_host = per_host
        self.hosts = _HostSlots(per_host)
        self.on_page: Callable[[Page], None] | None = None
        self.queue: QueueTime | None = None

    def with_tls(self, tls: TlsSpec | None, host: str | None) -> Fetcher:
        """This fetcher for a check with its own TLS settings: the client for its CA file
        or `insecure`, and its `server_name` sent (and verified) for requests to `host`
        only (None: to each fetch's first host), so a redirect or a link to another site
        is verified under that site's own name."""
        if tls is None:
            return self
        view = copy.copy(self)
        if tls.ca_file is not None or tls.insecure:
            if self.tls_clients is None:
                raise RuntimeError("a check has its own tls: but the fetcher has no TlsClients")
            view.client = self.tls_clients.client_for(tls)
        if tls.server_name is not None:
            view.server_name = (host, tls.server_name)
        return view

    def observed(self, on_page: Callable[[Page], None]) -> Fetcher:
        """This fetcher (same client, same per-host limits) telling `on_page` of every
        page that arrives: how a run keeps the pages that may become evidence."""
        view = copy.copy(self)
        view.on_page = on_page
        return view

    def for_check(self, queue: QueueTime) -> Fetcher:
        """This fetcher (same client, same per-host slots, same TLS and observer) reporting
        to one check run's `QueueTime`."""
        view = copy.copy(self)
        view.queue = queue
        return view

    async def fetch(
        self,
        url: str,
        *,
        timeout: float,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        cookies: httpx.Cookies | None = None,
        follow_redirects: bool = True,
        max_body: int | None = None,
    ) -> FetchOutcome:
        """One request and its redirects under one overall deadline of `timeout` seconds.

        Never raises for the target's failure: DNS, connect, TLS, timeout, a body over
        `max_body` decoded bytes, an unreadable body, a redirect loop or too many redirects
        come back as a `FetchFailure`. Any HTTP status comes back as a `Page`.
        """
        started = self.clock.monotonic()
        cap = self.max_body if max_body is None else max_body
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            return FetchFailure(url, Failure.CONNECT, one_line(f"invalid URL {url!r}: {exc}"), 0.0)
        progress = _Progress(target)
        req = _Request(method, target, dict(headers or {}), data, json, follow_redirects)
        # Only codings the body decoder can bound, unless the caller asked for others.
        if not any(k.lower() == "accept-encoding" for k in req.headers):
            req.headers["Accept-Encoding"] = ACCEPT_ENCODING
        try:
            sni = None
            if self.server_name is not None:
                scope, name = self.server_name
                sni = (scope or target.host, name)
            async with asyncio.timeout(timeout) as deadline:
                page = await self._follow(req, cookies, cap, progress, deadline, sni)
            if self.on_page is not None:
                self.on_page(page)
            return page
        except TimeoutError:
            failure, error, status = Failure.TIMEOUT, _timeout_line(timeout, progress), 0
        except _Failed as exc:
            failure, error, status = exc.failure, exc.error, exc.status
        except httpx.InvalidURL as exc:  # a redirect to a malformed Location
            failure, error, status = Failure.CONNECT, f"invalid redirect target: {exc}", 0
        except (httpx.HTTPError, OSError) as exc:
            failure, error = classify(exc, progress.url)
            status = 0
        return FetchFailure(url, failure, one_line(error), self.clock.monotonic() - started, status)

    async def _follow(
        self,
        req: _Request,
        cookies: httpx.Cookies | None,
        cap: int,
        progress: _Progress,
        deadline: asyncio.Timeout,
        sni: tuple[str, str] | None = None,
    ) -> Page:
        started = self.clock.monotonic()
        # A jar only when there are cookies: most checks send none and get none, and
        # offering every request and response to a cookie jar costs more than parsing.
        jar = httpx.Cookies(cookies) if cookies else None
        seen: set[tuple[str, str, frozenset[tuple[str, str, str | None]]]] = set()
        redirects: list[str] = []
        last_status = 0
        while True:
            target = req.url
            if target.scheme not in ("http", "https") or not target.host:
                raise _Failed(Failure.CONNECT, f"not an http(s) URL: {target}", last_status)
            # A loop is the same request with the same cookies: a page that redirects to
            # itself after setting a cookie (a common session check) is not one.
            sent = frozenset((c.domain, c.name, c.value) for c in jar.jar) if jar else frozenset()
            key = (req.method, str(target), sent)
            if key in seen:
                chain = " -> ".join([*redirects, str(target)])
                raise _Failed(Failure.HTTP_STATUS, f"redirect loop: {chain}", last_status)
            seen.add(key)
            progress.url, progress.stage = target, "waiting for a per-host slot"
            request = self.client.build_request(
                req.method, target, headers=req.headers, data=req.data, json=req.json,
                extensions={"sni_hostname": sni[1]} if sni and sni[0] == target.host else None,
            )  # fmt: skip
            if jar:
                jar.set_cookie_header(request)
            async with self._slot(target.host, deadline):
                progress.stage = "waiting for the response headers"
                response = await self.client.send(request, stream=True, follow_redirects=False)
                try:
                    if "set-cookie" in response.headers:
                        if jar is None:
                            jar = httpx.Cookies()
                        jar.extract_cookies(response)
                    location = response.headers.get("location")
                    if req.follow and response.status_code in REDIRECT_STATUSES and location:
                        if len(redirects) >= self.max_redirects:
                            raise _Failed(
                                Failure.HTTP_STATUS,
                                f"more than {self.max_redirects} redirects "
                                f"(last: {target} -> {location})",
                                response.status_code,
                            )
                        redirects.append(str(target))
                        progress.hops += 1
                        last_status = response.status_code
                        req.redirect(response.status_code, target.join(location))
                        continue
                    content = await self._read_body(response, cap, progress)
                finally:
                    await response.aclose()
            not_after = response.extensions.get("tls_not_after")
            return Page(
                url=str(response.url),
                status=response.status_code,
                headers=response.headers,
                content=content,
                encoding=detect_encoding(response.headers.get("content-type", ""), content),
                duration=self.clock.monotonic() - started,
                redirects=tuple(redirects),
                tls_not_after=not_after if isinstance(not_after, float) else None,
                cookies=jar if jar is not None else httpx.Cookies(),
            )

    @contextlib.asynccontextmanager
    async def _slot(self, host: str, deadline: asyncio.Timeout) -> AsyncIterator[None]:
        """Hold a per-host slot; the request's deadline stops while it waits for one."""
        loop = asyncio.get_running_loop()
        when = deadline.when()
        left = None if when is None else when - loop.time()
        deadline.reschedule(None)
        queue = self.queue
        if queue is not None:
            queue.queued()
        admitted = False
        try:
            async with self.hosts.hold(host):
                admitted = True
                if queue is not None:
                    queue.admitted()
                if left is not None:
                    deadline.reschedule(loop.time() + left)
                yield
        finally:
            if queue is not None and admitted:
                queue.released()
            elif queue is not None:
                queue.left_queue()

    @staticmethod
    async def _read_body(response: httpx.Response, cap: int, progress: _Progress) -> bytes:
        status = response.status_code
        encoding = response.headers.get("content-encoding", "")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap and encoding in ("", "identity"):
            raise _Failed(
                Failure.TOO_LARGE, f"body of {declared} bytes is over the {cap}-byte cap", status
            )
        progress.stage, progress.received = "reading the body", 0
        try:
            decoder = BodyDecoder(encoding, cap)
            # The raw stream itself rather than `aiter_raw()`: the same bytes, and it also
            # works for a response whose body was preloaded (a mocked one in tests).
            stream = response.stream
            if not isinstance(stream, httpx.AsyncByteStream):
                raise TypeError("the fetcher needs an async client")
            async for chunk in stream:
                progress.received += len(chunk)
                decoder.feed(chunk)
        except BodyTooLarge as exc:
            raise _Failed(Failure.TOO_LARGE, f"{exc} (the cap) once decoded", status) from exc
        except BodyError as exc:
            raise _Failed(Failure.PARSE_ERROR, f"unreadable body: {exc}", status) from exc
        return decoder.content


def _timeout_line(timeout: float, progress: _Progress) -> str:
    url = progress.url
    where = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
    line = f"no complete response from {where} within {timeout:g}s ({progress.stage}"
    if progress.stage == "reading the body":
        line += f", {progress.received} bytes so far"
    if progress.hops:
        line += f", after {progress.hops} redirects"
    return line + ")"
