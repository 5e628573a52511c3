"""Reading board pages: message rows found with and without selectors, status words,
posting and reply dates (not the dates in titles), pagination links, message pages."""

from __future__ import annotations

import datetime as dt

import pytest

from probes.boards.parse import parse_detail, parse_list
from probes.boards.status import DEFAULT_WORDS, Status, board_words
from probes.boards.summary import interim_rule
from probes.config.board import BoardSelectors, BoardSpec, DetailPage
from probes.pages.dates import CN_TZ

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=CN_TZ)
AUTO = BoardSelectors()


def ts(*args: int) -> float:
    return dt.datetime(*args, tzinfo=CN_TZ).timestamp()


@pytest.mark.parametrize(
    ("text", "answered"),
    [
        ("已回复", True),
        ("[已答复]", True),
        ("已办结", True),
        ("未回复", False),
        ("待回复", False),
        ("办理中", False),
        ("处理中", False),
        ("未办结", False),  # holds 办结
        ("已受理", False),  # accepted is not answered
        ("已 回 复", True),
        ("查看详情", None),
        ("", None),
    ],
)
def test_status_words(text: str, answered: bool | None) -> None:
    assert DEFAULT_WORDS.classify(text) is answered


TABLE = """<html><body>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/list">留言</a></li></ul>
<table><tr><th>标题</th><th>时间</th><th>状态</th><th>回复</th></tr>
<tr><td><a href="show?id=11#top">关于2024年3月停水的问题</a></td><td>2026-11-02 09:30</td>
    <td>已回复</td><td>2026-11-04 16:00</td></tr>
<tr><td><a href="show?id=12">路灯不亮</a></td><td>2026/11/10</td><td>未回复</td><td></td></tr>
<tr><td><a href="show?id=13">噪音扰民</a></td><td>2026年11月12日</td><td>办理中</td><td></td></tr>
</table><a class="next" href="list?page=2">下一页</a></body></html>"""


def test_rows_are_auto_detected_with_status_dates_and_reply_time() -> None:
    page = parse_list(TABLE, "http://b.gov.cn/list", AUTO, now=NOW, next_page="a.next")
    got = [(m.id, m.title, m.posted, m.answered, m.replied) for m in page.messages]
    assert got == [
        ("http://b.gov.cn/show?id=11", "关于2024年3月停水的问题", ts(2026, 11, 2, 9, 30), True,
         ts(2026, 11, 4, 16)),
        ("http://b.gov.cn/show?id=12", "路灯不亮", ts(2026, 11, 10), False, None),
        ("http://b.gov.cn/show?id=13", "噪音扰民", ts(2026, 11, 12), False, None),
    ]  # fmt: skip
    assert page.next_url == "http://b.gov.cn/list?page=2"
    assert page.skipped == ()


def test_id_pattern_takes_the_message_id_from_its_link() -> None:
    page = parse_list(TABLE, "http://b.gov.cn/list", AUTO, now=NOW, id_pattern=r"id=(\d+)")
    assert [m.id for m in page.messages] == ["11", "12", "13"]


GBK_LIST = (
    '<ul class="menu"><li><a href="/">首页</a></li></ul><ul>'
    '<li><span>[已回复]</span> <a href="m/1" title="全称">景区门票</a> <em>[11-16]</em></li>'
    '<li><span>[待回复]</span> <a href="m/2">遮雨棚</a> <em>[11-17]</em></li></ul>'
)


def test_list_items_with_month_day_dates_take_the_latest_past_year() -> None:
    page = parse_list(GBK_LIST, "http://b.gov.cn/", AUTO, now=NOW)
    assert [(m.title, m.posted, m.answered) for m in page.messages] == [
        ("景区门票", ts(2026, 11, 16), True),
        ("遮雨棚", ts(2026, 11, 17), False),
    ]


CONFIGURED = """<div class="box"><div class="msg"><a href="/d/5">标题甲</a>
<span class="t">2026-10-01</span><span class="s">已办结</span>
<span class="r">2026-10-09</span></div>
<div class="msg"><a href="/d/6">标题乙</a><span class="t">2026-10-20</span>
<span class="s">受理中</span></div></div>"""


