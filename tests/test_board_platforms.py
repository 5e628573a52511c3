"""Real board platforms (../shared/realdata/board/PLATFORMS.md): each platform's list
markup read with auto-detection and with the row selector its crawler documents, statuses
counted as the platform means them.

Fixtures: `tests/data/boards/*.html` are the documented markup filled with real message
titles and times (each file's first line says what it is: none is a saved page). 大连 and
佳木斯 are rendered here from their real GBK record files, every record, in the markup
their crawler documents (`render_dalian`, `render_jiamusi`).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from probes.boards.parse import parse_detail, parse_list
from probes.boards.summary import interim_rule
from probes.clock import FrozenClock
from probes.config import parse_config
from probes.config.board import BoardSelectors, BoardSpec, DetailPage
from probes.demo.portal import serve_app
from probes.http.client import open_fetcher
from probes.kinds.pagework import open_page_workers
from probes.model import ParsedMessage, State
from probes.pages.dates import CN_TZ
from probes.runtime.runner import Runtime, run_channel
from probes.state import board as tracked
from probes.state.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "boards"
REAL = ROOT.parent / "shared" / "realdata" / "board"
NOW = dt.datetime(2019, 6, 1, tzinfo=CN_TZ)
AUTO = BoardSelectors()


def day(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CN_TZ).timestamp()


# (title, posted, answered, replied) as each fixture shows them.
Row = tuple[str, str, bool | None, str | None]
EXPECTED: dict[str, list[Row]] = {
    "renmin_rendered.html": [
        # 已办理 right before a title starting with 中: answered, not 办理中
        ("中A2区景蓉华苑物业管理有问题", "2019-04-25 09:32", True, None),
        ("A3区潇楚南路洋湖段怎么还没修好？", "2019-04-24 16:03", False, None),
        ("请加快提高A市民营幼儿园老师的待遇", "2019-04-24 15:40", False, None),  # 已受理
        ("在A市买公寓能享受人才新政购房补贴吗？", "2019-04-24 15:07", False, None),
    ],
    "hebei_yglz.html": [  # titles cut in the link text, full in its title attribute
        ("关于A市公交站点名称变更的建议", "2019-04-23", True, "2019-05-09"),
        ("A3区含浦镇马路卫生很差", "2019-04-08", False, None),
        ("A3区教师村小区盼望早日安装电梯", "2019-03-29", True, "2019-05-09"),
        ("反映A5区东澜湾社区居民的集体民生诉求", "2018-12-31", False, None),
    ],
    "sun0769.html": [
        ("反映A市美麓阳光住宅楼无故停工以及质量问题", "2018-12-31 09:55:00", True, None),
        ("反映A市洋湖新城和顺路洋湖壹号小区路段公共绿化带的问题", "2018-12-31 09:45:59", False,
         None),
        ("反映A2区大托街道大托新村违建问题", "2018-12-30 22:30:30", False, None),
        ("A5区鄱阳村D区安置房人防工程的咨询", "2018-12-29 23:27:51", True, None),
    ],
    "tianjin_zmljl.html": [
        ("A4区万国城小区段请求修建一座人行天桥或者地下通道", "2018-12-29", True, "2019-01-14"),
        ("举报A市芒果金融平台涉嫌诈骗", "2018-12-28", False, None),
        ("建议增开A市261路公交车", "2018-12-28", False, None),
    ],
    "shaoguan_wlwz.html": [  # links only in onclick="window.open(…)"
        ("关于A市新开铺路与披塘路交叉路口通行安全问题的建议", "2018-12-27 15:18", True, None),
        ("投诉A3区桐梓坡路益丰大药房以次充好", "2018-12-27 01:55", False, None),
        ("建议在A市梅溪湖开办一个图书馆", "2018-12-26 16:51", True, None),
    ],
    "huizhou_wlwz.html": [
        ("希望相关部门治理A3区中海国际社区一期旁边工地的噪音问题", "2018-12-25", True, None),
        ("希望A市社保卡、医保卡、居民健康卡尽快合一", "2018-12-25", False, None),
        ("希望A市潇楚一卡通尽快支持手机nfc虚拟公交卡", "2018-12-25", False, None),  # 已转办
    ],
    "xianning_appeal.html": [  # one link wraps all seven cells of a row
        ("反映A9市北盛镇对泉水村塘下组土地征收存在的违规行为", "2018-12-25", True, None),
        ("呼吁A5区交警大队纠正电子交通警察的错误执法", "2018-12-25", False, None),
        ("关于A市地铁轨道8号线北段在楚江北路上设江湾路口站的建议", "2018-12-23", False, None),
    ],
    "yinchuan_12345.html": [  # no status column: the 办结时间 cell tells
        ("反映A3区靳江洋湖集体资产的有关问题", "2018-12-15 15:17:53", True,
         "2019-01-04 15:44:31"),
        ("质疑A市佳兆业云顶小区筹建的干洗店", "2018-12-14 14:29:25", False, None),
    ],
    "wuzhou_letter.html": [  # no status in the list; ids only in onclick="showInquiry('…')"
        ("投诉A市福桥驾校退学后不退学费", "2017-10-16 23:15:00", None, None),
        ("关于要求关闭A8县青山桥镇A1区村（河流塞坝）非法采砂场的请求", "2017-10-15 21:53:30", None,
         None),
        ("A市地铁4号线罐子岭站出入口咨询", "2017-10-12 11:00:05", None, None),
        ("反映A市个人的社会保险转移接续问题", "2017-10-11 13:00:45", None, None),
    ],
    "chengdu_12345.html": [  # no status in the list: its message pages tell
        ("关于A市购房新政实施问题的反映", "2017-09-25 12:06", None, None),
        ("希望A4区抓紧规划建设金泰路捞刀河大桥（隧道）", "2017-09-19 15:40", None, None),
        ("希望领导能安排在A7县泉塘片区增设地铁站", "2017-09-18 22:12", None, None),
        ("建议延长A市图书馆开放时间", "2017-09-18 11:22", None, None),
    ],
    "laiwu_mail.xml": [  # a 大汉 record-range answer: rows inside CDATA records
        ("强烈呼吁保留A市一中新华都学校公交站点", "2017-09-07 11:05:24", True, None),
        ("请求A市社会保障局依法为我办理退休手续", "2017-09-04 22:01:31", False, None),
        ("举报A6区仁爱医院无法无天", "2017-09-03 11:05:28", True, None),
        ("举报A市A4区政府及A1区北路街道办事处渎职", "2017-09-02 07:58:32", False, None),
    ],
}  # fmt: skip

# Lists whose rows show no posting time, only a reply-time column (a time there is the
# answer, an empty cell none): (title, answered, replied); their own pages date them.
UNDATED: dict[str, list[tuple[str, bool, str | None]]] = {
    "changsha_wlwz.html": [
        ("投诉A5区黎郡新宇和太园物业强行对该小区配套幼儿园拉闸停电", True, "2017-12-29 14:28:51"),
        ("请求恢复A5区樱园小区北大门消防主通道", True, "2017-12-27 16:41:38"),
        ("关于A市防癌筛查普及问题的建议", True, "2017-12-21 08:57:24"),
        ("举报A市观沙岭街道土城社区霸占谷山庭院三期架空层的违法行为", False, None),
    ],
    "suzhou_12345.html": [
        ("咨询A市驾驶员从业资格证相关问题", True, "2017-12-22 09:23:47"),
        ("咨询外省参保怎样转回A市？", True, "2017-11-28 09:24:10"),
        ("请求政府解决彻查A市咸嘉村拆迁历史遗留问题", True, "2017-11-28 09:21:46"),
        ("A市128公交车次太少，希望能增加车次", True, "2017-11-28 09:17:12"),
    ],
}  # fmt: skip

# The row selector each platform's crawler documents (PLATFORMS.md).
DOCUMENTED_ROWS = {
    "renmin_rendered.html": "div.listItem",
    "hebei_yglz.html": "#divList > div.listcon",
    "sun0769.html": "div.greyframe > table:nth-of-type(2) table tr",
    "tianjin_zmljl.html": "table[align] tr",
    "shaoguan_wlwz.html": "table.logintable tr",
    "huizhou_wlwz.html": "td[valign=top] > table:nth-of-type(2) tr",
    "xianning_appeal.html": "div#content > div",
    "yinchuan_12345.html": "table.list tr",
    "xuzhou_12345.html": "tr.HeadStyleOfDataGridItemStyle",
    "changsha_wlwz.html": "table.table1 tr",  # the crawler drops the first and last
    "suzhou_12345.html": "table.tstable.margin_db tbody tr[id]",
    "wuzhou_letter.html": "div.kuang > table.tab tr",  # the crawler drops the first
    "chengdu_12345.html": "div.left5 ul li",  # the crawler skips the first
    "laiwu_mail.xml": "tr.tr_css",
}


def read(messages: tuple[ParsedMessage, ...]) -> list[tuple[str, float, bool | None, float | None]]:
    return [(m.title, m.posted, m.answered, m.replied) for m in messages]


def expected(name: str) -> list[tuple[str, float, bool | None, float | None]]:
    return [
        (title, day(posted), answered, day(replied) if replied else None)
        for title, posted, answered, replied in EXPECTED[name]
    ]


@pytest.mark.parametrize(
    "name",
    [
        "renmin_rendered.html",
        "hebei_yglz.html",
        "sun0769.html",
        "tianjin_zmljl.html",
        "shaoguan_wlwz.html",
        "huizhou_wlwz.html",
        "xianning_appeal.html",
        "yinchuan_12345.html",
        "wuzhou_letter.html",
        "chengdu_12345.html",
        "laiwu_mail.xml",
    ],
)
def test_platform_list_parses_with_auto_detection(name: str) -> None:
    page = parse_list((FIXTURES / name).read_text(), "http://b.gov.cn/list", AUTO, now=NOW)
    assert read(page.messages) == expected(name)
    # header and pager rows beside the messages are neither messages nor skipped rows
    assert (page.rows, page.skipped) == (len(EXPECTED[name]), ())


@pytest.mark.parametrize("name", list(EXPECTED))
def test_platform_list_parses_with_its_documented_row_selector(name: str) -> None:
    rows = BoardSelectors(item=DOCUMENTED_ROWS[name])
    page = parse_list((FIXTURES / name).read_text(), "http://b.gov.cn/list", rows, now=NOW)
    got = [m for m in read(page.messages)]
    assert got == expected(name)
    # the selector takes the header and pager rows too (长沙, 天津: "drop first and last")
    assert (page.rows, page.skipped) == (len(EXPECTED[name]), ())


@pytest.mark.parametrize("selected", [False, True], ids=["auto", "documented"])
@pytest.mark.parametrize("name", list(UNDATED))
def test_reply_time_column_answers_rows_that_wait_for_their_posting_time(
    name: str, selected: bool
) -> None:
    rows = BoardSelectors(item=DOCUMENTED_ROWS[name]) if selected else AUTO
    page = parse_list((FIXTURES / name).read_text(), "http://b.gov.cn/list", rows, now=NOW)
    assert page.messages == ()
    assert [(u.title, u.answered, u.replied) for u in page.undated] == [
        (title, answered, day(replied) if replied else None)
        for title, answered, replied in UNDATED[name]
    ]
    assert (page.rows, page.skipped) == (len(UNDATED[name]), ())


def test_jcms_page_with_the_records_in_a_data_island_reads_as_the_proxy_answer() -> None:
    answer = (FIXTURES / "laiwu_mail.xml").read_text()
    page = (
        '<html><body><ul class="nav"><li><a href="/">首页</a></li></ul><div id="mail">'
        f'<script type="text/xml">{answer}</script></div></body></html>'
    )
    got = parse_list(page, "http://www.laiwu.gov.cn/jact/front/", AUTO, now=NOW)
    assert read(got.messages) == expected("laiwu_mail.xml")
    assert got.messages[0].url == "http://www.laiwu.gov.cn/jact/front/mailcontent.action?id=7876"


def test_links_calling_a_page_function_name_their_message_by_its_arguments() -> None:
    html = (FIXTURES / "wuzhou_letter.html").read_text()
    page = parse_list(html, "http://www.wuzhou.gov.cn/web/wzegmh/letter/", AUTO, now=NOW)
    # no URL to follow: the id is what the crawler reads from the onclick
    assert [(m.id, m.url) for m in page.messages] == [
        ("7582", ""), ("7594", ""), ("7625", ""), ("7636", "")
    ]  # fmt: skip


@pytest.mark.parametrize(
    "selectors",
    [AUTO, BoardSelectors(item=DOCUMENTED_ROWS["xuzhou_12345.html"])],
    ids=["auto", "documented"],
)  # fmt: skip
def test_xuzhou_rows_without_a_date_wait_for_their_own_pages(selectors: BoardSelectors) -> None:
    html = (FIXTURES / "xuzhou_12345.html").read_text()
    page = parse_list(html, "http://12345.xz.gov.cn/xzbmweb/", selectors, now=NOW)
    assert page.messages == ()
    assert [(u.title, u.answered) for u in page.undated] == [
        ("咨询A市商业住房贷款转公积金贷款问题", True),
        ("咨询A市东六线（劳动东路-机场高粟）段目前建设进展", False),
        ("咨询A3区西湖街道茶场村公路规划问题", True),
    ]
    assert page.undated[0].url == "http://12345.xz.gov.cn/xzbmweb/ggfw_detail.aspx?id=3788"


def test_links_written_in_onclick_are_message_links() -> None:
    page = parse_list(
        (FIXTURES / "shaoguan_wlwz.html").read_text(), "http://wlwz.sg.gov.cn/website/wlwz/",
        BoardSelectors(item=DOCUMENTED_ROWS["shaoguan_wlwz.html"]), now=NOW,
        id_pattern=r"id=(\d+)",
    )  # fmt: skip
    assert [m.id for m in page.messages] == ["3720", "3727", "3733"]
    assert (
        page.messages[0].url
        == "http://wlwz.sg.gov.cn/website/wlwz/wlwzSiteAction!view.action?id=3720"
    )


def real_rows(name: str) -> list[dict[str, str]]:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real board data not found at {path} (see ../shared/realdata/README.md)")
    with path.open(encoding="gbk", newline="") as f:
        return list(csv.DictReader(f))


def pages(rows: list[dict[str, str]], size: int = 20) -> list[list[dict[str, str]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


NAV = (
    '<ul class="nav"><li><a href="/">首页</a></li><li><a href="/html/zmhd/">政民互动</a></li></ul>'
)


def render_jiamusi(rows: list[dict[str, str]]) -> str:
    """佳木斯 政民互动 list markup (W `jiamusi.py`): `ul#wszxList > li`, cells span[1]/a
    title+link, span[2] 类型, span[3] 答复部门, span[4] 状态, span[5] 发布时间."""
    items = "".join(
        f'<li><span><a href="{html.escape(r["链接"])}" target="_blank">{html.escape(r["标题"])}'
        f"</a></span><span>{r['类型']}</span><span>{html.escape(r['答复部门'])}</span>"
        f"<span>{r['状态']}</span><span>{r['发布时间']}</span></li>"
        for r in rows
    )
    return f'<html><body>{NAV}<ul id="wszxList">{items}</ul><a href="?p=2">下一页</a></body></html>'


def render_dalian(rows: list[dict[str, str]]) -> str:
    """大连 公众交流 list markup (W `dalian.py`): `ul.mt10 > li`, cells are links: a[1] 信件
    编号, a[2]/span title, a[3] 类型, a[4] 状态, a[5] 办理单位; no date column."""

    def row(r: dict[str, str]) -> str:
        href = html.escape(r["链接"])
        cells = (r["信件编号"], f"<span>{html.escape(r['信件标题'])}</span>", r["类型"],
                 r["状态"], html.escape(r["办理单位"]))  # fmt: skip
        return "<li>" + "".join(f'<a href="{href}">{c}</a>' for c in cells) + "</li>"

    return f'<html><body>{NAV}<ul class="mt10">{"".join(map(row, rows))}</ul></body></html>'


def test_jiamusi_every_real_record_is_read_with_its_status() -> None:
    rows = real_rows("jiamusi_zmhd_list.gbk.csv")
    messages = [
        m
        for chunk in pages(rows)
        for m in parse_list(render_jiamusi(chunk), "http://www.jms.gov.cn/html/zmhd/", AUTO,
                            now=NOW).messages
    ]  # fmt: skip
    assert len(messages) == len(rows) == 5846
    assert sum(m.answered is True for m in messages) == 5843
    waiting = [(m.title, m.posted) for m in messages if m.answered is False]
    assert sorted(waiting) == sorted([
        ("反映路牌建设问题", day("2016-07-09")),
        ("感谢信", day("2015-11-13")),
        ("请向阳区领导给予解决", day("2015-05-07")),
    ])  # fmt: skip
    # A real title that says 未回复 on a row whose status cell says 已回复
    quoted = next(m for m in messages if "三个工作日未回复" in m.title)
    assert quoted.answered is True


@pytest.mark.parametrize(
    "selectors",
    [AUTO, BoardSelectors(item="ul.mt10 > li")],
    ids=["auto", "documented"],
)
def test_dalian_every_real_record_is_answered_and_dated_by_its_number(
    selectors: BoardSelectors,
) -> None:
    rows = real_rows("dalian_gzjl_list.gbk.csv")
    messages = [
        m
        for chunk in pages(rows)
        for m in parse_list(render_dalian(chunk), "http://xzfw.dl.gov.cn/fgw/gzjl/", selectors,
                            now=NOW).messages
    ]  # fmt: skip
    assert len(messages) == len(rows) == 3773
    assert all(m.answered is True for m in messages)
    first = messages[0]  # G20190102-0011: received 2019-01-02
    assert (first.title, first.posted) == (
        "快递运输用的微型面包车是否需要办理营运证等",
        day("2019-01-02"),
    )
    assert first.url == rows[0]["链接"]


def render_jiamusi_message(r: dict[str, str]) -> str:
    """佳木斯 message page fields by id (W `jiamusi.py`)."""
    fields = {
        "releaseMan": r["来信人"], "zxsj": r["咨询时间"], "title": r["信件标题"],
        "conType": r["所属类型"], "state": r["处理情况"], "content": r["信件内容"],
        "conDept": r["承办单位"], "replyTime": r["处理时间"], "replyContent": r["处理结果"],
    }  # fmt: skip
    cells = "".join(f'<tr><td id="{k}">{html.escape(v)}</td></tr>' for k, v in fields.items())
    rating = f'<div id="myd">{r["回复满意度"]}</div>'
    return f"<html><body>{NAV}<table>{cells}</table>{rating}</body></html>"


def test_jiamusi_message_pages_tell_answered_from_in_progress_by_their_words() -> None:
    rows = real_rows("jiamusi_zmhd_detail.gbk.csv")
    told = [parse_detail(render_jiamusi_message(r), None, now=NOW).answered for r in rows]
    by_state = {
        state: {told[i] for i, r in enumerate(rows) if r["处理情况"] == state}
        for state in ("办理完毕", "正在办理")
    }
    assert by_state == {"办理完毕": {True}, "正在办理": {False}}


def test_jiamusi_message_pages_with_selectors_take_the_reply_and_its_time() -> None:
    rows = real_rows("jiamusi_zmhd_detail.gbk.csv")
    detail = DetailPage(reply="#replyContent", reply_date="#replyTime")
    interim = interim_rule(BoardSpec())
    first = parse_detail(render_jiamusi_message(rows[0]), detail, now=NOW, interim=interim)
    assert (first.answered, first.replied) == (True, day("2019-01-03 10:45:28"))
    assert first.reply_text == rows[0]["处理结果"]
    # In progress: an empty reply block, so the page's status field (正在办理) decides.
    waiting = [r for r in rows if r["处理情况"] == "正在办理"]
    got = [
        parse_detail(render_jiamusi_message(r), detail, now=NOW, interim=interim) for r in waiting
    ]
    assert [(d.answered, d.reply_text) for d in got] == [(False, None)] * 3


# 徐州 12345 through the board check: list rows without dates, dated by their own pages
# (`#CaseDetail_lbl_requestDate` 受理日期, as W `xuzhou.py` reads them), served locally.
XUZHOU_NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=CN_TZ).timestamp()
XUZHOU_CASES = [  # id, title, status, days before today it was accepted
    (3788, "咨询A市商业住房贷款转公积金贷款问题", "已办结", 10),
    (3791, "咨询A市东六线（劳动东路-机场高粟）段目前建设进展", "办理中", 120),
    (3797, "咨询A3区西湖街道茶场村公路规划问题", "已反馈", 3),
]


def xuzhou_app(reads: list[int]) -> Starlette:
    async def listing(request: Request) -> Response:
        rows = "".join(
            f'<tr class="HeadStyleOfDataGridItemStyle"><td>{n}</td><td>{cid}</td><td><font>'
            f"<a onclick=\"window.open('../ggfw_detail.aspx?id={cid}')\">{title}</a></font></td>"
            f"<td>咨询</td><td>市住房和城乡建设局</td><td>{state}</td></tr>"
            for n, (cid, title, state, _) in enumerate(XUZHOU_CASES, start=1)
        )
        return HTMLResponse(f'<html><body><form method="post"><table>{rows}</table></form>')

    async def case(request: Request) -> Response:
        cid = int(request.query_params["id"])
        reads.append(cid)
        days = next(d for c, _, _, d in XUZHOU_CASES if c == cid)
        accepted = dt.datetime.fromtimestamp(XUZHOU_NOW - days * 86400, CN_TZ)
        return HTMLResponse(
            "<html><body><p>今天是2026年11月18日</p><table><tr><td>受理日期：</td><td>"
            f'<span id="CaseDetail_lbl_requestDate">{accepted:%Y-%m-%d %H:%M}</span></td></tr>'
            '<tr><td>反馈时间：</td><td><span id="CaseDetail_lbl_answerDate"></span></td></tr>'
            "</table></body></html>"
        )

    return Starlette(routes=[Route("/xzbmweb/ywxxtemplate/ggfw_slgs.aspx", listing),
                             Route("/xzbmweb/ggfw_detail.aspx", case)])  # fmt: skip


@pytest.mark.parametrize("detail", ["", ", detail: {posted: '#CaseDetail_lbl_requestDate'}"])
@pytest.mark.parametrize("rows", ["{item: tr.HeadStyleOfDataGridItemStyle}", "{}"],
                         ids=["documented", "auto"])  # fmt: skip
async def test_xuzhou_board_is_dated_by_its_message_pages_once(detail: str, rows: str) -> None:
    reads: list[int] = []
    settings, clock = parse_config("").global_, FrozenClock(XUZHOU_NOW)
    async with (
        serve_app(xuzhou_app(reads)) as base,
        open_fetcher(settings, clock=clock) as f,
        open_page_workers() as pages,
    ):
        config = parse_config(f"""
