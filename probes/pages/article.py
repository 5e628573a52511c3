"""Article pages (a policy document, the latest notice, a record's page): their own
publication date, and telling an article page from a column's list.

An article is dated by what it says about itself, in this order (as GNE and htmldate
do: metadata first, then the page's own markers, then its URL):

1. the publication meta: `PubDate` (the national government-website guideline puts it on
   every article page), `publishdate`, `pubdate`, `firstpublishedtime`,
   `article:published_time` …;
2. a visible publication label in the page's content: 发布日期 / 发布时间 / 成文日期 /
   公告时间 / 公示日期 … followed by a date (`发布时间：2022-05-06 15:16`, a `<th>` label
   and its `<td>`), or an element the template marks as the publication time
   (`id="pubTime"`, `class="fbsj"`); the first such label in page order, as an
   article's byline comes before its body;
3. the date in its URL (`/t20211011_1485252.html`, `/202110/…`).

Related-reading lists, sidebars and navigation (page chrome, `probes.pages.chrome`)
never date an article, and a page-generation stamp (`页面生成时间`, `ttmp`, a
`lastmodifiedtime`) is never a content date: a publication meta equal to the page's
generation stamp was written by the template when the page was regenerated, not by an
editor, so the page is dated by its label instead.

A page is taken for an article when it carries a publication meta (and the guideline's
article metas, or no dated list of `MIN_ROWS` items), or when no list of `MIN_ROWS`
items is found and it shows a dated publication label.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probes.pages.chrome import is_chrome
from probes.pages.dates import DateMatch, find_dates, parse_datetime, url_date
from probes.pages.listsearch import MIN_ROWS
from probes.pages.text import node_text, strip_non_content

Source = Literal["meta", "label", "url"]

# Publication metas, lower-cased names (name, property or itemprop).
_PUB_METAS = (
    "pubdate", "publishdate", "publish_date", "publish-date", "publishtime",
    "firstpublishedtime", "article:published_time", "og:article:published_time",
    "datepublished", "dc.date.issued", "dcterms.issued", "releasedate",
)  # fmt: skip
# `2024-11-03-10:20:11` and `20241103`: the date, then the time.
_COMPACT = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:-(\d{1,2}:\d{2}(?::\d{2})?))?")
_META_WORDS = ("pubdate", "publish", "datepublished", "dc.date", "dcterms.issued", "releasedate")
# Labels of an article's publication date as government pages print them.
_LABEL = re.compile(
    r"(?:发布|公布|公开|发文|印发|成文|生效)(?:日期|时间)|公告(?:日期|时间)|(?:首次)?公示(?:信息)?日期"
    r"|信息(?:发布)?日期|发稿时间|时间\s*[:：]|日期\s*[:：]"
)
# Labels that name another time (生成时间 of the page, the visitor's 访问时间, 当前时间).
_NOT_PUBLICATION = re.compile(r"生成|访问|更新|打印|当前|登录|回复|截止")
# The first publication label is the byline: a label only this far from its date counts.
_LABEL_REACH = 40
# Elements the template marks as the publication time.
_PUB_ATTR = re.compile(
    r"pub_?time|pub_?date|publish_?(?:time|date)|release_?(?:time|date)|fbsj|fbrq", re.I
)
# Page-generation stamps: never content dates.
_GENERATED = re.compile(
    r"(?:页面生成时间|生成时间|ttmp)\s*[:：=]?\s*[\"']?([0-9][0-9\-/: .]{7,19})", re.I
)


@dataclass(frozen=True, slots=True)
class ArticleDate:
    """An article's publication time, where it came from, and how it was written."""

    when: dt.datetime
    source: Source
    written: str


def is_article(html: str, listed: int, dated: int) -> bool:
    """True when the page is an article (`listed` list items were found on it, `dated`
    of them with a date): it carries a publication meta, and either the article metas
    of the national guideline (ArticleTitle, ContentSource) or no dated list of
    `MIN_ROWS` items (some column templates stamp every page with a PubDate); or it has
    no list of `MIN_ROWS` items and shows a dated publication label."""
    if _may_have_meta(html):
        tree = LexborHTMLParser(html)
        if _meta_values(tree):
            return dated < MIN_ROWS or _has_article_meta(tree)
    return listed < MIN_ROWS and _label_text(html) is not None


