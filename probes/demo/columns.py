"""Columns section of the simulated portal: bureau websites whose columns (栏目) are fresh,
stale, blank, fake-fresh or unreadable, under `/columns/`.

Every list page sets the traps of real government pages: a "今天是…星期X" widget in the
header, a sidebar of today's headlines, a footer with copyright years, ICP/公网安备 and
网站标识码 numbers and phone numbers, titles that name other dates (one in the future).
The columns use every date format the freshness check reads (ISO, slashes, dots, 年月日
with and without time, `[11-03]`, full-width digits, Chinese numerals, URL-only dates, an
RSS feed) and both UTF-8 and GBK. `TRUTH` is each channel's verdict after one round;
`column_truth(now)` is what extraction must find in each column, exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from probes.demo.truth import Truth
from probes.model import State
from probes.pages.dates import CN_TZ

CITY = "云泽市"
_CN = "〇一二三四五六七八九"
HUGE_BYTES = 20 * 1024 * 1024

TRUTH: dict[str, Truth] = {
    "demo-columns-fresh": Truth(State.OK, note="six fresh columns in every date format"),
    "demo-columns-stale": Truth(
        State.ZOMBIE, frozenset({"content_stale", "homepage_stale"}),
        note="five stale columns and a home page 20 days old",
    ),
    "demo-columns-blank": Truth(
        State.DEGRADED,
        frozenset({"column_blank"}),
        note="four blank columns (暂无信息…, an empty list)",
    ),
    "demo-columns-fake": Truth(
        State.DEGRADED, frozenset({"fake_freshness"}),
        note="list dates are re-stamped on every request while the items stay the same",
    ),
    "demo-columns-unreadable": Truth(
        State.UNKNOWN, frozenset({"column_undated"}),
        note="no dates, a 20 MB page and binary junk: nothing can be judged",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ColumnTruth:
    """What the freshness check must find in one column.

    status: fresh, stale, blank or unknown. newest: the newest item's time (epoch s), None
    when the column has none; title: its title; items: the dated items in the list.
    """

    status: str
    newest: float | None = None
    title: str = ""
    items: int = 0
    fake: bool = False


@dataclass(frozen=True, slots=True)
class _Col:
    site: str
    id: str
    layout: str  # ul, table, div, bracket, anchor, urlonly, feed
    fmt: str  # a strftime format, or "fullwidth" / "chinese"
    ages: tuple[float, ...]  # days ago of each item, page order
    status: str
    charset: str = "utf-8"
    future_title: bool = False


# site, column id, layout, date format, item ages (days), expected status.
_COLUMNS: tuple[_Col, ...] = (
    _Col("fresh", "news", "ul", "%Y-%m-%d", (2, 5, 9, 12, 30), "fresh", future_title=True),
    _Col("fresh", "notices", "table", "%Y年%m月%d日 %H:%M", (20.25, 41, 60, 95), "fresh"),
    _Col("fresh", "policy", "bracket", "[%m-%d]", (40, 70, 130, 300), "fresh", "gbk"),
    _Col("fresh", "home", "anchor", "fullwidth", (1, 2, 4, 6), "fresh"),
    _Col("fresh", "feed", "feed", "rss", (3, 8, 15), "fresh"),
    _Col("fresh", "gazette", "div", "chinese", (100, 160, 250), "fresh"),
    _Col("stale", "news", "ul", "%Y/%m/%d", (45, 60, 90, 120), "stale"),
    _Col("stale", "notices", "table", "%Y.%m.%d", (200, 260, 400), "stale", "gbk"),
    _Col("stale", "policy", "urlonly", "", (220, 300, 500), "stale"),
    _Col("stale", "work", "div", "%Y年%-m月%-d日", (35, 50, 77), "stale", future_title=True),
    _Col("stale", "people", "anchor", "%Y-%m-%d %H:%M:%S", (16.5, 30, 44), "stale"),
    _Col("stale", "home", "ul", "%Y-%m-%d", (20, 25, 33), "stale"),
    _Col("blank", "news", "ul", "%Y-%m-%d", (1, 3, 7), "fresh"),
    _Col("blank", "notices", "blank", "暂无信息", (), "blank"),
    _Col("blank", "policy", "blank", "暂无数据", (), "blank", "gbk"),
    _Col("blank", "service", "blank", "内容正在建设中，敬请期待", (), "blank"),
    _Col("blank", "guide", "emptylist", "", (), "blank"),
    _Col("fake", "news", "ul", "%Y-%m-%d", (1, 4, 6), "fresh"),
    _Col("fake", "notices", "fake", "%Y-%m-%d", (400, 420, 450, 480), "stale"),
    _Col("fake", "bulletin", "fakeplain", "%Y-%m-%d %H:%M", (1 / 1440, 8 / 1440), "fresh"),
    _Col("unreadable", "undated", "undated", "", (), "unknown"),
    _Col("unreadable", "huge", "huge", "", (), "unknown"),
    _Col("unreadable", "junk", "junk", "", (), "unknown"),
)


def column_truth(now: float) -> dict[tuple[str, str], ColumnTruth]:
    """(channel, column id) -> what the freshness check must find there at `now`."""
    out: dict[tuple[str, str], ColumnTruth] = {}
    for col in _COLUMNS:
        channel = f"demo-columns-{col.site}"
        if not col.ages:
            out[(channel, col.id)] = ColumnTruth(col.status)
            continue
        i = min(range(len(col.ages)), key=lambda k: col.ages[k])
        when = _when(now, col, col.ages[i])
        out[(channel, col.id)] = ColumnTruth(
            col.status, when.timestamp(), _title(col, i), len(col.ages), col.layout == "fake"
        )
    return out


def _when(now: float, col: _Col, age: float) -> datetime:
    """The item's time as the page states it (day precision unless the format has time)."""
    exact = datetime.fromtimestamp(now, CN_TZ) - timedelta(days=age)
    if "%H" in col.fmt:
        return exact.replace(second=exact.second if "%S" in col.fmt else 0, microsecond=0)
    return exact.replace(hour=0, minute=0, second=0, microsecond=0)