channels:
  - name: xz12345
    kind: board
    owner: 徐州市
    url: {base}/xzbmweb/ywxxtemplate/ggfw_slgs.aspx
    checks:
      board:
        {{selectors: {rows}, id_pattern: 'id=(\\d+)'{detail}}}
""")  # fmt: skip
        channel = config.channel("xz12345")
        assert channel is not None
        with Store.open(":memory:") as store:
            rt = Runtime(f, store, clock, settings, pages)
            verdict, _ = await run_channel(rt, channel)
            assert verdict.state is State.ZOMBIE, verdict.summary  # in progress for 4 months
            assert [r.code for r in verdict.reasons] == ["board_unanswered"]
            stored = {m.id: m.posted for m in tracked.messages(store, "xz12345")}
            assert stored == {str(c): XUZHOU_NOW - d * 86400 for c, _, _, d in XUZHOU_CASES}
            assert sorted(reads) == [3788, 3791, 3797]
            clock.advance(3600)
            await run_channel(rt, channel)
            assert len(reads) == 3  # tracked: their pages are not read again to date them


async def test_sun0769_served_as_gbk_is_read_with_auto_detection() -> None:
    # wz.sun0769.com serves GBK (main.py decodes content.decode('gbk')); the charset is in
    # the page's <meta>, not in the HTTP header.
    page = (FIXTURES / "sun0769.html").read_text().replace(
        "<html><body>", '<html><head><meta http-equiv="Content-Type" content="text/html; '
        'charset=gb2312"></head><body>'
    )  # fmt: skip

    async def listing(request: Request) -> Response:
        return Response(page.encode("gbk"), headers={"content-type": "text/html"})

    app = Starlette(routes=[Route("/index.php/question/questionType", listing)])
    settings, clock = parse_config("").global_, FrozenClock(XUZHOU_NOW)
    async with (
        serve_app(app) as base,
        open_fetcher(settings, clock=clock) as fetcher,
        open_page_workers() as pages,
    ):
        config = parse_config(f"""
