"""RSS 2.0 and Atom feeds as columns: their entries become listing items.

A feed is recognised by its content type or by its first element (`<rss>`, `<feed>`,
`<rdf:RDF>`), so a column may point at a feed without saying so. Entry dates are read from
`pubDate` (RFC 822), `dc:date`, `published` or `updated` (ISO 8601), falling back to the
date engine for the odd formats Chinese CMSs write there; a date after `now` is dropped
like any future date. A body that is not well-formed XML yields None: the caller reports
it as unparseable rather than as an empty column.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from probes.pages.dates import CN_TZ, parse_datetime
from probes.pages.listing import Item, Listing

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_FEED_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(rss|feed|rdf:RDF)[\s>]", re.S
)


def looks_like_feed(content_type: str, content: bytes) -> bool:
    """True for an RSS/Atom body (by content type, or by its root element)."""
    if content_type in _FEED_TYPES:
        return True
    return _FEED_START.match(content[:2048]) is not None


def parse_feed(content: bytes, base_url: str, *, now: dt.datetime) -> Listing | None:
    """The feed's entries as a Listing, or None when the body is not well-formed XML."""
    try:
        # The body is capped by the fetcher, and expat (>= 2.4.1) refuses entity bombs.
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    entries = root.findall(".//{*}item") or root.findall(".//item")
    entries += root.findall(".//{*}entry")
    items = tuple(_entry(e, base_url, now) for e in entries)
    return Listing(items, None, "feed")


def _entry(entry: ET.Element, base_url: str, now: dt.datetime) -> Item:
    title = " ".join(_text(entry, "title").split())
    link = _text(entry, "link")
    if not link:
        node = entry.find("{*}link")
        link = node.get("href", "") if node is not None else ""
    url = urljoin(base_url, link.strip()) if link.strip() else ""
    for tag in ("pubDate", "date", "published", "updated", "issued", "modified"):
        raw = _text(entry, tag).strip()
        if raw:
            when = _feed_date(raw, now)
            if when is not None:
                return Item(title, url, when, raw, "text")
    return Item(title, url, None)


def _text(entry: ET.Element, tag: str) -> str:
    node = entry.find(tag)
    if node is None:
        node = entry.find("{*}" + tag)
    return (node.text or "") if node is not None else ""


def _feed_date(raw: str, now: dt.datetime) -> dt.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return parse_datetime(raw, now=now)
    if when.tzinfo is None:
        when = when.replace(tzinfo=CN_TZ)
    when = when.astimezone(CN_TZ)
    return when if when <= now else None
