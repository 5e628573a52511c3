"""Anti-bot challenges: the page a web application firewall shows a client it has not
yet cleared, instead of the page asked for.

Many government sites sit behind such products. Their challenge answers a monitor (which
runs no JavaScript) with an HTTP 412, 521, 403 or even 200 page holding a script and no
content. That page says nothing about the site: it is neither "down" nor "stale", and the
monitor cannot see past it. The channel is unknown (`blocked`), and the owner is asked to
allow the monitor's address.

Products and the signs they leave (from their challenge pages as served to crawlers):

- 瑞数 (Botgate, River Security): HTTP 412, a `<meta ... r="m">` and `<script r='m'>`
  blocks with `$_ts.nsd` / `$_ts.cd`, cookies whose names end in S/T, an empty body. The
  same scripts stay in every page *after* the cookie step, so they count only when the
  page shows no text at all, or with status 412;
- 加速乐 (jiasule, 知道创宇): HTTP 521, a script setting `__jsl_clearance` (often spelled
  `('_')+('_')+('j')+('s')+('l')…`), stage 2 `go({"bts": …, "tn": "__jsl_clearance_s"})`;
- 创宇盾 (知道创宇): a "浏览器安全检查 … 创宇盾" check page;
- wzws (网站卫士 / 网宿): `wzwschallenge`, `wzwstemplate`, `/WZWSRE…` redirects;
- 安全狗 (SafeDog): "网站防火墙" / "您的访问被拦截" block pages naming 安全狗 or safedog;
- 云锁 (yunsuo): `yunsuo_session_verify`, `security_verify_` scripts, "云锁" block pages;
- any other: a page with almost no text that asks to enable JavaScript or to pass a
  security check (请开启JavaScript, 安全验证, 人机验证, 浏览器安全检查), or says a
  firewall stopped the request (网站防火墙, 访问被拦截).

A product's marks count only on a page without content (its title and visible text at
most `MAX_TEXT` characters) or with the product's own status code: a news page that mentions
安全狗 in an article is a page, not a challenge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from probes.pages.text import page_title, visible_text

# A challenge or block page says a sentence or two; a content page says more.
MAX_TEXT = 300
# 瑞数's scripts stay in every page served after its cookie step; its challenge itself
# shows nothing at all.
_EMPTY = 50
# Challenge pages are small (瑞数 5-30 KB, 创宇盾 50 KB): a longer body is a page, and
# only this much of a body with a challenge's status is searched.
SCAN_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Challenge:
    """An anti-bot challenge: which product (as operators name it) and the sign seen."""

    product: str
    sign: str

    @property
    def line(self) -> str:
        return (
            f"blocked: {self.product} anti-bot challenge ({self.sign}); the monitor cannot "
            "see the page: ask the site's owner to allow the monitor's address"
        )


@dataclass(frozen=True, slots=True)
class _Product:
    name: str
    marks: re.Pattern[str]
    status: frozenset[int] = frozenset()
    max_text: int = MAX_TEXT


_PRODUCTS = (
    _Product(
        "瑞数 (Botgate)",
        re.compile(r"\$_ts\s*(?:=|\.(?:nsd|cd)\b)|\br=['\"]m['\"]"),
        frozenset({412}),
        _EMPTY,
    ),
    _Product(
        "加速乐 (知道创宇)",
        re.compile(
            r"__jsl_clearance|\('_'\)\s*\+\s*\('_'\)\s*\+\s*\('j'\)\s*\+\s*\('s'\)\s*\+\s*\('l'\)"
            r"|go\(\{\s*\"bts\""
        ),
        frozenset({521}),
    ),
    _Product("创宇盾 (知道创宇)", re.compile(r"创宇盾|知道创宇|365cyd|yunaq\.com")),
    _Product("wzws", re.compile(r"wzwschallenge|wzwstemplate|wzwsconfirm|/WZWSRE", re.I)),
    _Product("安全狗 (SafeDog)", re.compile(r"安全狗|safedog", re.I)),
    _Product("云锁 (yunsuo)", re.compile(r"云锁|yunsuo_session_verify|security_verify_", re.I)),
)
_STATUSES = frozenset().union(*(p.status for p in _PRODUCTS))
_GENERIC = re.compile(
    r"(?:请|需要)?(?:开启|启用|打开|允许)(?:浏览器的?)?\s*(?:JavaScript|javascript|JS)"
    r"|enable\s+JavaScript|安全验证|人机验证|浏览器安全检查|访问验证|滑块验证|安全检测中"
    r"|网站防火墙|Web应用防火墙|访问被拦截"
)


# Bytes one of the marks above needs (in UTF-8 and GB18030): a body holding none of them
# is not decoded at all, which is almost every body.
_NEEDLES = tuple(
    {
        word.encode(codec)
        for word in ("$_ts", "r='m'", 'r="m"', "jsl", "('j')", "bts", "创宇", "365cyd", "yunaq",
                     "wzws", "WZWS", "安全狗", "safedog", "SafeDog", "云锁", "yunsuo",
                     "security_verify_", "JavaScript", "javascript", "JS", "验证", "安全检",
                     "防火墙", "拦截")
        for codec in ("utf-8", "gb18030")
    }
)  # fmt: skip
# A page with more links than this shows a site, whatever else it holds: its text is not
# measured (parsing a large home page on every probe would cost more than the probe).
_MAX_LINKS = 20


def detect(status: int, content: bytes, encoding: str) -> Challenge | None:
    """The challenge a response is, or None for a page with content of its own."""
    # Every fetched page is asked, so content pages leave at C speed: without a
    # challenge's status, a page longer than any challenge or holding many links is one.
    if status not in _STATUSES and (
        len(content) > SCAN_BYTES or content.count(b"</a") > _MAX_LINKS
    ):
        return None
    scanned = content[:SCAN_BYTES]
    if not any(needle in scanned for needle in _NEEDLES):
        return None
    head = scanned.decode(encoding, errors="replace")
    shown: list[str] = []  # the page's text, measured once and only when needed
    for product in _PRODUCTS:
        mark = product.marks.search(head)
        if mark is None:
            continue
        if status in product.status:
            return Challenge(product.name, f"HTTP {status}, {_quote(mark.group())}")
        if len(_shown(head, shown)) <= product.max_text:
            return Challenge(product.name, f"{_quote(mark.group())} on a page without content")
    if _GENERIC.search(head) is None:
        return None
    text = _shown(head, shown)
    found = _GENERIC.search(text)
    if found is not None and len(text) <= MAX_TEXT:
        return Challenge("an unnamed WAF", f"page says {found.group()!r}")
    return None


def _shown(html: str, memo: list[str]) -> str:
    """The page's title and visible text (the whole source for a page of many links:
    longer than any limit here, without parsing it)."""
    if not memo:
        if html.count("</a") > _MAX_LINKS:
            memo.append(html)
        else:
            tree = LexborHTMLParser(html)
            memo.append(f"{page_title(tree)} {visible_text(tree)}".strip())
    return memo[0]


def _quote(sign: str) -> str:
    return repr(sign if len(sign) <= 40 else sign[:39] + "…")
