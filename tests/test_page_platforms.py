"""Page shapes of the platforms government sites run on (TRS WCM, 开普云, 大汉 JCMS, Java
portals), each written in the markup the platform uses: the main list wins over menus,
JCMS datastore records are items, script-rendered lists are unknown, articles are dated by
their own publication date, and WAF challenges are told from pages."""

from __future__ import annotations

import datetime as dt

import pytest

from probes.boards.parse import parse_list
from probes.config.board import BoardSelectors
from probes.pages.article import article_date, is_article
from probes.pages.challenge import detect
from probes.pages.datastore import records
from probes.pages.dates import CN_TZ
from probes.pages.listing import extract

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=CN_TZ)
BASE = "http://www.example.gov.cn/col/col1229/index.html"


def day(when: dt.datetime | None) -> str | None:
    return when.date().isoformat() if when is not None else None


def trs_rows(n: int, year: int, prefix: str = "通知") -> str:
    return "".join(
        f'<li><a href="./{year}11/t{year}11{d:02d}_{d}.html" title="{prefix}{d}">{prefix}{d}</a>'
        f"<span>{year}-11-{d:02d}</span></li>"
        for d in range(1, n + 1)
    )


MAIN = f'<div class="main"><div class="xxgk_list"><ul>{trs_rows(8, 2024)}</ul></div></div>'


@pytest.mark.parametrize(
    "menu",
    [
        f'<div class="footer"><ul>{trs_rows(15, 2025, "单位")}</ul></div>',
        f"<footer><ul>{trs_rows(15, 2025, '单位')}</ul></footer>",
        f'<div class="box"><h3>下属单位</h3><ul>{trs_rows(15, 2025, "单位")}</ul></div>',
        f'<div class="box"><div class="tit">友情链接</div><ul>{trs_rows(15, 2025)}</ul></div>',
        f'<div id="leftnav"><ul>{trs_rows(15, 2025)}</ul></div>',
        f'<div class="sidebar"><ul>{trs_rows(15, 2025)}</ul></div>',
        f'<div class="xglj"><ul>{trs_rows(15, 2025)}</ul></div>',
        f'<div class="dw"><div class="dw-title"><a href="#">下属单位</a></div>'
        f'<div class="dw-list"><ul>{trs_rows(15, 2025, "单位")}</ul></div></div>',
        f'<div class="select-box"><ul>{trs_rows(15, 2025, "单位")}</ul></div>',
    ],
    ids=["footer-class", "footer-tag", "subordinate-units", "friendly-links", "nav", "sidebar",
         "related-links", "labelled-two-levels-up", "dropdown"],
)  # fmt: skip
def test_the_main_list_wins_over_a_longer_dated_menu(menu: str) -> None:
    listing = extract(f"<html><body>{MAIN}{menu}</body></html>", BASE, now=NOW)
    assert len(listing.items) == 8
    assert {i.title[:2] for i in listing.items} == {"通知"}
    assert max(day(i.when) or "" for i in listing.items) == "2024-11-08"


def test_a_two_column_layouts_left_side_is_not_taken_for_a_sidebar() -> None:
    html = f'<body><div class="leftSide-layer">{MAIN}</div></body>'
    assert len(extract(html, BASE, now=NOW).items) == 8


JCMS_RECORDS = "".join(
    f'<record><![CDATA[<li><a href="/art/2024/11/{d}/art_1229_{d}.html" title="公告{d}">'
    f"公告{d}</a><span>2024-11-{d:02d}</span></li>]]></record>"
    for d in (12, 9, 3)
)
JCMS_PAGE = (
    "<html><body><div class='header'>今天是2026年11月18日</div><div id='1229'>"
    "<script type='text/xml'><datastore><nextgroup><![CDATA[<a href='/module/web/jpage/"
    "dataproxy.jsp?page=1&columnid=1229&unitid=5'>]]></nextgroup><recordset>"
    f"{JCMS_RECORDS}</recordset></datastore></script></div>"
    "<div class='footer'>Copyright 2026 网站标识码 3300000001</div></body></html>"
)