def _title(col: _Col, i: int) -> str:
    if col.future_title and i == 0:
        # A date in the title is not the item's date, and a future one is not either.
        return f"关于{CITY}2099年12月31日起实施新规的通知"
    return f"{CITY}{col.id}栏目第{i + 1}条：关于做好冬季安全生产工作的通知"


def _fmt(col: _Col, when: datetime) -> str:
    if col.fmt == "fullwidth":
        return when.strftime("%Y-%m-%d").translate(
            str.maketrans("0123456789-", "０１２３４５６７８９－")
        )
    if col.fmt == "chinese":
        year = "".join(_CN[int(c)] for c in str(when.year))
        return f"{year}年{_cn_number(when.month)}月{_cn_number(when.day)}日"
    return when.strftime(col.fmt.replace("%-m", str(when.month)).replace("%-d", str(when.day)))


def _cn_number(n: int) -> str:
    tens, units = divmod(n, 10)
    return (("" if tens == 1 else _CN[tens]) + "十" if tens else "") + (_CN[units] if units else "")


def _href(col: _Col, i: int, when: datetime) -> str:
    return f"/columns/{col.site}/{col.id}/{when:%Y%m}/t{when:%Y%m%d}_{1000 + i}.html"


def _list(col: _Col, now: float, stamp: int) -> str:
    rows = []
    for i, age in enumerate(col.ages):
        when = _when(now, col, age)
        href, title = _href(col, i, when), _title(col, i)
        if col.layout in ("fake", "fakeplain"):
            # Re-stamped on every request: minutes before now, moving with each request;
            # "fake" links carry the real (old) dates, "fakeplain" links carry none.
            shown = datetime.fromtimestamp(now, CN_TZ) - timedelta(minutes=stamp + 7 * i)
            if col.layout == "fakeplain":
                href = f"/columns/{col.site}/{col.id}/content_{1000 + i}.html"
            rows.append(f'<li><a href="{href}">{title}</a><span>{shown:%Y-%m-%d %H:%M}</span></li>')
            continue
        date = _fmt(col, when)
        rows.append({
            "ul": f'<li><a href="{href}" title="{title}">{title}</a>'
                  f'<span class="date">{date}</span></li>',
            "table": f'<tr><td class="t"><a href="{href}">{title}</a></td><td>{date}</td></tr>',
            "div": f'<div class="item"><div class="tit"><a href="{href}">{title}</a></div>'
                   f'<div class="info">发布日期：{date}　来源：{CITY}人民政府办公室</div></div>',
            "bracket": f'<li><span class="d">{date}</span> <a href="{href}">{title}</a></li>',
            "anchor": f'<li><a href="{href}"><em>{title}</em><i>{date}</i></a></li>',
            "urlonly": f'<li><a href="{href}">{title}</a></li>',
        }[col.layout])  # fmt: skip
    if col.layout == "table":
        return f'<table class="list"><tbody>{"".join(rows)}</tbody></table>'
    if col.layout == "div":
        return f'<div class="list">{"".join(rows)}</div>'
    return f'<ul class="list">{"".join(rows)}</ul>'


