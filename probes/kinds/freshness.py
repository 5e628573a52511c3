"""The `freshness` check kind: is each column of a site still being updated, or blank?

For every configured column (concurrently; the fetcher keeps to the per-host limit) it
fetches the listing page or feed, extracts the items and their dates (`probes.pages.listing`,
`probes.pages.feeds`), records the item-list fingerprint (`probes.state.content`) and judges the
column:

- fresh / stale: the newest item's age against the column's `max_age`. The newest date is
  capped by the last time the item list was seen changing: an unchanged list cannot hold
  an item newer than its last change, whatever dates the page prints;
- blank (空白栏目): no dated item and a placeholder (暂无信息, 内容正在建设中, …), a
  feed with no entries, or no item at all in the column's list element that the page
  shows empty (`probes.pages.emptylist` owns when an empty page is blank rather than unknown);
- fake freshness: the dates moved while the items stayed the same (seen over two runs),
  or on one page the shown dates of most items are far later than the dates their URLs
  carry (`/t20240315_1.html` shown as today); the URL dates are then taken as the truth;
- unknown: the page could not be fetched or parsed, or no date could be found, or an
  anti-bot challenge (`probes.pages.challenge`) stood in its place (`blocked_by_waf`), or
  its list is rendered by script in the browser (`list_rendered_by_script`). An unknown
  column is never fresh and never stale.

A column declared `type: article` (or detected as one: `probes.pages.article`) is one
page, a policy or the latest notice, judged by its own publication date (its PubDate
meta, its 发布日期 label, its URL), never by the related links around it.

The check's `success` is None when no column could be judged, False when a column is
stale, blank or fakes freshness, True otherwise. The site-level thresholds are the
verdict's job (`probes.verdict.freshness`), from the `FreshnessFindings` columns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from probes.config.freshness import Column, FreshnessSpec
from probes.config.types import age_text, format_duration
from probes.findings.freshness import ColumnFindings, FreshnessFindings
from probes.http.fetcher import FetchFailure
from probes.kinds.apipages import ApiError
from probes.kinds.context import CheckContext
from probes.kinds.freshness_api import api_listing
from probes.model import Failure, Measurement, Report
from probes.pages import challenge
from probes.pages.article import ArticleDate, article_date, is_article
from probes.pages.complexity import not_text, too_complex
from probes.pages.dates import CN_TZ
from probes.pages.feeds import looks_like_feed, parse_feed
from probes.pages.listing import PLACEHOLDERS, Item, Listing, extract, newest
from probes.pages.text import page_title
from probes.state import content

# Extraction reads at most this much of a page: list pages are 100-500 KB, the newest items
# come first, and the parse must end well within the check's deadline even when the body
# cap has been raised.
MAX_PARSE_BYTES = 4 * 1024 * 1024
# Shown dates this much later than the URL's date, on most items, are fake freshness.
FAKE_SHIFT = 31 * 86400.0
FAKE_MIN_ITEMS = 3
_BINARY_TYPES = ("image/", "audio/", "video/", "application/pdf", "application/zip",
                 "application/octet-stream", "application/msword")  # fmt: skip


async def check(spec: FreshnessSpec, ctx: CheckContext) -> Report:
    started = ctx.clock.now()
    facts = await asyncio.gather(*(_column(c, spec, ctx, started) for c in spec.columns))
    measurements: list[Measurement] = []
    evidence: list[str] = []
    for f in facts:
        labels = (("column", f.id),)
        measurements.append(Measurement("content_max_age_seconds", f.max_age, labels))
        if f.status in ("fresh", "stale", "blank"):
            measurements.append(Measurement("content_items", float(f.items), labels))
        if f.newest is not None:
            measurements.append(
                Measurement("content_newest_item_timestamp_seconds", f.newest, labels)
            )
        if f.last_change is not None:
            measurements.append(
                Measurement("content_last_change_timestamp_seconds", f.last_change, labels)
            )
        evidence.append(_evidence(f))
    stale = sum(1 for f in facts if f.status == "stale" and f.class_ != "home")
    blank = sum(1 for f in facts if f.status == "blank")
    measurements.append(Measurement("content_stale_columns", float(stale)))
    measurements.append(Measurement("content_blank_columns", float(blank)))
    judged = [f for f in facts if f.status != "unknown"]
    bad = [f for f in judged if f.status in ("stale", "blank") or f.fake]
    success: bool | None
    if not judged:
        # Every column behind an anti-bot challenge: the site hid itself, not a bad page.
        walled = all(f.code == "blocked_by_waf" for f in facts)
        failure = Failure.BLOCKED if walled else Failure.PARSE_ERROR
        success = None
        error = f"no column could be judged: {facts[0].id}: {facts[0].reason}"
    elif bad:
        success, failure = False, Failure.ASSERTION
        error = "; ".join(f"{f.id}: {'fake freshness' if f.fake else f.status}" for f in bad)
    else:
        success, failure, error = True, None, ""
    return Report(
        success, FreshnessFindings(tuple(facts)),
        failure=failure, error=error, evidence=tuple(evidence),
        measurements=tuple(measurements),
    )  # fmt: skip


async def _column(
    column: Column, spec: FreshnessSpec, ctx: CheckContext, now: float
) -> ColumnFindings:
    base = ColumnFindings(column.id, column.class_, column.limit, "unknown")
    if column.api is not None:
        read = await api_listing(column, column.api, ctx, dt.datetime.fromtimestamp(now, CN_TZ))
        if isinstance(read, ApiError):
            code = "blocked_by_waf" if read.failure is Failure.BLOCKED else ""
            return _with(base, reason=f"{read.where}: {read.line}", code=code)
        return _judged(_with(base, page="api"), read, column, spec, ctx, "", now)
    url = str(column.url)
    outcome = await ctx.fetch(url)
    if isinstance(outcome, FetchFailure):
        return _with(base, reason=outcome.line)
    if blocked := challenge.detect(outcome.status, outcome.content, outcome.encoding):
        return _with(base, reason=blocked.line, code="blocked_by_waf")
    if outcome.status >= 400:
        return _with(base, reason=f"http_status: got {outcome.status}")
    body = outcome.content[:MAX_PARSE_BYTES]
    listing = await ctx.read(
        body, _listing, body, outcome.content_type, outcome.encoding, outcome.url,
        column, dt.datetime.fromtimestamp(now, CN_TZ),
    )  # fmt: skip
    if isinstance(listing, str):
        return _with(base, reason=listing)
    if isinstance(listing, _Article):
        return _article(base, listing, column, now)
    return _judged(base, listing, column, spec, ctx, outcome.text, now)


def _judged(
    base: ColumnFindings,
    listing: Listing,
    column: Column,
    spec: FreshnessSpec,
    ctx: CheckContext,
    page_text: str,
    now: float,
) -> ColumnFindings:
    """The column judged by its items (`page_text`: where extra blank phrases are looked
    for)."""
    if listing.mode == "feed":
        base = _with(base, page="feed")
    placeholder = listing.placeholder or next(
        (p for p in spec.blank_patterns if p and p in page_text), None
    )
    dated = listing.dated
    if not dated:
        if placeholder is not None:
            return _with(base, status="blank", reason=f"page says {placeholder!r}")
        if listing.mode == "feed" and not listing.items:
            return _with(base, status="blank", reason="the feed has no entries")
        if listing.empty is not None and not listing.items:
            return _with(base, status="blank", reason=f"the list {listing.empty} has no items")
        if listing.script is not None:
            return _with(base, reason=listing.script, code="list_rendered_by_script")
        undated = len(listing.items)
        return _with(
            base, reason=f"no dated items found ({undated} items without a date)", items=undated
        )
    shifted = _url_contradicts(dated)
    if shifted:
        # The page prints dates its own URLs deny: trust the URLs.
        dated = tuple(_use_url_date(i) for i in dated)
    newest_item = newest(dated)
    assert newest_item is not None
    assert newest_item.when is not None
    newest_ts = newest_item.when.timestamp()
    change = content.observe(
        ctx.store, ctx.channel.name, column.id,
        items_fp=content.fingerprint((i.title, i.url) for i in listing.items),
        dates_fp=content.fingerprint(((i.date_text,) for i in dated), ordered=True),
        newest=newest_ts, now=now,
    )  # fmt: skip
    # An unchanged list holds nothing newer than its last change, whatever it prints.
    effective = min(newest_ts, change.last_change)
    age = max(0.0, now - effective)
    return _with(
        base,
        status="stale" if age > column.limit else "fresh",
        newest=effective, newest_title=newest_item.title, newest_url=newest_item.url,
        newest_text=newest_item.date_text, items=len(dated), last_change=change.last_change,
        fake=shifted or change.fake_since is not None, age=age,
    )  # fmt: skip


_SOURCES = {"meta": "publication meta", "label": "publication label", "url": "URL"}


@dataclass(frozen=True, slots=True)
class _Article:
    """An article page: its title and its own publication date (None: none found)."""

    title: str
    url: str
    date: ArticleDate | None


def _article(base: ColumnFindings, page: _Article, column: Column, now: float) -> ColumnFindings:
    base = _with(base, page="article", newest_title=page.title, newest_url=page.url)
    if page.date is None:
        return _with(
            base, reason="no publication date on the article page (no PubDate meta, "
            "发布日期 label or date in its URL)",
        )  # fmt: skip
    newest_ts = page.date.when.timestamp()
    age = max(0.0, now - newest_ts)
    return _with(
        base, status="stale" if age > column.limit else "fresh", newest=newest_ts,
        newest_text=f"{page.date.written} (by its {_SOURCES[page.date.source]})", age=age,
    )  # fmt: skip


def _listing(
    body: bytes, content_type: str, encoding: str, url: str, column: Column, now: dt.datetime
) -> Listing | _Article | str:
    """The page's items (or, for an article page, its publication date), or why they
    cannot be read. Runs in a page worker for a big page: takes the body, not the `Page`."""
    if column.feed or (column.feed is None and looks_like_feed(content_type, body)):
        feed = parse_feed(body, url, now=now)
        return feed if feed is not None else "parse_error: the feed is not well-formed XML"
    if content_type.startswith(_BINARY_TYPES) or b"\x00" in body[:8192]:
        return f"parse_error: not an HTML page ({content_type or 'binary content'})"
    if garbled := not_text(body, encoding):
        return garbled
    text = body.decode(encoding, errors="replace")
    # Refused before any parse: a page too deep to parse within the deadline.
    if hostile := too_complex(text):
        return hostile
    if column.type == "article":
        return _Article(_title(text), url, article_date(text, url, now=now))
    listing = extract(
        text, url, now=now, item_selector=column.item_selector,
        date_selector=column.date_selector, title_selector=column.title_selector,
    )  # fmt: skip
    if (
        column.type == "auto"
        and listing.mode == "auto"
        and is_article(text, len(listing.items), len(listing.dated))
    ):
        return _Article(_title(text), url, article_date(text, url, now=now))
    return listing


def _title(html: str) -> str:
    return page_title(LexborHTMLParser(html))


def _url_contradicts(dated: tuple[Item, ...]) -> bool:
    with_url = [i for i in dated if i.url_when is not None and i.when is not None]
    shifted = [
        i
        for i in with_url
        if i.when is not None
        and i.url_when is not None
        and (i.when - i.url_when).total_seconds() > FAKE_SHIFT
    ]
    return len(shifted) >= FAKE_MIN_ITEMS and 2 * len(shifted) > len(with_url)


def _use_url_date(item: Item) -> Item:
    if item.url_when is None:
        return item
    path = urlsplit(item.url).path
    return Item(item.title, item.url, item.url_when, path, "url", item.url_when)


def _with(base: ColumnFindings, **changes: Any) -> ColumnFindings:
    return replace(base, **changes)


def _evidence(f: ColumnFindings) -> str:
    if f.status == "unknown":
        return f"{f.id}: unknown: {f.reason}"
    if f.status == "blank":
        return f"{f.id}: blank: {f.reason}"
    assert f.newest is not None
    assert f.age is not None
    when = dt.datetime.fromtimestamp(f.newest, CN_TZ).strftime("%Y-%m-%d %H:%M")
    when = when.removesuffix(" 00:00")
    where = urlsplit(f.newest_url).path or f.newest_url
    if f.page == "article":
        return (
            f"{f.id}: article 《{_short(f.newest_title)}》 at {where} published "
            f"{f.newest_text} ({f.status}, {age_text(f.age)} old, "
            f"limit {format_duration(f.max_age)})"
        )
    read = " on list API page 1 (newest first: later pages not read)" if f.page == "api" else ""
    line = (
        f"{f.id}: newest {when} 《{_short(f.newest_title)}》 at {where} "
        f"({f.items} dated items{read}; {f.status}, {age_text(f.age)} old, "
        f"limit {format_duration(f.max_age)})"
    )
    if f.fake:
        line += "; fake freshness: the dates move but the items do not"
    return line


def _short(title: str, limit: int = 40) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


__all__ = ["PLACEHOLDERS", "check"]
