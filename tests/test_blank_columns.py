"""Blank columns without a placeholder: a column page whose list is shown empty is blank,
while a page whose layout cannot be read (no list, a list filled by script, only chrome
lists empty, undated items) stays unknown - a false blank is as bad as a false stale."""

from __future__ import annotations

import datetime as dt

import pytest

from probes.pages.dates import CN_TZ
from probes.pages.emptylist import container_selector
from probes.pages.listing import extract

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=CN_TZ)
BASE = "http://www.yz.gov.cn/xxgk/tzgg/"


def page(main: str) -> str:
    """A column page around `main`: the date widget, a menu, a dated "hot" sidebar and
    the footer's copyright, ICP and phone numbers, as on real government pages."""
    return (
        "<html><head><title>通知公告</title></head><body>"
        '<div class="top">今天是2026年11月21日 星期六 <a href="/">首页</a></div>'
        '<ul class="nav"><li><a href="/a/">机构概况</a></li><li><a href="/b/">政务公开</a></li>'
        "</ul>"
        '<div class="hot"><ul><li><a href="/h/1.html">今日热点</a><span>2026-11-21</span></li>'
        '<li><a href="/h/2.html">今日热点二</a><span>2026-11-20</span></li></ul></div>'
        f"{main}"
        '<div class="footer">Copyright © 2003-2026 云泽市人民政府 版权所有 云ICP备05001234号 '
        "电话：0571-87051234</div></body></html>"
    )


BLANK_AUTO = [
    ('<div class="main"><ul class="news-list"></ul></div>', "ul.news-list"),
    ('<div class="main"><ul class="list"> <li></li> </ul></div>', "ul.list"),
    ('<table class="lb"><tr><th>标题</th><th>发布日期</th></tr></table>', "table.lb"),
    ('<div id="infoList">\n</div>', "div#infoList"),
]


@pytest.mark.parametrize(("main", "where"), BLANK_AUTO)
def test_auto_mode_empty_column_list_is_blank(main: str, where: str) -> None:
    listing = extract(page(main), BASE, now=NOW)
    assert listing.items == ()
    assert listing.placeholder is None
    assert listing.empty == where


UNKNOWN_AUTO = {
    "no list element at all": '<div class="main"><p>欢迎访问</p></div>',
    "list filled by ajax": (
        '<ul class="news-list"></ul><script>$.ajax({url: "/api/list", success: draw});</script>'
    ),
    "list filled by fetch": '<div id="infoList"></div><script>fetch("/api/l").then(r)</script>',
    "client-side template": '<ul class="list"><li v-for="i in rows">{{ i.title }}</li></ul>',
    "loading message": '<ul class="list"><li>加载中...</li></ul>',
    "only chrome lists are empty": (
        '<div class="footer"><ul class="link-list"></ul></div><ul class="nav-list"></ul>'
    ),
    "list with undated items": '<ul class="list"><li><a href="x.html">办事指南</a></li></ul>',
    "list with numbered rows": '<table class="list"><tr><td>1</td><td>无链接</td></tr></table>',
}


@pytest.mark.parametrize("main", UNKNOWN_AUTO.values(), ids=UNKNOWN_AUTO.keys())
def test_auto_mode_unreadable_layout_is_not_blank(main: str) -> None:
    listing = extract(page(main), BASE, now=NOW)
    assert listing.dated == ()
    assert listing.empty is None


def test_ajax_word_in_article_text_does_not_hide_an_empty_list() -> None:
    main = '<p class="intro">本站不使用ajax技术</p><ul class="news-list"></ul>'
    assert extract(page(main), BASE, now=NOW).empty == "ul.news-list"


SELECTOR_CASES = [
    ('<ul class="list"></ul>', "ul.list > li", "ul.list"),
    ('<div id="content"><table class="lb"></table></div>', "#content table.lb tr",
     "#content table.lb"),
    ('<div id="content"><table class="lb"><tbody></tbody></table></div>', "#content tbody tr",
     "#content tbody"),
    ('<div class="main"></div>', "ul.list > li", None),  # the container is gone: layout changed
    ('<ul class="list"></ul>', "li.item", None),  # no container step: proves nothing
    ('<h2>通知</h2><ul class="list"></ul>', "h2 + ul li", "h2 + ul"),
]  # fmt: skip


@pytest.mark.parametrize(("main", "selector", "empty"), SELECTOR_CASES)
def test_configured_selector_with_empty_container_is_blank(
    main: str, selector: str, empty: str | None
) -> None:
    listing = extract(page(main), BASE, now=NOW, item_selector=selector)
    assert listing.items == ()
    assert listing.empty == empty


def test_configured_selector_list_filled_by_script_is_not_blank() -> None:
    main = '<ul class="list"></ul><script>$.get("/api/list", draw)</script>'
    assert extract(page(main), BASE, now=NOW, item_selector="ul.list > li").empty is None


def test_column_with_items_is_never_marked_empty() -> None:
    main = (
        '<ul class="list"><li><a href="/t20241103_1.html">一</a><span>2024-11-03</span></li></ul>'
    )
    listing = extract(page(main), BASE, now=NOW, item_selector="ul.list > li")
    assert len(listing.dated) == 1
    assert listing.empty is None


@pytest.mark.parametrize(
    ("selector", "container"),
    [
        ("ul.list > li", "ul.list"),
        ("ul.list>li", "ul.list"),
        ("div.main ul li", "div.main ul"),
        ('ul[title="a b"] > li', 'ul[title="a b"]'),
        ("div:not(.a .b) li", "div:not(.a .b)"),
        ("ul.a > li, ol.b > li", "ul.a, ol.b"),
        ("ul.a > li, li.b", None),
        ("h2 + ul", None),
        ("h2 ~ ul", None),
        ("li.item", None),
    ],
)
def test_item_selector_container(selector: str, container: str | None) -> None:
    assert container_selector(selector) == container