def _page(col: _Col, now: float, main: str) -> str:
    today = datetime.fromtimestamp(now, CN_TZ)
    weekday = "一二三四五六日"[today.weekday()]
    side = "".join(
        f'<li><a href="/columns/{col.site}/hot/{k}.html">今日要闻{k}</a>'
        f"<span>{today:%Y-%m-%d}</span></li>"
        for k in (1, 2)
    )
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="{col.charset}">'
        f"<title>{col.id} - {CITY}人民政府</title><script>var today='{today:%Y-%m-%d}';"
        "</script></head><body>"
        f'<div class="top">今天是{today:%Y年%m月%d日} 星期{weekday}　'
        f'<a href="/columns/{col.site}/">首页</a></div>'
        '<ul class="nav"><li><a href="/a/">机构概况</a></li><li><a href="/b/">政务公开</a>'
        '</li><li><a href="/c/">办事服务</a></li><li><a href="/d/">互动交流</a></li></ul>'
        f'<div class="side"><h3>热点</h3><ul>{side}</ul></div>'
        f'<div class="main"><h2>{col.id}</h2>{main}'
        '<div class="page">共1页 <a href="?page=1">首页</a> <a href="?page=2">下一页</a></div>'
        "</div>"
        f'<div class="footer">Copyright © 2003-{today.year} {CITY}人民政府 版权所有　'
        "云ICP备05001234号　云公网安备 33010502000123号　网站标识码：3399000001　"
        "电话：0571-87051234　传真：0571-2024-1103</div></body></html>"
    )


def _feed(col: _Col, now: float) -> str:
    entries = "".join(
        f"<item><title>{_title(col, i)}</title>"
        f"<link>http://demo.invalid{_href(col, i, _when(now, col, age))}</link>"
        f"<pubDate>{_when(now, col, age):%a, %d %b %Y %H:%M:%S +0800}</pubDate></item>"
        for i, age in enumerate(col.ages)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{CITY}新闻</title><link>http://demo.invalid/</link>{entries}</channel></rss>"
    )


def _handler(col: _Col, now: float) -> Callable[[Request], Response]:
    counter = [0]

    def serve(request: Request) -> Response:
        counter[0] += 1
        if col.layout == "feed":
            return Response(_feed(col, now), media_type="application/rss+xml")
        if col.layout == "junk":
            junk = bytes((i * 131 + 7) % 256 for i in range(64 * 1024))
            return Response(junk, media_type="application/octet-stream")
        if col.layout == "huge":
            row = "<li><a href='/x.html'>无日期的条目</a></li>" * 64
            body = (
                "<html><body><ul>" + row * (HUGE_BYTES // len(row.encode())) + "</ul></body></html>"
            )
            return HTMLResponse(body)
        if col.layout == "blank":
            main = f'<div class="list"><p class="empty">{col.fmt}</p></div>'
        elif col.layout == "emptylist":
            # The column template's list, with no rows and no placeholder text.
            main = '<ul class="list"></ul>'
        elif col.layout == "undated":
            main = (
                "<ul>"
                + "".join(
                    f'<li><a href="/columns/x/{k}.html">办事指南第{k}项</a></li>' for k in range(8)
                )
                + "</ul>"
            )
        else:
            main = _list(col, now, counter[0])
        page = _page(col, now, main)
        if col.charset == "gbk":
            # Labelled only in the page's <meta>, as many GBK sites are.
            return Response(
                page.encode("gbk", "xmlcharrefreplace"), headers={"content-type": "text/html"}
            )
        return HTMLResponse(page)

    return serve


def routes(now: float) -> list[BaseRoute]:
    """The column pages, dated relative to `now` (the portal's today)."""
    out: list[BaseRoute] = []
    for col in _COLUMNS:
        handler = _handler(col, now)
        handler.__doc__ = f"{col.site} 站 {col.id} 栏目"
        out.append(Route(f"/columns/{col.site}/{col.id}/", handler, name=f"{col.site}-{col.id}"))
    return out
