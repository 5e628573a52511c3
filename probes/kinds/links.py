"""The `links` check kind: which links of a page are dead?

It collects every link a visitor's browser would follow or load (`a[href]`, `img[src]`,
`script[src]`, `iframe[src]`, stylesheet and icon `link[href]`; attachments such as
.pdf/.doc/.xls are `a` links marked as such), resolves and deduplicates them, and checks
them politely: at most `max_links` per run (internal links first, so the site's own links
are always checked), `concurrency` at once, the fetcher's per-host limit, each within
`link_timeout` and the run's deadline. A link is checked with HEAD, and with a GET
(capped body) when HEAD is refused (405, 501, and the 400/403 some servers answer HEAD
with). A link is broken when it answers 4xx/5xx or not at all (DNS, connection, TLS,
timeout, redirect loop); a body over the cap is a live link.

`success` is None when the page itself could not be fetched or had no link to check,
False when a link is broken, True otherwise; thresholds are the verdict's
(`probes.verdict.links`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from probes.config.links import LinksSpec
from probes.findings.links import BrokenLink, LinksFindings
from probes.http.fetcher import FetchFailure, FetchOutcome
from probes.kinds.context import CheckContext
from probes.model import Failure, Measurement, Report
from probes.pages import challenge
from probes.pages.text import followable

# A GET fallback reads at most this much: enough to know the link answers.
GET_CAP = 64 * 1024
# HEAD answers that mean "ask me with GET" rather than "this link is dead".
HEAD_REFUSED = frozenset({400, 403, 405, 501})
ATTACHMENTS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".rar",
               ".wps", ".et", ".ofd", ".txt", ".csv")  # fmt: skip
EXAMPLES = 10
# Less time left than this is too little to tell a live link from a dead one.
OUT_OF_TIME = 0.05
_SOURCES = (("a", "href"), ("img", "src"), ("script", "src"), ("iframe", "src"),
            ("link", "href"))  # fmt: skip
_LINK_RELS = ("stylesheet", "icon", "shortcut icon", "apple-touch-icon")


@dataclass(frozen=True, slots=True)
class Link:
    """A link found on the page: absolute URL (no fragment), the element it came from
    (a, img, script, iframe, link, or attachment), and whether it is on the page's site."""

    url: str
    element: str
    internal: bool


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """The outcome of checking one link: HTTP status (0 when none) and the error if broken."""

    link: Link
    status: int
    broken: bool
    error: str = ""


def collect_links(html: str, page_url: str) -> list[Link]:
    """Every distinct http(s) link of the page, in page order."""
    tree = LexborHTMLParser(html)
    site = _site(urlsplit(page_url).netloc)
    seen: set[str] = set()
    out: list[Link] = []
    for tag, attr in _SOURCES:
        for node in tree.css(f"{tag}[{attr}]"):
            if tag == "link" and (node.attributes.get("rel") or "").lower() not in _LINK_RELS:
                continue
            raw = (node.attributes.get(attr) or "").strip()
            if not followable(raw):
                continue
            parts = urlsplit(urljoin(page_url, raw))
            if parts.scheme not in ("http", "https") or not parts.hostname:
                continue
            url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
            if url in seen:
                continue
            seen.add(url)
            element = tag
            if tag == "a" and parts.path.lower().endswith(ATTACHMENTS):
                element = "attachment"
            out.append(Link(url, element, _site(parts.netloc) == site))
    return out