def test_configured_selectors() -> None:
    sel = BoardSelectors(item="div.msg", date="span.t", status="span.s", reply_date="span.r")
    page = parse_list(CONFIGURED, "http://b.gov.cn/", sel, now=NOW)
    assert [(m.title, m.answered, m.replied) for m in page.messages] == [
        ("标题甲", True, ts(2026, 10, 9)),
        ("标题乙", False, None),
    ]


@pytest.mark.parametrize(
    ("html", "selectors", "rows", "messages"),
    [
        # a redesigned page: only undated navigation links
        ('<ul><li><a href="/">首页</a></li><li><a href="/x">互动</a></li></ul>', AUTO, 0, 0),
        # the configured row selector matches nothing any more
        (TABLE, BoardSelectors(item="ul.letters > li"), 0, 0),
        # rows, but no dates where the date selector points
        (CONFIGURED, BoardSelectors(item="div.msg", date="span.missing"), 2, 0),
    ],
)
def test_layout_changes_leave_no_messages_and_say_what_was_skipped(
    html: str, selectors: BoardSelectors, rows: int, messages: int
) -> None:
    page = parse_list(html, "http://b.gov.cn/", selectors, now=NOW)
    assert (page.rows, len(page.messages), len(page.skipped)) == (rows, messages, rows - messages)


def test_future_dates_are_not_posting_dates() -> None:
    html = '<table><tr><td><a href="/a">x</a></td><td>2026-12-25</td><td>未回复</td></tr></table>'
    assert parse_list(html, "http://b.gov.cn/", AUTO, now=NOW).messages == ()


@pytest.mark.parametrize(
    ("html", "next_url"),
    [
        ('<a class="next" href="javascript:void(0)">下一页</a>', None),
        ('<a class="next" href="list?page=1">下一页</a>', None),  # the page itself: last page
        ('<span class="next">下一页</span>', None),
        ('<a class="next" href="/list?page=3">下一页</a>', "http://b.gov.cn/list?page=3"),
    ],
)
def test_next_page_link(html: str, next_url: str | None) -> None:
    page = parse_list(html, "http://b.gov.cn/list?page=1", AUTO, now=NOW, next_page="a.next")
    assert page.next_url == next_url


DETAIL = DetailPage(reply="div.reply-body", reply_date="p.reply-time")


@pytest.mark.parametrize(
    ("html", "detail", "answered", "replied", "text"),
    [
        (
            '<p class="reply-time">答复时间：2026-11-03 15:20</p>'
            '<div class="reply-body">经核实，路灯已修复。</div>',
            DETAIL, True, ts(2026, 11, 3, 15, 20), "经核实，路灯已修复。",
        ),
        ('<div class="reply-body">  </div><p>状态：办理中</p>', DETAIL, False, None, None),
        ("<p>状态：已回复</p><p>回复：已修复</p>", None, True, None, None),
        ("<p>状态：待回复</p>", None, False, None, None),
        ("<p>留言内容</p>", None, None, None, None),
        (
            '<div class="reply-body">2026年11月5日 已安排维修</div>',
            DetailPage(reply="div.reply-body"), True, ts(2026, 11, 5), "2026年11月5日 已安排维修",
        ),
    ],
)  # fmt: skip
def test_message_page(
    html: str,
    detail: DetailPage | None,
    answered: bool | None,
    replied: float | None,
    text: str | None,
) -> None:
    got = parse_detail(f"<html><body>{html}</body></html>", detail, now=NOW)
    assert (got.answered, got.replied, got.reply_text) == (answered, replied, text)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("已办理", Status.ANSWERED),  # 人民网's answered word
        ("办理完毕", Status.ANSWERED),
        ("[已办结]", Status.ANSWERED),
        ("未办理", Status.PENDING),
        ("待受理", Status.PENDING),
        ("已受理", Status.IN_PROGRESS),
        ("已转办", Status.IN_PROGRESS),
        ("已交办", Status.IN_PROGRESS),
        ("正在办理", Status.IN_PROGRESS),
        ("已关注", Status.IN_PROGRESS),
        ("已受理 已回复", Status.IN_PROGRESS),  # a waiting word wins
        ("市投诉处理中心", None),  # a department, not 处理中
        ("受理", Status.IN_PROGRESS),  # 人民网: a whole status cell
        ("[在办]", Status.IN_PROGRESS),
        ("已办", Status.ANSWERED),
        ("受理单位：市住建局", None),  # a label
    ],
)
def test_shipped_status_vocabulary(text: str, status: Status | None) -> None:
    assert DEFAULT_WORDS.status(text) is status