channels:
  - name: sun0769
    kind: board
    owner: 东莞市
    url: {base}/index.php/question/questionType?type=4
    checks:
      board: {{}}
""")  # fmt: skip
        channel = config.channel("sun0769")
        assert channel is not None
        with Store.open(":memory:") as store:
            _, (result,) = await run_channel(
                Runtime(fetcher, store, clock, settings, pages), channel
            )
            titles = {m.title: m.answered for m in tracked.messages(store, "sun0769")}
    assert result.success is True, result.error
    assert titles == {
        "反映A市美麓阳光住宅楼无故停工以及质量问题": True,
        "反映A市洋湖新城和顺路洋湖壹号小区路段公共绿化带的问题": False,
        "反映A2区大托街道大托新村违建问题": False,
        "A5区鄱阳村D区安置房人防工程的咨询": True,
    }


# 长沙 网络问政 through the board check: the list shows only 处理时间 (the reply), so each
# letter is dated by its own page (`div.specific_letter_bottom span[1]` 来信时间, as W
# `changsha.py` reads it), served locally; the list's 处理时间 stays its answer time.
CHANGSHA_POSTED = {  # real posting times of the fixture's letters (taidi2020c_replies.csv)
    7228: "2017-12-01 18:16:07", 7293: "2017-11-24 15:47:03", 7294: "2017-11-24 10:33:41",
    7297: "2017-11-24 01:02:20",
}  # fmt: skip


def changsha_app(reads: list[int]) -> Starlette:
    async def listing(request: Request) -> Response:
        return HTMLResponse((FIXTURES / "changsha_wlwz.html").read_text())

    async def letter(request: Request) -> Response:
        lid = int(request.query_params["id"])
        reads.append(lid)
        return HTMLResponse(
            '<html><body><div class="mailbox_title">来信</div><div class="letter_content1">'
            '<div class="specific_letter">…</div><div class="specific_letter_bottom">'
            f"<span>来信时间：{CHANGSHA_POSTED[lid]}</span><span>浏览量：12</span></div></div>"
            "</body></html>"
        )

    return Starlette(routes=[Route("/webapp/cs/email/index.jsp", listing),
                             Route("/webapp/cs/email/detail.jsp", letter)])  # fmt: skip


@pytest.mark.parametrize("rows", ["{item: table.table1 tr}", "{}"], ids=["documented", "auto"])
async def test_changsha_letters_are_dated_by_their_pages_and_answered_by_the_list(
    rows: str,
) -> None:
    reads: list[int] = []
    settings, clock = parse_config("").global_, FrozenClock(XUZHOU_NOW)
    async with (
        serve_app(changsha_app(reads)) as base,
        open_fetcher(settings, clock=clock) as f,
        open_page_workers() as pages,
    ):
        config = parse_config(f"""