async def check(spec: LinksSpec, ctx: CheckContext) -> Report:
    url = str(spec.url or ctx.channel.url or "")
    if not url:
        return Report(None, error="no url: set checks.links.url or the channel's url")
    page = await ctx.fetch(url)
    if not isinstance(page, FetchFailure) and (
        wall := challenge.detect(page.status, page.content, page.encoding)
    ):
        return Report(None, failure=Failure.BLOCKED, error=wall.line,
                      evidence=(f"{url}: {wall.line}",))  # fmt: skip
    if isinstance(page, FetchFailure) or page.status >= 400:
        line = page.line if isinstance(page, FetchFailure) else f"http_status: got {page.status}"
        failure = page.failure if isinstance(page, FetchFailure) else Failure.HTTP_STATUS
        return Report(None, failure=failure, error=f"the page itself: {line}",
                      evidence=(f"{url}: {line}",))  # fmt: skip
    links = [
        link
        for link in await ctx.read(page.content, collect_links, page.text, page.url)
        if (spec.external or link.internal) and not any(s in link.url for s in spec.ignore)
    ]
    links.sort(key=lambda link: not link.internal)  # stable: internal first, page order
    budget = links[: spec.max_links]
    gate = asyncio.Semaphore(spec.concurrency)
    statuses = await asyncio.gather(*(_check_link(link, spec, ctx, gate) for link in budget))
    checked = [s for s in statuses if s is not None]
    broken = [s for s in checked if s.broken]
    internal_broken = sum(1 for s in broken if s.link.internal)
    evidence = [
        f"{page.url}: {len(checked)} links checked, {len(broken)} broken"
        + (f" ({len(links) - len(checked)} not checked: budget or deadline)"
           if len(checked) < len(links) else "")
    ]  # fmt: skip
    evidence += [_example(s) for s in broken[:EXAMPLES]]
    success = None if not checked else not broken
    found = LinksFindings(
        found=len(links), checked=len(checked), internal_broken=internal_broken,
        external_broken=len(broken) - internal_broken,
        examples=tuple(
            BrokenLink(s.link.url, s.link.element, s.link.internal, s.status, s.error)
            for s in broken[:EXAMPLES]
        ),
    )  # fmt: skip
    return Report(
        success, found,
        failure=Failure.HTTP_STATUS if broken else None,
        error=f"{len(broken)} broken links" if broken else ("" if checked else "no links"),
        evidence=tuple(evidence),
        measurements=(
            Measurement("links_checked", float(len(checked))),
            Measurement("links_broken", float(len(broken))),
        ),
    )  # fmt: skip


async def _check_link(
    link: Link, spec: LinksSpec, ctx: CheckContext, gate: asyncio.Semaphore
) -> LinkStatus | None:
    async with gate:
        if ctx.remaining() <= OUT_OF_TIME:
            return None  # out of time: not checked, rather than falsely broken
        outcome = await ctx.fetch(link.url, timeout=spec.link_timeout, method="HEAD", max_body=0)
        if _refused(outcome):
            if ctx.remaining() <= OUT_OF_TIME:
                return None
            outcome = await ctx.fetch(link.url, timeout=spec.link_timeout, max_body=GET_CAP)
    return _status(link, outcome)


def _refused(outcome: FetchOutcome) -> bool:
    if isinstance(outcome, FetchFailure):
        # Some servers drop the connection on HEAD; ask again with GET before judging.
        return outcome.failure in (Failure.CONNECT, Failure.HTTP_STATUS) and outcome.status == 0
    return outcome.status in HEAD_REFUSED


def _status(link: Link, outcome: FetchOutcome) -> LinkStatus:
    if isinstance(outcome, FetchFailure):
        if outcome.failure is Failure.TOO_LARGE:
            # The body outgrew the cap: the link answered; only its status can condemn it.
            dead = outcome.status >= 400
            return LinkStatus(link, outcome.status, dead, f"HTTP {outcome.status}" if dead else "")
        return LinkStatus(link, outcome.status, True, outcome.line)
    if outcome.status >= 400:
        return LinkStatus(link, outcome.status, True, f"HTTP {outcome.status}")
    return LinkStatus(link, outcome.status, False)


def _example(s: LinkStatus) -> str:
    where = "internal" if s.link.internal else "external"
    return f"broken {s.link.element} ({where}): {s.link.url}: {s.error}"


def _site(netloc: str) -> str:
    # www.yz.gov.cn and yz.gov.cn are one site; another port is another server.
    host = netloc.lower().rsplit("@", 1)[-1]
    return host.removeprefix("www.")