def test_a_boards_own_status_words_are_merged_with_the_shipped_ones() -> None:
    spec = BoardSpec.model_validate(
        {
            "status_words": {
                "answered": ["已评价", "受理"],
                "in_progress": ["已办结待评价", "已处理"],
            }
        }
    )
    words = board_words(spec)
    assert words.status("已评价") is Status.ANSWERED
    assert words.status("已办结待评价") is Status.IN_PROGRESS  # longer than 已办结
    assert words.status("已处理") is Status.IN_PROGRESS  # moved from answered
    assert words.status("已回复") is Status.ANSWERED  # shipped words stay
    assert words.status("受理") is Status.ANSWERED  # a board's own meaning of a cell word


def test_status_and_title_are_read_per_element() -> None:
    html = (
        '<table><tr><td><span>已办理</span><a href="/m/1">中心城区停车难</a></td>'
        "<td>2026-11-02</td></tr>"
        '<tr><td>办理中</td><td><a href="/m/2" title="关于老旧小区加装电梯补贴何时发放的问题">'
        "关于老旧小区加装电梯…</a></td><td>2026-11-03</td></tr></table>"
    )
    page = parse_list(html, "http://b.gov.cn/", AUTO, now=NOW)
    assert [(m.title, m.answered) for m in page.messages] == [
        ("中心城区停车难", True),
        ("关于老旧小区加装电梯补贴何时发放的问题", False),
    ]


def test_title_dates_and_status_words_are_not_the_rows() -> None:
    html = (
        '<ul><li><a href="/m/1">反映2026年10月1日起三个工作日未回复的问题</a>'
        "<span>已回复</span><span>2026-11-02</span></li></ul>"
    )
    (m,) = parse_list(html, "http://b.gov.cn/", AUTO, now=NOW).messages
    assert (m.answered, m.posted) == (True, ts(2026, 11, 2))


INTERIM = interim_rule(BoardSpec())
REPLIES = DetailPage(reply="div.reply", reply_date="p.time")


@pytest.mark.parametrize(
    ("blocks", "answered", "replied", "text"),
    [
        # an interim reply, then the answer: answered at the answer's time
        ([("2026-11-03", "您的留言我们已收到，已转相关部门处理。"),
          ("2026-11-10", "经核实，该路段路灯线路已于11月9日更换，现已恢复照明。")],
         True, ts(2026, 11, 10), "经核实，该路段路灯线路已于11月9日更换，现已恢复照明。"),
        # only the interim reply: in progress
        ([("2026-11-03", "您好！您的留言已收悉，已转相关部门办理，敬请关注后续回复。")],
         False, None, "您好！您的留言已收悉，已转相关部门办理，敬请关注后续回复。"),
        ([("2026-11-03", "已转交市公安局处理。")], False, None, "已转交市公安局处理。"),
    ],
)  # fmt: skip
def test_an_interim_reply_is_no_answer(
    blocks: list[tuple[str, str]], answered: bool, replied: float | None, text: str
) -> None:
    body = "".join(f'<p class="time">{when}</p><div class="reply">{t}</div>' for when, t in blocks)
    got = parse_detail(f"<html><body>{body}</body></html>", REPLIES, now=NOW, interim=INTERIM)
    assert (got.answered, got.replied, got.reply_text) == (answered, replied, text)