channels:
  - name: cs-wlwz
    kind: board
    owner: 长沙市
    url: {base}/webapp/cs/email/index.jsp?cflag=1&emailList.offset=0
    checks:
      board:
        {{selectors: {rows}, id_pattern: 'id=(\\d+)'}}
""")  # fmt: skip
        channel = config.channel("cs-wlwz")
        assert channel is not None
        with Store.open(":memory:") as store:
            verdict, _ = await run_channel(Runtime(f, store, clock, settings, pages), channel)
            stored = {
                int(m.id): (m.posted, m.answered, m.replied)
                for m in tracked.messages(store, "cs-wlwz")
            }
    assert sorted(reads) == sorted(CHANGSHA_POSTED)
    assert stored == {
        lid: (day(posted), answered, day(replied) if replied else None)
        for (lid, posted), (_, answered, replied) in zip(
            CHANGSHA_POSTED.items(), UNDATED["changsha_wlwz.html"], strict=True
        )
    }
    # the letter whose 处理时间 is empty has waited since 2017: the 3-month veto
    assert verdict.state is State.ZOMBIE, verdict.summary
    assert "board_unanswered" in [r.code for r in verdict.reasons]


@pytest.mark.parametrize(
    ("label", "cell", "answered", "replied"),
    [
        ("回复时间", "2019-01-04 15:44", True, "2019-01-04 15:44"),
        ("回复时间", "", False, None),
        ("处理时间", "2019-01-04", True, "2019-01-04"),  # 长沙: the letters handled
        ("办结日期", "2019-01-04", True, "2019-01-04"),
        ("办理完成时间", "2019-01-04", True, "2019-01-04"),
        ("办理时间", "2019-01-04", None, None),  # 惠州 shows it beside 处理中: no answer
        ("回复截止时间", "2019-01-04", None, None),  # a deadline, not an answer
        ("更新时间", "2019-01-04", None, None),
    ],
)  # fmt: skip
def test_a_time_column_without_a_status_answers_by_what_its_header_names(
    label: str, cell: str, answered: bool | None, replied: str | None
) -> None:
    titles = ["反映A3区靳江洋湖集体资产的有关问题", "质疑A市佳兆业云顶小区筹建的干洗店"]
    rows = "".join(
        f'<tr><td><a href="show?id={n}">{title}</a></td><td>2018-12-1{n}</td><td>{cell}</td></tr>'
        for n, title in enumerate(titles)
    )
    html = (
        f"<html><body><table><tr><th>标题</th><th>提交时间</th><th>{label}</th></tr>{rows}"
        "</table></body></html>"
    )
    page = parse_list(html, "http://b.gov.cn/list", AUTO, now=NOW)
    assert [(m.posted, m.answered, m.replied) for m in page.messages] == [
        (day(f"2018-12-1{n}"), answered, day(replied) if replied else None) for n in range(2)
    ]


@pytest.mark.parametrize(
    "call", [r"showDetail('\1','440200')", r"this.blur(); return showDetail('\1','440200');"]
)
@pytest.mark.parametrize(
    ("id_pattern", "ids"),
    [(None, ["3720,440200", "3727,440200", "3733,440200"]), (r"^(\d+)", ["3720", "3727", "3733"])],
)
def test_shaoguan_rows_opened_by_a_page_function_keep_their_ids(
    id_pattern: str | None, ids: list[str], call: str
) -> None:
    # The real 韶关 list calls a function with the theme id and area code (W shaoguan.py
    # reads them with '(\d+)','(\d+)'), not window.open with a URL.
    html = re.sub(
        r"window\.open\('wlwzSiteAction!view\.action\?id=(\d+)'\)", call,
        (FIXTURES / "shaoguan_wlwz.html").read_text(),
    )  # fmt: skip
    assert "showDetail('3720'" in html
    page = parse_list(html, "http://wlwz.sg.gov.cn/website/wlwz/", AUTO, now=NOW,
                      id_pattern=id_pattern)  # fmt: skip
    assert [(m.id, m.url, m.answered) for m in page.messages] == [
        (i, "", answered) for i, answered in zip(ids, [True, False, True], strict=True)
    ]


def test_changsha_2020_cut_titles_are_read_whole_from_their_cell() -> None:
    # The 2020 list (RSSHub gov/hunan/changsha/major-email) reads `td[title]` for the title
    # and `td[title] > a` for the link: the link text may be cut.
    full = "投诉A5区黎郡新宇和太园物业强行对该小区配套幼儿园拉闸停电"
    html = (FIXTURES / "changsha_wlwz.html").read_text().replace(
        f'<td><a href="detail.jsp?id=7228" target="_blank">{full}</a>',
        f'<td title="{full}"><a href="detail.jsp?id=7228" target="_blank">{full[:12]}…</a>',
    )  # fmt: skip
    page = parse_list(html, "http://wlwz.changsha.gov.cn/webapp/cs2020/email/", AUTO, now=NOW)
    assert [u.title for u in page.undated] == [t for t, _, _ in UNDATED["changsha_wlwz.html"]]


async def test_laiwu_record_range_answer_is_read_by_the_board_check() -> None:
    answer = (FIXTURES / "laiwu_mail.xml").read_text()

    async def proxy(request: Request) -> Response:
        return Response(answer.encode(), headers={"content-type": "text/xml;charset=UTF-8"})

    app = Starlette(routes=[Route("/jact/front/dataproxy_mailnewlist.action", proxy)])
    settings, clock = parse_config("").global_, FrozenClock(XUZHOU_NOW)
    async with (
        serve_app(app) as base,
        open_fetcher(settings, clock=clock) as fetcher,
        open_page_workers() as pages,
    ):
        config = parse_config(f"""
