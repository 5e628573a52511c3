"""The one fetch layer: every HTTP request the monitor makes goes through `Fetcher.fetch`.

It owns the deadline (one overall `asyncio.timeout` per request, so a server trickling a
byte a second cannot hold a check), the body cap (counted on decoded bytes as they stream,
so a gzip bomb stops at the cap), redirects (followed here, with a limit and loop
detection), charset decoding, the User-Agent and the per-host concurrency limit. A target's
failure is returned as a `FetchFailure` with a reason from the fixed set; exceptions from
here are bugs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from probes.model import Failure


@dataclass(frozen=True, slots=True)
class Page:
    """A response that arrived: final URL, status, headers, body (capped) and its text."""

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
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """A request that did not produce a usable response, and why."""

    url: str
    failure: Failure
    error: str
    duration: float
    status: int = 0

    @property
    def line(self) -> str:
        return f"{self.failure.value}: {self.error}"


FetchOutcome = Page | FetchFailure


class Fetcher:
    """Makes requests on one shared `httpx.AsyncClient` owned by the caller."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_body: int = 5 * 1024 * 1024,
        max_redirects: int = 10,
        per_host: int = 2,
    ) -> None:
        self.client = client
        self.max_body = max_body
        self.max_redirects = max_redirects
        self.per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

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
        """One request (and its redirects) under one overall deadline of `timeout` s."""
        started = time.monotonic()
        cap = self.max_body if max_body is None else max_body
        try:
            async with asyncio.timeout(timeout):
                return await self._follow(
                    url, method, headers, data, json, cookies, follow_redirects, cap, started
                )
        except TimeoutError:
            return FetchFailure(
                url, Failure.TIMEOUT, f"no complete response within {timeout:g}s",
                time.monotonic() - started,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            return FetchFailure(url, *_classify(exc), time.monotonic() - started)

    async def _follow(
        self,
        url: str,
        method: str,
        headers: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        json: Any,
        cookies: httpx.Cookies | None,
        follow: bool,
        cap: int,
        started: float,
    ) -> FetchOutcome:
        jar = httpx.Cookies(cookies) if cookies is not None else httpx.Cookies()
        seen: list[str] = []
        while True:
            request = self.client.build_request(
                method, url, headers=headers, data=data, json=json, cookies=jar
            )
            async with self._host_slot(request.url.host):
                response = await self.client.send(request, stream=True)
                try:
                    jar.extract_cookies(response)
                    location = response.headers.get("location")
                    if follow and response.is_redirect and location:
                        nxt = str(response.url.join(location))
                        seen.append(url)
                        if nxt in seen:
                            return FetchFailure(
                                url, Failure.HTTP_STATUS,
                                f"redirect loop: {' -> '.join([*seen, nxt])}",
                                time.monotonic() - started, response.status_code,
                            )  # fmt: skip
                        if len(seen) > self.max_redirects:
                            return FetchFailure(
                                url, Failure.HTTP_STATUS,
                                f"more than {self.max_redirects} redirects",
                                time.monotonic() - started, response.status_code,
                            )  # fmt: skip
                        url = nxt
                        if response.status_code in (301, 302, 303) and method == "POST":
                            method, data, json = "GET", None, None
                        continue
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > cap:
                            return FetchFailure(
                                url, Failure.TOO_LARGE, f"body larger than {cap} bytes",
                                time.monotonic() - started, response.status_code,
                            )  # fmt: skip
                finally:
                    await response.aclose()
            content = bytes(body)
            return Page(
                url=str(response.url),
                status=response.status_code,
                headers=response.headers,
                content=content,
                encoding=detect_encoding(response.headers.get("content-type", ""), content),
                duration=time.monotonic() - started,
                redirects=tuple(seen),
                cookies=jar,
            )

    @contextlib.asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        sem = self._hosts.get(host)
        if sem is None:
            sem = self._hosts[host] = asyncio.Semaphore(self.per_host)
        async with sem:
            yield


def detect_encoding(content_type: str, content: bytes) -> str:
    """Charset from the header, then `<meta>`, then a guess; GB2312/GBK become GB18030
    (its superset), since pages labelled GB2312 routinely contain GBK-only characters."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return _normalise(value.strip("\"' "))
    head = content[:4096].lower()
    idx = head.find(b"charset=")
    if idx >= 0:
        raw = head[idx + 8 : idx + 40].lstrip(b"\"' ")
        name = raw.split(b'"')[0].split(b"'")[0].split(b";")[0].split(b">")[0].split(b" ")[0]
        if name:
            return _normalise(name.decode("ascii", "replace"))
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _normalise(name: str) -> str:
    lowered = name.lower()
    if lowered in {"gb2312", "gbk", "gb_2312-80", "x-gbk", "gb18030", "cp936"}:
        return "gb18030"
    try:
        return __import__("codecs").lookup(lowered).name
    except LookupError:
        return "utf-8"


def _classify(exc: httpx.HTTPError) -> tuple[Failure, str]:
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if isinstance(exc, httpx.TimeoutException):
        return Failure.TIMEOUT, text
    if "ssl" in lowered or "certificate" in lowered:
        return Failure.TLS, text
    if "name or service not known" in lowered or "nodename" in lowered or "resolve" in lowered:
        return Failure.DNS, text
    if isinstance(exc, httpx.ConnectError | httpx.NetworkError | httpx.RemoteProtocolError):
        return Failure.CONNECT, text
    return Failure.CONNECT, text


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""