def test_jcms_datastore_records_are_the_columns_items() -> None:
    listing = extract(JCMS_PAGE, BASE, now=NOW)
    assert listing.mode == "datastore"
    assert [day(i.when) for i in listing.items] == ["2024-11-12", "2024-11-09", "2024-11-03"]
    assert listing.items[0].url == "http://www.example.gov.cn/art/2024/11/12/art_1229_12.html"
    assert listing.items[0].title == "公告12"


def test_jcms_dataproxy_answer_is_read_with_its_record_count() -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>1928</totalrecord>'
        f"<totalpage>20</totalpage><recordset>{JCMS_RECORDS}</recordset></datastore>"
    )
    island = records(xml)
    assert island is not None and (island.total, island.pages) == (1928, 20)
    listing = extract(xml, BASE, now=NOW)
    assert (len(listing.items), listing.total) == (3, 1928)


@pytest.mark.parametrize(
    "html",
    [
        '<ul id="app"><li v-for="n in news"><a :href="n.url">{{n.title}}</a>'
        "<span>{{n.date}}</span></li></ul>",
        '<div id="list"></div><script id="tpl" type="text/html">{{each list}}<li><a '
        'href="/news/{{$value.id}}">{{$value.title}}</a></li>{{/each}}</script>',
        '<ul ng-app><li ng-repeat="x in items"><a href="{{x.url}}">{{x.t}}</a></li></ul>',
        '<ul class="news-list"></ul><script>$.ajax({url: "/api/list", success: draw})</script>',
    ],
    ids=["vue", "art-template", "angular", "empty-list-filled-by-ajax"],
)
def test_a_list_rendered_by_script_is_not_dated_by_a_sidebar(html: str) -> None:
    side = (
        '<div class="box"><ul><li><a href="/a/t20241101_1.html">要闻</a><span>2024-11-01'
        '</span></li><li><a href="/a/t20241102_2.html">要闻二</a><span>2024-11-02</span>'
        "</li></ul></div>"
    )
    listing = extract(f"<html><body>{html}{side}</body></html>", BASE, now=NOW)
    assert listing.items == ()
    assert listing.script is not None


ARTICLE = """<html><head><meta name="ArticleTitle" content="关于开展检查的通知">
{meta}<meta name="others" content="页面生成时间 2026-11-01 08:00:00"></head><body>
<div class="nav"><a href="/">首页</a> 当前时间：2026年11月18日</div>
<h1>关于开展检查的通知</h1><div class="info"><span>{label}</span><span>来源：办公室</span></div>
<div class="TRS_Editor"><p>各单位：现将2026年12月1日起施行的办法印发给你们。</p></div>
<div class="xgxx"><h3>相关阅读</h3><ul>
<li><a href="/art/t20261110_9.html">新的通知</a><span>2026-11-10</span></li>
<li><a href="/art/t20261112_8.html">另一通知</a><span>2026-11-12</span></li>
<li><a href="/art/t20261115_7.html">第三通知</a><span>2026-11-15</span></li></ul></div>
<script>var ttmp = "2026-11-18 09:59:59";</script></body></html>"""


@pytest.mark.parametrize(
    ("meta", "label", "url", "expected", "source"),
    [
        ('<meta name="PubDate" content="2024-03-05 10:00">', "发布日期：2024-03-05", "/a.html",
         "2024-03-05", "meta"),
        ('<meta name="firstpublishedtime" content="2024-03-05-10:20:11">', "", "/a.html",
         "2024-03-05", "meta"),
        ("", "发布时间：2024年3月5日 10:20", "/a.html", "2024-03-05", "label"),
        ("", "成文日期：2024-03-01", "/a.html", "2024-03-01", "label"),
        ('<meta name="PubDate" content="2026-11-01 08:00:00">', "发布时间：2024-03-05 09:00",
         "/a.html", "2024-03-05", "label"),
        ("", "", "/art/2024/3/5/t20240305_77.html", "2024-03-05", "url"),
    ],
    ids=["pubdate-meta", "gov-cn-meta", "visible-label", "written-date",
         "meta-is-generation-stamp", "url"],
)  # fmt: skip
def test_an_article_is_dated_by_its_own_publication_date(
    meta: str, label: str, url: str, expected: str, source: str
) -> None:
    html = ARTICLE.format(meta=meta, label=label)
    found = article_date(html, "http://www.example.gov.cn" + url, now=NOW)
    assert found is not None
    assert (found.when.date().isoformat(), found.source) == (expected, source)