channels:
  - name: laiwu
    kind: board
    owner: 莱芜市
    url: {base}/jact/front/dataproxy_mailnewlist.action?startrecord=1&endrecord=57&perpage=19
    checks:
      board: {{id_pattern: 'id=(\\d+)'}}
""")  # fmt: skip
        channel = config.channel("laiwu")
        assert channel is not None
        with Store.open(":memory:") as store:
            _, (result,) = await run_channel(
                Runtime(fetcher, store, clock, settings, pages), channel
            )
            stored = {m.id: m.answered for m in tracked.messages(store, "laiwu")}
    assert result.success is True, result.error
    assert stored == {"7876": True, "7892": False, "7898": True, "7909": False}


# 梧州 through the board check: its rows name their letters only by an onclick id, so
# `link_template` builds the message page (inquiry_detail.ptl?inquiryId=, as W wuzhou.py
# does), whose reply block (`table.reply` tbody[1] tr[2]/td[2]) and 处理时间 (tr[1]/td[4])
# answer the letters the list shows without a status. Replies and their times are real.
WUZHOU_REPLIES = {
    7582: ("收到您的投诉后，市驾培处工作人员电话联系了您，进一步核实具体情况。",
           "2017-11-27 14:22:19"),
    7594: ("经调查，青山桥镇A1区村个别村民因房屋在洪灾中毁损修建需要用砂。", "2017-11-13 14:48:06"),
    7625: ("关于地铁4号线罐子岭站有几个出入口的问题：4号线罐子岭站有7个出入口。",
           "2017-11-13 14:43:33"),
    7636: ("由于您未留下联系方式和身份证号码，我中心社保关系接转部暂不能进一步了解。",
           "2017-11-13 14:42:00"),
}  # fmt: skip
WUZHOU_REPLY = "table.reply > tbody:last-of-type > tr:nth-of-type(2) > td:nth-of-type(2)"
WUZHOU_REPLY_DATE = "table.reply > tbody:last-of-type > tr:nth-of-type(1) > td:nth-of-type(4)"


def wuzhou_app(reads: list[int]) -> Starlette:
    async def listing(request: Request) -> Response:
        return HTMLResponse((FIXTURES / "wuzhou_letter.html").read_text())

    async def inquiry(request: Request) -> Response:
        lid = int(request.query_params["inquiryId"])
        reads.append(lid)
        text, when = WUZHOU_REPLIES[lid]
        return HTMLResponse(
            '<html><body><table class="reply"><tr><td colspan="2">来信</td></tr>'
            f"<tr><td>标题</td><td>…</td></tr><tr><td>来信时间</td><td>2017-10-16</td></tr>"
            "<tr><td>内容</td><td>…</td></tr><tbody><tr><td>处理部门</td><td>市交通运输局</td>"
            f"<td>处理时间</td><td>{when}</td></tr><tr><td>回复</td><td>{text}</td></tr></tbody>"
            "</table></body></html>"
        )

    return Starlette(routes=[Route("/web/wzegmh/letter/letter_list.ptl", listing),
                             Route("/web/wzegmh/letter/inquiry_detail.ptl", inquiry)])  # fmt: skip


async def test_wuzhou_letters_named_by_an_onclick_id_are_answered_by_their_pages() -> None:
    reads: list[int] = []
    settings, clock = parse_config("").global_, FrozenClock(XUZHOU_NOW)
    async with (
        serve_app(wuzhou_app(reads)) as base,
        open_fetcher(settings, clock=clock) as f,
        open_page_workers() as pages,
    ):
        config = parse_config(f"""