def _has_article_meta(tree: LexborHTMLParser) -> bool:
    return any(
        (m.attributes.get("name") or "").lower() in ("articletitle", "contentsource")
        for m in tree.css("meta[name]")
    )


def article_date(html: str, url: str, *, now: dt.datetime) -> ArticleDate | None:
    """The page's own publication time (see the module docstring), or None."""
    tree = LexborHTMLParser(html)
    generated = {g.group(1).strip() for g in _GENERATED.finditer(html)}
    for value in _meta_values(tree):
        if value in generated:
            continue  # the template's regeneration stamp
        when = _meta_time(value, now)
        if when is not None:
            return ArticleDate(when, "meta", value)
    found = _label_text(html)
    if found is not None:
        first = _first_date(found, now)
        if first is not None:
            return ArticleDate(first.when, "label", found[first.start : first.end])
    path = urlsplit(url).path
    match = url_date(path, now=now) if path else None
    if match is not None:
        return ArticleDate(match.when, "url", path)
    return None


def _may_have_meta(html: str) -> bool:
    # Every column page is asked; parsing it for metas only when one may be there keeps
    # the question cheap on list pages.
    lowered = html.lower()
    return any(word in lowered for word in _META_WORDS)


def _meta_time(value: str, now: dt.datetime) -> dt.datetime | None:
    """A meta's time as CMSs write it: ISO, `2024-11-03 10:20:11`, www.gov.cn's
    `2024-11-03-10:20:11`, compact `20241103`."""
    if m := _COMPACT.fullmatch(value):
        value = f"{m.group(1)}-{m.group(2)}-{m.group(3)} {m.group(4) or ''}".strip()
    return parse_datetime(value, now=now)


def _meta_values(tree: LexborHTMLParser) -> list[str]:
    values = []
    for meta in tree.css("meta[content]"):
        attrs = meta.attributes
        name = (attrs.get("name") or attrs.get("property") or attrs.get("itemprop") or "").lower()
        content = (attrs.get("content") or "").strip()
        if name in _PUB_METAS and content:
            values.append(content)
    return values


def _label_text(html: str) -> str | None:
    """The text from the first dated publication label of the page's content on, or
    None. Chrome (navigation, related reading, sidebars, footers) is left out."""
    tree = LexborHTMLParser(strip_non_content(html))
    root = tree.body
    if root is None:
        return None
    for node in root.css("[id], [class]"):
        attrs = node.attributes
        if _PUB_ATTR.search(f"{attrs.get('id') or ''} {attrs.get('class') or ''}"):
            text = node_text(node)
            if find_dates(text, now=_FAR) and not _in_chrome(node):
                return text
    text = _content_text(root)
    for label in _LABEL.finditer(text):
        if _NOT_PUBLICATION.search(text, max(0, label.start() - 4), label.start() + 1):
            continue
        tail = text[label.end() : label.end() + _LABEL_REACH]
        if find_dates(tail, now=_FAR):
            return tail
    return None


def _content_text(root: LexborNode) -> str:
    """The text of `root` outside page chrome, in page order, whitespace collapsed."""
    parts: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.tag == "-text":
            parts.append(node.text_content or "")
            continue
        if node is not root and is_chrome(node):
            continue
        stack.extend(reversed(list(node.iter(include_text=True))))
    return " ".join(" ".join(parts).split())


def _in_chrome(node: LexborNode) -> bool:
    parent: LexborNode | None = node
    while parent is not None and parent.tag not in ("body", "html"):
        if is_chrome(parent):
            return True
        parent = parent.parent
    return False


def _first_date(text: str, now: dt.datetime) -> DateMatch | None:
    found = find_dates(text, now=now)
    return min(found, key=lambda m: m.start) if found else None


# Label search only asks whether a date is there; the caller's clock judges it.
_FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