def test_an_article_with_related_links_is_detected_as_an_article() -> None:
    html = ARTICLE.format(meta='<meta name="PubDate" content="2024-03-05">', label="")
    listing = extract(html, BASE, now=NOW)
    assert is_article(html, len(listing.items), len(listing.dated))
    plain = ARTICLE.format(meta="", label="发布日期：2024-03-05")
    plain_listing = extract(plain, BASE, now=NOW)
    assert is_article(plain, len(plain_listing.items), len(plain_listing.dated))


def test_a_column_page_is_not_an_article() -> None:
    stamped = '<html><head><meta name="PubDate" content="2026-11-18 09:00"></head>'
    for html in (f"<html><body>{MAIN}</body></html>", f"{stamped}<body>{MAIN}</body></html>"):
        listing = extract(html, BASE, now=NOW)
        assert not is_article(html, len(listing.items), len(listing.dated))


@pytest.mark.parametrize(
    ("status", "body", "product"),
    [
        (200, '<html><body><script>var wzwstemplate="x";wzwschallenge="y";</script></body>'
              "</html>", "wzws"),
        (403, "<html><title>网站防火墙</title><body>您的请求带有不合法参数，已被网站管理员设置"
              "拦截！ 网站防火墙 安全狗</body></html>", "安全狗"),
        (200, "<html><body><script>security_verify_data='…';document.cookie="
              "'yunsuo_session_verify=1'</script></body></html>", "云锁"),
        (200, "<html><body><p>请开启JavaScript并刷新该页</p></body></html>", "unnamed"),
        (200, "<html><title>安全验证</title><body>请完成安全验证后继续访问</body></html>",
         "unnamed"),
    ],
    ids=["wzws", "safedog", "yunsuo", "enable-javascript", "security-check"],
)  # fmt: skip
def test_challenge_products_are_named(status: int, body: str, product: str) -> None:
    found = detect(status, body.encode(), "utf-8")
    assert found is not None and product in found.product


@pytest.mark.parametrize(
    "body",
    [
        "<html><body><h1>网络安全周</h1><p>"
        + "本市推广安全狗等防护软件。" * 60
        + "</p></body></html>",
        "<html><head><meta content='x' r='m'><script r='m'>$_ts={}</script></head><body>"
        + "".join(f"<li><a href='/t{i}.html'>新闻{i}</a></li>" for i in range(30))
        + "</body></html>",
        "<html><body><noscript>请开启JavaScript</noscript>"
        + "".join(f"<p>政务公开第{i}条。</p>" for i in range(80))
        + "</body></html>",
    ],
    ids=["article-mentioning-a-waf", "page-after-the-cookie-step", "noscript-notice"],
)
def test_a_page_with_content_is_not_a_challenge(body: str) -> None:
    assert detect(200, body.encode(), "utf-8") is None


def test_board_rows_of_div_blocks_are_found_like_a_columns_list() -> None:
    # 阳光理政-style rows: div blocks of span > p cells, no tr/li/dl anywhere.
    rows = "".join(
        f'<div class="row"><span><p><a href="/msg/{i}">问题{i}</a></p></span>'
        f"<span><p>{'已回复' if i % 2 else '办理中'}</p></span>"
        f"<span><p>2024-10-{i:02d}</p></span></div>"
        for i in range(1, 7)
    )
    html = f'<html><body><div class="nav"><a href="/">首页</a></div><div>{rows}</div></body></html>'
    page = parse_list(html, "http://x/list", BoardSelectors(), now=NOW)
    assert page.rows == 6 and len(page.messages) == 6
    assert page.item_selector == "auto: div"