@pytest.mark.parametrize(
    ("row", "title", "answered"),
    [
        # a department link with a title of its own: the message's title is the longer one
        ('<a href="/dept/3" title="市住建局">市住建局</a><a href="/m/1" title="关于小区电梯'
         '长期停运无人维修的问题">关于小区电梯…</a><span>2026-11-02</span><span>已办结</span>',
         "关于小区电梯长期停运无人维修的问题", True),
        # the status as an icon
        ('<a href="/m/2">路灯不亮</a><img src="s2.gif" alt="办理中"><span>2026-11-02</span>',
         "路灯不亮", False),
        ('<a href="/m/3">噪音扰民</a><span>2026-11-02</span><span>待评价</span>', "噪音扰民", True),
    ],
)  # fmt: skip
def test_row_cells(row: str, title: str, answered: bool) -> None:
    (m,) = parse_list(f"<ul><li>{row}</li></ul>", "http://b.gov.cn/", AUTO, now=NOW).messages
    assert (m.title, m.answered) == (title, answered)


@pytest.mark.parametrize(
    ("row", "title", "answered"),
    [
        # a department whose name holds 受理中 is not a status
        ('<a href="/m/4">供暖不热</a><span>市民投诉受理中心</span><span>2026-11-02</span>',
         "供暖不热", None),
        # a 查看详情 link with a title attribute names no message
        ('<a href="/m/5">井盖缺失</a><span>2026-11-02</span><span>已回复</span>'
         '<a href="/m/5" title="查看详情">查看</a>', "井盖缺失", True),
        # a title attribute that is not the cut title's full text is not used
        ('<a href="/m/6" title="点击进入详情页面查看">路面塌陷…</a><span>2026-11-02</span>'
         "<span>办理中</span>", "路面塌陷…", False),
    ],
)  # fmt: skip
def test_row_cells_that_are_not_what_they_look_like(
    row: str, title: str, answered: bool | None
) -> None:
    (m,) = parse_list(f"<ul><li>{row}</li></ul>", "http://b.gov.cn/", AUTO, now=NOW).messages
    assert (m.title, m.answered) == (title, answered)


def test_the_message_link_is_the_one_whose_text_changes_from_row_to_row() -> None:
    # A department link before the title, neither with a title attribute.
    rows = "".join(
        f'<li><a href="/dept/7">市住房和城乡建设局</a><a href="/m/{i}">{title}</a>'
        f"<span>2026-11-0{i}</span><span>已回复</span></li>"
        for i, title in enumerate(["电梯停运", "物业乱收费", "小区停车难"], start=1)
    )
    page = parse_list(f"<ul>{rows}</ul>", "http://b.gov.cn/", AUTO, now=NOW)
    assert [(m.title, m.url) for m in page.messages] == [
        ("电梯停运", "http://b.gov.cn/m/1"),
        ("物业乱收费", "http://b.gov.cn/m/2"),
        ("小区停车难", "http://b.gov.cn/m/3"),
    ]


def test_a_date_inside_a_content_snippet_is_not_the_posting_date() -> None:
    html = (
        '<ul><li><a href="/m/1">停水问题</a><p>我家所在小区自2026年10月3日起每天停水，物业'
        "一直没有给出说法，希望有关部门尽快处理。</p><span>留言时间：2026-11-02 09:30</span>"
        "<span>办理中</span></li></ul>"
    )
    (m,) = parse_list(html, "http://b.gov.cn/", AUTO, now=NOW).messages
    assert m.posted == ts(2026, 11, 2, 9, 30)


def dateless_rows(cells: list[tuple[str, str]]) -> str:
    """Table rows with a link in onclick and no date: (title, last cell) each."""
    return "".join(
        f"<tr><td>{n}</td><td><a onclick=\"window.open('detail.aspx?id={n}')\">{title}</a>"
        f"</td><td>{last}</td></tr>"
        for n, (title, last) in enumerate(cells, start=1)
    )


# Rich navigation entries: a link and a second text element each, no status, no date.
NAV_BLOCKS = "".join(
    f'<div class="entry"><a href="/s/{i}">{name}</a><p>{blurb}</p></div>'
    for i, (name, blurb) in enumerate(
        [("办事指南", "事项清单"), ("政策文件", "规范性文件"), ("政务公开", "信息公开目录"),
         ("互动交流", "在线咨询")]
    )
)  # fmt: skip


