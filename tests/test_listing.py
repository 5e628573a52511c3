"""Finding a column's list of dated items on real-looking pages, whatever the layout, and
never taking a date from the page's traps; RSS/Atom feeds as columns; and the property
that no input makes extraction raise or return a future date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probes.pages.dates import CN_TZ, find_dates, parse_datetime
from probes.pages.feeds import looks_like_feed, parse_feed
from probes.pages.listing import extract
from probes.pages.listing import newest as newest_item
from probes.pages.text import strip_non_content

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=CN_TZ)
BASE = "http://www.yz.gov.cn/xxgk/tzgg/"

HEADER = (
    '<div class="top">今天是2026年11月21日 星期六 <a href="/">首页</a></div>'
    '<ul class="nav"><li><a href="/a/">机构概况</a></li><li><a href="/b/">政务公开</a></li>'
    '<li><a href="/c/">办事服务</a></li></ul>'
    '<div class="hot"><ul><li><a href="/h/1.html">今日热点</a><span>2026-11-21</span></li>'
    '<li><a href="/h/2.html">今日热点二</a><span>2026-11-20</span></li></ul></div>'
)
FOOTER = (
    '<div class="footer">Copyright © 2003-2026 云泽市人民政府 版权所有 云ICP备05001234号 '
    "云公网安备 33010502000123号 网站标识码：3399000001 电话：0571-87051234</div>"
)


def page(main: str) -> str:
    return f"<html><head><title>通知公告</title></head><body>{HEADER}{main}{FOOTER}</body></html>"


def d(y: int, m: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, day, hour, minute, tzinfo=CN_TZ)


@pytest.mark.parametrize(
    ("main", "newest", "title", "count"),
    [
        pytest.param(
            '<ul class="list"><li><a href="a1.html">关于开展检查的通知</a>'
            "<span>2024-11-03</span></li>"
            '<li><a href="a2.html">第二条</a><span>2024-10-20</span></li></ul>',
            d(2024, 11, 3),
            "关于开展检查的通知",
            2,
            id="ul-span",
        ),
        pytest.param(
            "<table><tr><td><a href='b1.html'>表格一</a></td><td>2024年11月03日 10:20</td></tr>"
            "<tr><td><a href='b2.html'>表格二</a></td><td>2024年10月1日 09:00</td></tr></table>",
            d(2024, 11, 3, 10, 20),
            "表格一",
            2,
            id="table-with-time",
        ),
        pytest.param(
            '<div class="list"><div class="item"><div class="t"><a href="c1.html">条目一</a></div>'
            '<div class="i">发布日期：2024.11.03 来源：办公室</div></div>'
            '<div class="item"><div class="t"><a href="c2.html">条目二</a></div>'
            '<div class="i">发布日期：2024.09.30 来源：办公室</div></div></div>',
            d(2024, 11, 3),
            "条目一",
            2,
            id="div-items-dots",
        ),
        pytest.param(
            '<ul><li><span>[11-03]</span><a href="./202411/t20241103_1.html">月日一</a></li>'
            '<li><span>[10-28]</span><a href="./202410/t20241028_2.html">月日二</a></li></ul>',
            d(2024, 11, 3),
            "月日一",
            2,
            id="month-day-year-from-url",
        ),
        pytest.param(
            '<ul><li><span>[11-03]</span><a href="d1.html">月日无链接年</a></li>'
            '<li><span>[12-25]</span><a href="d2.html">去年十二月</a></li></ul>',
            d(2026, 11, 3),
            "月日无链接年",
            2,
            id="month-day-inferred",
        ),
        pytest.param(
            '<ul><li><a href="./202411/t20241103_123456.html">只有链接日期</a></li>'
            '<li><a href="./202410/t20241001_2.html">只有链接日期二</a></li></ul>',
            d(2024, 11, 3),
            "只有链接日期",
            2,
            id="url-only",
        ),
        pytest.param(
            '<ul><li><a href="e1.html"><em>链接内日期</em><i>２０２４－１１－０３</i></a></li>'
            '<li><a href="e2.html"><em>链接内日期二</em><i>２０２４－１０－０３</i></a></li></ul>',
            d(2024, 11, 3),
            "链接内日期",
            2,
            id="fullwidth-in-anchor",
        ),
        pytest.param(
            '<ul><li><a href="f1.html">公报一</a><span>二〇二四年十一月三日</span></li>'
            '<li><a href="f2.html">公报二</a><span>二〇二四年九月三十日</span></li></ul>',
            d(2024, 11, 3),
            "公报一",
            2,
            id="chinese-numerals",
        ),
        pytest.param(
            '<ul><li><a href="g1.html" title="关于2099年1月1日起施行的通知（全文）">'
            "关于2099年1月1日起施行…</a><span>2024/11/03</span></li>"
            '<li><a href="g2.html">关于2023年度总结的通知</a><span>2024/10/03</span></li></ul>',
            d(2024, 11, 3),
            "关于2099年1月1日起施行的通知（全文）",
            2,
            id="dates-in-titles",
        ),
        pytest.param(
            '<ul><li><a href="h1.html">未来条目</a><span>2027-01-01</span></li>'
            '<li><a href="h2.html">真实条目</a><span>2024-11-03</span></li>'
            '<li><a href="h3.html">旧条目</a><span>2024-10-03</span></li></ul>',
            d(2024, 11, 3),
            "真实条目",
            2,
            id="future-item-ignored",
        ),
    ],
)
def test_auto_mode_finds_the_list_and_its_newest_item(
    main: str, newest: dt.datetime, title: str, count: int
) -> None:
    listing = extract(page(main), BASE, now=NOW)

    found = newest_item(listing.dated)
    assert found is not None
    assert (found.when, found.title) == (newest, title)
    assert len(listing.dated) == count


def test_list_items_link_to_absolute_urls() -> None:
    main = '<ul><li><a href="./202411/t20241103_1.html">一</a><span>2024-11-03</span></li></ul>'
    listing = extract(page(main), BASE, now=NOW)
    found = newest_item(listing.dated)
    assert found is not None
    assert found.url == BASE + "202411/t20241103_1.html"


def test_items_opened_by_script_beat_a_shorter_dated_sidebar_and_keep_their_links() -> None:
    sidebar = "".join(
        f'<li><a href="/tz/{n}.html">通知{n}</a><span>2024-10-0{n}</span></li>' for n in (1, 2)
    )
    opener = "window.open('art/2024/11/{n}/art_{n}.html')"
    items = "".join(
        f'<li><a href="javascript:void(0);" onclick="{opener.format(n=n)}">第{n}号公告</a>'
        f"<span>2024-11-0{n}</span></li>"
        for n in (3, 4, 5)
    )
    html = page(f'<ul class="side">{sidebar}</ul><ul class="list">{items}</ul>')
    listing = extract(html, BASE, now=NOW)
    assert [(i.title, i.url) for i in listing.items] == [
        (f"第{n}号公告", f"{BASE}art/2024/11/{n}/art_{n}.html") for n in (3, 4, 5)
    ]


@pytest.mark.parametrize("phrase", ["暂无信息", "暂无数据", "内容正在建设中"])
def test_blank_column_has_no_items_and_shows_its_placeholder(phrase: str) -> None:
    listing = extract(page(f'<div class="list"><p>{phrase}</p></div>'), BASE, now=NOW)
    # The header widget and the "hot" sidebar are dated, yet not the column's list.
    assert listing.dated == ()
    assert listing.placeholder == phrase


def test_page_with_only_traps_has_no_dated_items() -> None:
    listing = extract(page('<ul><li><a href="x.html">办事指南</a></li></ul>'), BASE, now=NOW)
    assert listing.dated == ()
    assert listing.placeholder is None


def test_selectors_scope_items_date_and_title() -> None:
    main = (
        '<div class="odd"><p class="row"><b>标题甲</b><a href="p1.html">详情</a>'
        '<em class="when">2024-11-03</em><em>2026-11-01 (修改)</em></p>'
        '<p class="row"><b>标题乙</b><a href="p2.html">详情</a><em class="when">2024-10-01</em>'
        "</p></div>"
    )
    listing = extract(
        page(main), BASE, now=NOW,
        item_selector="p.row", date_selector="em.when", title_selector="b",
    )  # fmt: skip
    assert [(i.title, i.when) for i in listing.items] == [
        ("标题甲", d(2024, 11, 3)),
        ("标题乙", d(2024, 10, 1)),
    ]
    assert listing.mode == "selector"


RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>RSS one</title><link>http://a.gov.cn/1.html</link>
<pubDate>Sun, 03 Nov 2024 10:20:00 +0800</pubDate></item>
<item><title>RSS future</title><link>http://a.gov.cn/2.html</link>
<pubDate>Fri, 01 Jan 2027 10:20:00 +0800</pubDate></item>
<item><title>RSS cn</title><link>/3.html</link><pubDate>2024年10月01日</pubDate></item>
</channel></rss>""".encode()
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><entry><title>Atom one</title><link href="http://a.gov.cn/a.html"/>
<updated>2024-11-03T02:20:00Z</updated></entry></feed>"""


@pytest.mark.parametrize(
    ("body", "newest", "title", "count"),
    [
        (RSS, d(2024, 11, 3, 10, 20), "RSS one", 2),
        (ATOM, d(2024, 11, 3, 10, 20), "Atom one", 1),
    ],
)
def test_feeds_are_columns(body: bytes, newest: dt.datetime, title: str, count: int) -> None:
    assert looks_like_feed("text/xml", body)
    listing = parse_feed(body, BASE, now=NOW)
    assert listing is not None
    found = newest_item(listing.dated)
    assert found is not None
    assert (found.when, found.title, len(listing.dated)) == (newest, title, count)


def test_broken_feed_is_not_an_empty_column() -> None:
    assert parse_feed(b"<rss><channel><item>", BASE, now=NOW) is None


def test_html_is_not_taken_for_a_feed() -> None:
    assert not looks_like_feed("text/html", b"<!DOCTYPE html><html><body>rss</body></html>")


SAFE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_NOW_S = st.datetimes(min_value=dt.datetime(1995, 1, 1), max_value=dt.datetime(2040, 1, 1)).map(
    lambda t: t.replace(tzinfo=CN_TZ)
)
_DATEY = st.text(
    alphabet="0123456789０１２３４５６７８９-/.年月日: 〇一二三四五六七八九十[]T+Z", max_size=60
)
_HTML = st.lists(
    st.sampled_from(["<ul>", "<li>", "</li>", "</ul>", "<a href='/t20301103_1.html'>", "</a>",
                     "<span>", "</span>", "<table><tr><td>", "今天是", "星期六", "暂无信息",
                     "<div class='side'>", "</div>", "[12-31]", "2039-12-31 23:59", "<script>"])
    | _DATEY,
    max_size=40,
).map("".join)  # fmt: skip


@SAFE
@given(text=_DATEY | st.text(max_size=80), now=_NOW_S)
def test_dates_are_never_in_the_future_and_never_raise(text: str, now: dt.datetime) -> None:
    for found in find_dates(text, now=now):
        assert found.when <= now
        assert found.when.utcoffset() == dt.timedelta(hours=8)
    parsed = parse_datetime(text, now=now)
    assert parsed is None or parsed <= now


@SAFE
@given(html=_HTML, now=_NOW_S)
def test_extraction_from_any_html_never_raises_nor_returns_a_future_item(
    html: str, now: dt.datetime
) -> None:
    listing = extract(html, BASE, now=now)
    assert all(i.when is None or i.when <= now for i in listing.items)


@SAFE
@given(body=st.binary(max_size=2000), now=_NOW_S)
def test_extraction_from_arbitrary_bytes_never_raises(body: bytes, now: dt.datetime) -> None:
    listing = extract(body.decode("gb18030", errors="replace"), BASE, now=now)
    assert all(i.when is None or i.when <= now for i in listing.items)
    feed = parse_feed(body, BASE, now=now)
    assert feed is None or all(i.when is None or i.when <= now for i in feed.items)


@pytest.mark.parametrize(
    ("html", "kept"),
    [
        ("<p>a</p><script>var x='暂无数据';</script><p>b</p>", "<p>a</p> <p>b</p>"),
        ("<p>a</p><SCRIPT type='x'>1</Script ><p>b</p>", "<p>a</p> <p>b</p>"),
        ("<style>.a{}</style><!-- 2026-11-21 --><p>b</p>", "  <p>b</p>"),
        ("<noscript>请启用脚本</noscript><template><li>{{t}}</li></template>x", "  x"),
        ("<p>a</p><script>never closed <p>b</p>", "<p>a</p><script>never closed <p>b</p>"),
        ("<!-- open <p>a</p>", "<!-- open <p>a</p>"),
        ("<scripts>x</scripts><styled>y</styled>", "<scripts>x</scripts><styled>y</styled>"),
        # script text ends at the first closer, whatever openers it holds
        ("<script>a</script><script>b" * 3, "   <script>b"),
    ],
)
def test_scripts_styles_and_comments_are_cut_before_parsing(html: str, kept: str) -> None:
    assert strip_non_content(html) == kept