channels:
  - name: wz
    kind: board
    owner: 梧州市
    url: {base}/web/wzegmh/letter/letter_list.ptl?pageNo=1
    checks:
      board:
        selectors: {{link_template: 'inquiry_detail.ptl?inquiryId={{id}}'}}
        detail: {{reply: '{WUZHOU_REPLY}', reply_date: '{WUZHOU_REPLY_DATE}'}}
""")  # fmt: skip
        channel = config.channel("wz")
        assert channel is not None
        with Store.open(":memory:") as store:
            _, (result,) = await run_channel(Runtime(f, store, clock, settings, pages), channel)
            stored = {
                int(m.id): (m.url.rsplit("/", 1)[-1], m.answered, m.replied)
                for m in tracked.messages(store, "wz")
            }
    assert result.success is True, result.error
    assert sorted(reads) == sorted(WUZHOU_REPLIES)
    assert stored == {
        lid: (f"inquiry_detail.ptl?inquiryId={lid}", True, day(when))
        for lid, (_, when) in WUZHOU_REPLIES.items()
    }


def test_link_template_needs_an_id_placeholder() -> None:
    with pytest.raises(ValueError, match=r"link_template needs an \{id\} placeholder"):
        BoardSelectors(link_template="inquiry_detail.ptl?inquiryId=")


@pytest.mark.parametrize(
    "pager",
    [
        '共57108条记录 第1/4759页 <a href="?p=1">首页</a> <a href="?p=2">下一页</a> '
        '<a href="?p=9">尾页</a>',
        '[1] <a href="?p=2">[2]</a> <a href="?p=3">[3]</a> <a href="?p=2">下一页</a>',
        '页次：1/20 每页15条 <a href="?p=2">&gt;</a> <a href="?p=20">&gt;&gt;</a>',
        '共12页 跳转到 第<input name="p" value="1">页 <a href="javascript:go()">GO</a> '
        '<a href="?p=2">下一页</a>',
    ],
)  # fmt: skip
def test_a_pager_row_among_the_rows_is_neither_a_message_nor_a_skipped_row(pager: str) -> None:
    html = (FIXTURES / "tianjin_zmljl.html").read_text().replace(
        '<a href="list8a.jsp?curpage=2">下一页</a>', pager
    )  # fmt: skip
    rows = BoardSelectors(item=DOCUMENTED_ROWS["tianjin_zmljl.html"])
    page = parse_list(html, "http://zm.tj.gov.cn/gov_open/question/zero/", rows, now=NOW)
    assert read(page.messages) == expected("tianjin_zmljl.html")
    assert (page.rows, page.skipped) == (3, ())


@pytest.mark.parametrize("selected", [False, True], ids=["auto", "documented"])
def test_a_header_of_sort_links_still_names_the_reply_time_column(selected: bool) -> None:
    # Grids write their header cells as sort links: <th><a href="?…sort=办结时间">
    html = re.sub(
        r"<th>([^<]+)</th>", r'<th><a href="?a=chaxun&amp;sort=\1">\1</a></th>',
        (FIXTURES / "yinchuan_12345.html").read_text(),
    )  # fmt: skip
    assert "<th><a " in html
    rows = BoardSelectors(item=DOCUMENTED_ROWS["yinchuan_12345.html"]) if selected else AUTO
    page = parse_list(html, "http://www.yc12345.gov.cn/", rows, now=NOW)
    assert read(page.messages) == expected("yinchuan_12345.html")
    assert (page.rows, page.skipped) == (2, ())


@pytest.mark.parametrize("selected", [False, True], ids=["auto", "documented"])
def test_a_header_in_a_table_of_its_own_names_the_next_tables_columns(selected: bool) -> None:
    # Old templates draw the header as a table of its own right above the list's table.
    header = (
        "<tr><td>序号</td><td>主题</td><td>信件类别</td><td>处理时间</td><td>处理部门</td>"
        "<td>来信人</td></tr>"
    )
    html = (FIXTURES / "changsha_wlwz.html").read_text()
    html = html.replace(f'<table class="table1"><tr class="tit">{header[4:]}',
                        f'<table class="head">{header}</table><table class="table1">')  # fmt: skip
    assert '<table class="head">' in html
    rows = BoardSelectors(item="table.table1 tr") if selected else AUTO
    page = parse_list(html, "http://wlwz.changsha.gov.cn/webapp/cs/email/", rows, now=NOW)
    assert [(u.title, u.answered, u.replied) for u in page.undated] == [
        (title, answered, day(replied) if replied else None)
        for title, answered, replied in UNDATED["changsha_wlwz.html"]
    ]