ALL_STATUSES = [("咨询甲", "已办结"), ("咨询乙", "办理中"), ("咨询丙", "已反馈")]
TABS = "".join(
    f'<li><a href="?state={n}">{word}</a><span>({n * 40})</span></li>'
    for n, word in enumerate(["已回复", "办理中", "未回复"], start=1)
)
ICON_STATUSES = [(f"咨询{n}", '<img src="/i/done.gif" alt="已办结">') for n in "甲乙丙"]
HALF_STATUSES = [("咨询甲", "已办结"), ("咨询乙", "部门"), ("咨询丙", "办理中"), ("咨询丁", "部门")]


@pytest.mark.parametrize(
    ("html", "titles"),
    [
        # every dateless row shows a status word: the board's rows, dated by their pages
        (f"<table>{dateless_rows(ALL_STATUSES)}</table>", ["咨询甲", "咨询乙", "咨询丙"]),
        # the status shown as an icon
        (f"<table>{dateless_rows(ICON_STATUSES)}</table>", ["咨询甲", "咨询乙", "咨询丙"]),
        # filter tabs with counts: the status is the link itself, no message title
        (f"<ul>{TABS}</ul>", []),
        # a block of navigation entries has no status word: no list at all
        (f"<body>{NAV_BLOCKS}</body>", []),
        # status words in 2 of 4 rows: not the board
        (f"<table>{dateless_rows(HALF_STATUSES)}</table>", []),
    ],
)
def test_dateless_rows_are_messages_only_with_a_title_and_a_status_in_most_rows(
    html: str, titles: list[str]
) -> None:
    page = parse_list(html, "http://b.gov.cn/", AUTO, now=NOW)
    assert [u.title for u in page.undated] == titles
    assert (page.rows, page.messages) == (len(titles), ())


def test_a_dateless_board_beats_a_shorter_sidebar_of_dated_notices() -> None:
    notices = "".join(
        f'<li><a href="/tz/{d}.html">通知{d}</a><span>2026-11-0{d}</span></li>' for d in (3, 4, 5)
    )
    rows = [(f"咨询{n}", "已办结") for n in "甲乙丙丁戊"]
    html = f'<body><ul class="notice">{notices}</ul><table>{dateless_rows(rows)}</table></body>'
    page = parse_list(html, "http://b.gov.cn/", AUTO, now=NOW)
    assert [u.title for u in page.undated] == [t for t, _ in rows]
    assert page.item_selector == "auto (no dates): tr"


def test_a_dated_list_with_statuses_beats_a_longer_dateless_one() -> None:
    dated = "".join(
        f'<tr><td><a href="/m/{d}">留言{d}</a></td><td>2026-11-0{d}</td><td>已回复</td></tr>'
        for d in (3, 4, 5)
    )
    others = [(f"咨询{n}", "已办结") for n in "甲乙丙丁戊"]
    html = f"<body><table>{dated}</table><table>{dateless_rows(others)}</table></body>"
    page = parse_list(html, "http://b.gov.cn/", AUTO, now=NOW)
    assert [m.title for m in page.messages] == ["留言3", "留言4", "留言5"]
    assert page.undated == ()


def test_a_row_that_opens_its_message_itself_is_read_with_its_cells() -> None:
    rows = "".join(
        f"<tr onclick=\"window.open('show.aspx?id={n}')\"><td>{n}</td><td>咨询{t}</td>"
        f"<td>2026-11-0{n}</td><td>已回复</td></tr>"
        for n, t in ((3, "甲"), (4, "乙"), (5, "丙"))
    )
    page = parse_list(f"<table>{rows}</table>", "http://b.gov.cn/wz/", AUTO, now=NOW)
    assert [(m.title, m.url, m.answered) for m in page.messages] == [
        (f"咨询{t}", f"http://b.gov.cn/wz/show.aspx?id={n}", True)
        for n, t in ((3, "甲"), (4, "乙"), (5, "丙"))
    ]
