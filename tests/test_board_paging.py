"""Board list pages beyond page 1 on the paging mechanics real platforms use
(../shared/realdata/board/PLATFORMS.md), served over HTTP by local servers:

- 徐州 12345 公示, ASP.NET WebForms: every page is a POST of the same URL with
  `__EVENTTARGET=CaseGgfwAll1$Pager`, `__EVENTARGUMENT=<page>` and
  `CaseGgfwAll1$Pager_input=<page-1>`. The server here answers a postback only when it
  carries the hidden state of the page it was posted from (`__VIEWSTATE`,
  `__VIEWSTATEGENERATOR`, `__EVENTVALIDATION` as a MAC of the view state), as ASP.NET does
  ("Validation of viewstate MAC failed" otherwise), and treats a posted search button as
  a search. Its rows are the documented markup (no date: each message's page gives its
  受理日期).
- 成都 12345: `openWorkList?page=<n>` sent as POST with form `pageID=<n>`; its documented
  `div.left5 ul li` rows, with a status cell added (the real list has none: its message
  pages tell, tests/test_board_platforms.py) so that the pages read can be judged here.
- 莱芜 大汉 jact: `dataproxy_mailnewlist.action?startrecord=<s>&endrecord=<e>&perpage=19
  &groupSize=3`, posted with form `sysid=1 …`, records 1-57, 58-114 … (the crawler asks 57
  records, three pages of 19, at a time). Its `tr.tr_css` rows (td1 办件编号, td2/a 标题,
  td3 处理情况, td4 提交时间) are served as CDATA records of a 大汉 `<datastore>`, as in
  tests/data/boards/laiwu_mail.xml (the envelope the crawler's cut implies).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from probes.clock import FrozenClock
from probes.config import ChannelConfig, ConfigError, parse_config
from probes.demo.portal import serve_app
from probes.http.client import open_fetcher
from probes.kinds.pagework import open_page_workers
from probes.model import CheckResult, State, Verdict
from probes.pages.dates import CN_TZ
from probes.pages.webform import PostbackForm, postback_form
from probes.runtime.runner import Runtime, run_channel
from probes.state import board as tracked
from probes.state.store import Store

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=CN_TZ).timestamp()
DAY = 86400.0
ROOT = Path(__file__).resolve().parent.parent
GENERATOR = "A7F1C3B2"
PAGER = "CaseGgfwAll1$Pager"
DOCUMENTED = "{item: tr.HeadStyleOfDataGridItemStyle}"  # PLATFORMS.md's row selector

# 徐州: four pages of three cases: (id, title, status, days since it was accepted). The one
# case in progress for four months is on page 3: only a board read that far sees the veto.
CASES = [
    [(4001, "咨询A市公积金贷款额度问题", "已办结", 2),
     (4002, "反映A2区夜间施工噪音", "已办结", 3),
     (4003, "咨询A市居住证办理流程", "已反馈", 3)],
    [(4004, "反映A3区小区停车位被占用", "已办结", 5),
     (4005, "咨询A市医保异地备案", "已反馈", 6),
     (4006, "建议A市增设公交站台", "已办结", 8)],
    [(4007, "反映A5区农村道路破损无人修", "办理中", 120),
     (4008, "咨询A市人才补贴申领", "已办结", 9),
     (4009, "反映A1区路灯不亮", "已办结", 10)],
    [(4010, "反映A4区供暖不热", "办理中", 200),
     (4011, "咨询A市落户政策", "已办结", 12),
     (4012, "反映A2区垃圾清运不及时", "已办结", 13)],
]  # fmt: skip
ALL = {c[0]: c for page in CASES for c in page}


async def form_of(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


def view_state(page: int) -> str:
    return f"/wEPDwUKLTk{page:04d}ZGQ="


def validation(state: str) -> str:
    return hashlib.sha256(f"{GENERATOR}{state}".encode()).hexdigest()[:24]


@dataclass
class WebForms:
    """The 徐州 server: what it was posted, and the pages it fails on purpose."""

    posts: list[dict[str, str]] = field(default_factory=list)
    failing: set[int] = field(default_factory=set)
    ignore_postbacks: bool = False
    case_reads: list[int] = field(default_factory=list)

    def page(self, number: int) -> str:
        rows = "".join(
            f'<tr class="HeadStyleOfDataGridItemStyle"><td><font>{n}</font></td><td><font>{cid}'
            f"</font></td><td><font><a onclick=\"window.open('../ggfw_detail.aspx?id={cid}')\">"
            f"{title}</a></font></td><td><font>咨询</font></td><td><font>市住房和城乡建设局</font>"
            f"</td><td><font>{status}</font></td></tr>"
            for n, (cid, title, status, _) in enumerate(CASES[number - 1], start=1)
        )
        state = view_state(number)
        more = number < len(CASES)  # the last page's next links are disabled: no href
        pager = (f"<a href=\"javascript:__doPostBack('{PAGER}','{number + 1}')\">下一页</a>"
                 if more else "<a>下一页</a>")  # fmt: skip
        button = (  # a LinkButton: the same event on every page, the state says which
            '<a id="lnkNext" href="javascript:WebForm_DoPostBackWithOptions(new '
            'WebForm_PostBackOptions(&quot;lnkNext&quot;, &quot;&quot;, true, &quot;&quot;, '
            '&quot;&quot;, false, true))">后一页</a>' if more else "<a>后一页</a>"
        )  # fmt: skip
        hidden = (
            '<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="">'
            '<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="">'
            f'<div class="aspNetHidden"><input type="hidden" name="__VIEWSTATE" value="{state}">'
            f'<input type="hidden" name="__VIEWSTATEGENERATOR" value="{GENERATOR}">'
            f'<input type="hidden" name="__EVENTVALIDATION" value="{validation(state)}"></div>'
        )
        return (
            '<html><body><ul class="nav"><li><a href="/">首页</a></li><li><a href="/hdjl/">'
            '互动交流</a></li></ul><form method="post" action="./ggfw_slgs.aspx" id="form1">'
            f'{hidden}<input name="txtKeyword" type="text" value="">'
            '<input type="submit" name="btnSearch" value="查询">'
            f"<table>{rows}</table>"
            f'<div id="CaseGgfwAll1_Pager">共{len(CASES)}页 {pager}'
            f'<input name="{PAGER}_input" type="text" value="{number}"></div>'
            f'<p class="next">{button}</p>'
            "</form></body></html>"
        )

    def app(self) -> Starlette:
        async def listing(request: Request) -> Response:
            if request.method == "GET":
                return HTMLResponse(self.page(1))
            form = await form_of(request)
            self.posts.append(form)
            if "btnSearch" in form:  # a click on 查询: a search, not a page
                return HTMLResponse("<html><body><form><p>没有找到相关记录</p></form></body>")
            state = form.get("__VIEWSTATE", "")
            if (
                form.get("__VIEWSTATEGENERATOR") != GENERATOR
                or form.get("__EVENTVALIDATION") != validation(state)
                or form.get("__EVENTTARGET") not in (PAGER, "lnkNext")
            ):
                return PlainTextResponse("Validation of viewstate MAC failed.", status_code=500)
            if self.ignore_postbacks:
                return HTMLResponse(self.page(1))
            wanted = (
                int(form["__EVENTARGUMENT"]) if form["__EVENTTARGET"] == PAGER
                else int(state.removeprefix("/wEPDwUKLTk")[:4]) + 1
            )  # fmt: skip
            if wanted in self.failing:
                return PlainTextResponse("Server Error in '/' Application.", status_code=500)
            return HTMLResponse(self.page(min(wanted, len(CASES))))

        async def case(request: Request) -> Response:
            cid = int(request.query_params["id"])
            self.case_reads.append(cid)
            accepted = dt.datetime.fromtimestamp(NOW - ALL[cid][3] * DAY, CN_TZ)
            state = ALL[cid][2]
            return HTMLResponse(
                "<html><body><table><tr><td>受理日期：</td><td>"
                f'<span id="CaseDetail_lbl_requestDate">{accepted:%Y-%m-%d %H:%M}</span></td>'
                f'</tr><tr><td>办理状态：</td><td><span id="CaseDetail_lbl_state">{state}</span>'
                "</td></tr></table></body></html>"
            )

        return Starlette(routes=[
            Route("/xzbmweb/ywxxtemplate/ggfw_slgs.aspx", listing, methods=["GET", "POST"]),
            Route("/xzbmweb/ggfw_detail.aspx", case),
        ])  # fmt: skip


@pytest.fixture
def webforms() -> WebForms:
    return WebForms()


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    settings, clock = parse_config("").global_, FrozenClock(NOW)
    async with open_fetcher(settings, clock=clock) as fetcher, open_page_workers() as pages:
        with Store.open(":memory:") as store:
            yield Runtime(fetcher, store, clock, settings, pages)


def xuzhou(
    base: str, max_pages: int = 3, paging: str | None = None, rows: str = DOCUMENTED
) -> ChannelConfig:
    """docs/boards.md's 徐州 example, pointed at the local server (`rows`: its row
    selectors, or {} for auto-detection)."""
    paging = paging if paging is not None else (
        f"postback: {{target: '{PAGER}', argument: '{{page}}', "
        f"fields: {{'{PAGER}_input': '{{index}}'}}}}"
    )  # fmt: skip
    config = parse_config(f"""
channels:
  - name: xz12345
    kind: board
    owner: 徐州市
    url: {base}/xzbmweb/ywxxtemplate/ggfw_slgs.aspx
    checks:
      board:
        selectors: {rows}
        id_pattern: 'id=(\\d+)'
        max_pages: {max_pages}
        {paging}
""")  # fmt: skip
    found = config.channel("xz12345")
    assert found is not None
    return found


async def run(rt: Runtime, ch: ChannelConfig) -> tuple[CheckResult, Verdict]:
    verdict, (result,) = await run_channel(rt, ch)
    return result, verdict


def ids(rt: Runtime, channel: str) -> set[str]:
    return {m.id for m in tracked.messages(rt.store, channel)}


def ids_of_pages(*numbers: int) -> set[str]:
    return {str(c[0]) for n in numbers for c in CASES[n - 1]}


@pytest.mark.parametrize("rows", [DOCUMENTED, "{}"], ids=["documented", "auto"])
async def test_webforms_board_reads_later_pages_by_posting_back_each_pages_form(
    webforms: WebForms, runtime: Runtime, rows: str
) -> None:
    async with serve_app(webforms.app()) as base:
        result, verdict = await run(runtime, xuzhou(base, rows=rows))
    assert result.success is True, result.error
    assert ids(runtime, "xz12345") == ids_of_pages(1, 2, 3)  # page 4 is past max_pages
    # each postback asks for the next page, with the hidden state of the page before it
    assert [(p["__EVENTARGUMENT"], p[f"{PAGER}_input"], p["__VIEWSTATE"]) for p in webforms.posts
            ] == [("2", "1", view_state(1)), ("3", "2", view_state(2))]  # fmt: skip
    assert all("btnSearch" not in p and p["txtKeyword"] == "" for p in webforms.posts)
    assert result.evidence[0].startswith("read 3 list page(s): 9 messages")
    assert not any("only list page 1 read" in line for line in result.evidence)
    # the case in progress for four months is on page 3
    assert verdict.state is State.ZOMBIE, verdict.summary
    assert [r.code for r in verdict.reasons] == ["board_unanswered"]


@pytest.mark.parametrize(
    ("next_link", "events"),
    [
        ("'#CaseGgfwAll1_Pager a'", [(PAGER, "2"), (PAGER, "3"), (PAGER, "4")]),
        ("'p.next a'", [("lnkNext", "")] * 3),  # a LinkButton: told apart by the state
    ],
    ids=["pager-link", "link-button"],
)
async def test_a_next_page_link_that_posts_back_is_followed_as_a_click(
    webforms: WebForms, runtime: Runtime, next_link: str, events: list[tuple[str, str]]
) -> None:
    async with serve_app(webforms.app()) as base:
        result, _ = await run(runtime, xuzhou(base, 5, f"next_page: {next_link}"))
    assert [(p["__EVENTTARGET"], p["__EVENTARGUMENT"]) for p in webforms.posts] == events
    assert [p["__VIEWSTATE"] for p in webforms.posts] == [view_state(n) for n in (1, 2, 3)]
    assert ids(runtime, "xz12345") == ids_of_pages(1, 2, 3, 4)  # page 4's link is disabled
    assert result.evidence[0].startswith("read 4 list page(s): 12 messages")


@pytest.mark.parametrize(
    ("link", "said"),
    [
        ('<a class="next" href="javascript:goPage(2)">下一页</a>', "'javascript:goPage(2)'"),
        ('<a class="next" href="#" onclick="turnPage(2); return false">下一页</a>',
         "'turnPage(2); return false'"),
        ('<a class="next">下一页</a>', None),  # disabled: the last page
        ('<a class="next" href="javascript:void(0);">下一页</a>', None),
        ('<a class="next" href="javascript:;" onclick="return false">下一页</a>', None),
    ],
    ids=["javascript-href", "onclick", "disabled", "void", "return-false"],
)  # fmt: skip
async def test_a_next_page_link_that_only_runs_a_script_is_told_not_silently_dropped(
    runtime: Runtime, link: str, said: str | None
) -> None:
    async def listing(request: Request) -> Response:
        rows = "".join(
            f'<li><a href="/msg/{n}.html">关于第{n}号问题的咨询</a><span>已回复</span>'
            f"<span>{dt.datetime.fromtimestamp(NOW - n * DAY, CN_TZ):%Y-%m-%d}</span></li>"
            for n in range(1, 6)
        )
        return HTMLResponse(f"<html><body><ul>{rows}</ul>{link}</body></html>")

    async with serve_app(Starlette(routes=[Route("/list", listing)])) as base:
        config = parse_config(f"""
channels:
  - name: b
    kind: board
    owner: 某市
    url: {base}/list
    checks:
      board: {{next_page: a.next}}
""")  # fmt: skip
        ch = config.channel("b")
        assert ch is not None
        result, _ = await run(runtime, ch)
    assert result.evidence[0].startswith("read 1 list page(s): 5 messages")
    notes = [line for line in result.evidence if "runs a script" in line]
    if said is None:
        assert notes == []
    else:
        assert len(notes) == 1 and said in notes[0], result.evidence
        assert "later pages not read (set page_url_template or page_form)" in notes[0]


async def test_a_postback_with_a_fixed_argument_pages_by_the_state_it_posts_back(
    webforms: WebForms, runtime: Runtime
) -> None:
    # a "next" LinkButton (a GridView's Page$Next alike): the same event on every page
    async with serve_app(webforms.app()) as base:
        result, _ = await run(runtime, xuzhou(base, 3, "postback: {target: lnkNext, argument: ''}"))
    assert [(p["__EVENTTARGET"], p["__EVENTARGUMENT"]) for p in webforms.posts] == [
        ("lnkNext", "")
    ] * 2
    assert ids(runtime, "xz12345") == ids_of_pages(1, 2, 3)
    assert result.evidence[0].startswith("read 3 list page(s): 9 messages")


async def test_the_pager_input_is_carried_from_the_page_when_no_field_sets_it(
    webforms: WebForms, runtime: Runtime
) -> None:
    # A GridView-style config naming only the pager: the page's own input box (it shows
    # the page it is on) goes back as the form has it.
    async with serve_app(webforms.app()) as base:
        await run(runtime, xuzhou(base, 2, f"postback: {{target: '{PAGER}'}}"))
    assert ids(runtime, "xz12345") == ids_of_pages(1, 2)
    assert [p[f"{PAGER}_input"] for p in webforms.posts] == ["1"]


@pytest.mark.parametrize("max_pages", [1, 2, 4])
async def test_webforms_pages_are_bounded_by_max_pages(
    webforms: WebForms, runtime: Runtime, max_pages: int
) -> None:
    async with serve_app(webforms.app()) as base:
        result, _ = await run(runtime, xuzhou(base, max_pages))
    assert len(webforms.posts) == max_pages - 1
    assert ids(runtime, "xz12345") == ids_of_pages(*range(1, max_pages + 1))
    assert result.evidence[0].startswith(f"read {max_pages} list page(s)")


async def test_a_failed_postback_page_is_told_and_its_tracked_messages_still_followed(
    webforms: WebForms, runtime: Runtime
) -> None:
    async with serve_app(webforms.app()) as base:
        ch = xuzhou(base)
        _, verdict = await run(runtime, ch)
        assert verdict.state is State.ZOMBIE
        # Next run, page 3 fails: pages 1 and 2 are read, the failure is in the evidence,
        # and the case in progress for four months, now unseen on the list, is followed
        # through its own page: still the veto, never "all answered".
        clock = runtime.clock
        assert isinstance(clock, FrozenClock)
        clock.advance(3600)
        webforms.failing = {3}
        webforms.case_reads.clear()
        result, verdict = await run(runtime, ch)
    assert result.success is True, result.error
    assert any(
        "list page 3 (POST " in line and "http_status: got 500; later pages not read" in line
        for line in result.evidence
    ), result.evidence
    assert result.evidence[0].startswith("read 2 list page(s): 6 messages")
    assert 4007 in webforms.case_reads
    assert verdict.state is State.ZOMBIE, verdict.summary
    assert [r.code for r in verdict.reasons] == ["board_unanswered"]


async def test_undated_rows_past_max_detail_pages_are_read_on_later_runs(
    webforms: WebForms, runtime: Runtime
) -> None:
    # 徐州's rows have no date: each is dated by its own page, at most max_detail_pages a
    # run. With 4: page 1's three and one of page 2's; page 3 waits, and says so.
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    async with serve_app(webforms.app()) as base:
        ch = xuzhou(base, paging=f"max_detail_pages: 4\n        postback: {{target: '{PAGER}'}}")
        result, _ = await run(runtime, ch)
        assert ids(runtime, "xz12345") == ids_of_pages(1) | {"4004"}
        assert any("list page 3 (POST " in line and "wait for their own pages" in line
                   for line in result.evidence), result.evidence  # fmt: skip
        for _ in range(2):
            clock.advance(3600)
            result, verdict = await run(runtime, ch)
    assert ids(runtime, "xz12345") == ids_of_pages(1, 2, 3)
    assert verdict.state is State.ZOMBIE, verdict.summary  # page 3's case, once dated


async def test_a_first_postback_failing_on_a_new_board_says_so(
    webforms: WebForms, runtime: Runtime
) -> None:
    webforms.failing = {2}
    async with serve_app(webforms.app()) as base:
        result, verdict = await run(runtime, xuzhou(base))
    assert ids(runtime, "xz12345") == ids_of_pages(1)
    assert any("list page 2 (POST " in line and "got 500" in line for line in result.evidence)
    assert verdict.state is State.OK, verdict.summary  # page 1's cases are all answered


async def test_a_site_that_ignores_the_postback_is_not_read_as_more_pages(
    webforms: WebForms, runtime: Runtime
) -> None:
    webforms.ignore_postbacks = True  # answers page 1 again
    async with serve_app(webforms.app()) as base:
        result, _ = await run(runtime, xuzhou(base))
    assert len(webforms.posts) == 1
    assert result.evidence[0].startswith("read 1 list page(s): 3 messages")
    assert any("shows only messages of earlier pages: the site did not page on" in line
               for line in result.evidence)  # fmt: skip


async def test_a_webforms_board_without_paging_says_it_read_page_1_only(
    webforms: WebForms, runtime: Runtime
) -> None:
    async with serve_app(webforms.app()) as base:
        result, _ = await run(runtime, xuzhou(base, paging=""))
    assert webforms.posts == []
    assert any("only list page 1 read: no pagination configured" in line
               for line in result.evidence)  # fmt: skip


@pytest.mark.parametrize(
    ("controls", "sent"),
    [
        ('<input type="hidden" name="__VIEWSTATE" value="/wE=">', [("__VIEWSTATE", "/wE=")]),
        ('<input name="q">', [("q", "")]),  # a text box without a value: sent empty
        ('<input type="submit" name="btnSearch" value="查询"><input type="image" name="go">'
         '<input type="button" name="b" value="x">', []),  # buttons: a click, not a field
        ('<input type="checkbox" name="a" value="1"><input type="checkbox" name="b" checked>',
         [("b", "on")]),
        ('<input type="radio" name="r" value="x"><input type="radio" name="r" value="y" checked>',
         [("r", "y")]),
        ('<select name="s"><option value="1">一</option><option value="2" selected>二</option>'
         '</select><select name="t"><option>全部</option></select>', [("s", "2"), ("t", "全部")]),
        ('<textarea name="memo">留言</textarea><input name="d" value="x" disabled>',
         [("memo", "留言")]),
    ],
    ids=["hidden", "text", "buttons", "checkbox", "radio", "select", "textarea-disabled"],
)  # fmt: skip
def test_a_postback_sends_the_fields_a_browser_would(
    controls: str, sent: list[tuple[str, str]]
) -> None:
    page = f'<html><body><form method="post" action="list.aspx?x=1">{controls}</form></body>'
    form = postback_form(page, "http://b.gov.cn/web/list.aspx")
    assert form is not None
    assert form.action == "http://b.gov.cn/web/list.aspx?x=1"
    assert list(form.fields) == sent


def test_the_form_holding_the_view_state_is_the_one_posted_back() -> None:
    page = ('<form method="post" action="/search.aspx"><input name="kw" value=""></form>'
            '<form method="post" id="form1"><input type="hidden" name="__VIEWSTATE" value="v">'
            "</form>")  # fmt: skip
    form = postback_form(page, "http://b.gov.cn/list.aspx")
    assert form == PostbackForm("http://b.gov.cn/list.aspx", (("__VIEWSTATE", "v"),))
    assert postback_form("<html><body><a href='?p=2'>下一页</a></body></html>", "http://b/") is None


# 成都 and 莱芜: list pages asked for by a POST form.
@dataclass
class Posted:
    asked: list[tuple[dict[str, str], dict[str, str]]] = field(default_factory=list)

    def app(self) -> Starlette:
        def row(n: int) -> str:
            when = dt.datetime.fromtimestamp(NOW - n * DAY, CN_TZ)
            state = "办理中" if n % 5 == 0 else "已办结"
            return (
                f'<tr class="tr_css"><td>LW{n:05d}</td><td><a href="mailview.action?id={n}">'
                f"关于第{n}号问题的咨询</a></td><td>{state}</td><td>{when:%Y-%m-%d}</td></tr>"
            )

        async def laiwu(request: Request) -> Response:
            form = await form_of(request)
            self.asked.append((dict(request.query_params), form))
            if form.get("sysid") != "1":
                return HTMLResponse("<html><body>参数错误</body></html>", status_code=400)
            start = int(request.query_params["startrecord"])
            end = min(int(request.query_params["endrecord"]), 150)
            records = "".join(f"<record><![CDATA[{row(n)}]]></record>"
                              for n in range(start, end + 1))  # fmt: skip
            return Response(
                f"<datastore><totalrecord>150</totalrecord><recordset>{records}</recordset>"
                "</datastore>", media_type="text/xml",
            )  # fmt: skip

        async def chengdu(request: Request) -> Response:
            form = await form_of(request)
            self.asked.append((dict(request.query_params), form))
            page = int(form.get("pageID") or 1)  # the form says the page, not the URL
            items = "".join(
                f'<li><a href="openWorkDetail?id={n}"><div>关于第{n}号诉求的处理</div><div></div>'
                f"<div>市住建局</div><div>咨询</div><div>{n * 7}</div><div>"
                f"{dt.datetime.fromtimestamp(NOW - n * DAY, CN_TZ):%Y-%m-%d}</div>"
                f"<div>{'办理中' if n % 4 == 0 else '已办结'}</div></a></li>"
                for n in range((page - 1) * 15 + 1, page * 15 + 1)
            )
            header = "<li><div>标题</div><div>办理单位</div><div>类别</div><div>时间</div></li>"
            return HTMLResponse(
                f'<html><body><div class="left5"><ul>{header}{items}</ul></div></body></html>'
            )

        return Starlette(routes=[
            Route("/jact/front/dataproxy_mailnewlist.action", laiwu, methods=["POST"]),
            Route("/openWorkList", chengdu, methods=["POST"]),
        ])  # fmt: skip


@pytest.mark.parametrize(
    ("form", "pages"),
    [('{pageID: "{page}"}', 3),
     # the page number in the URL only: this server answers page 1 to every post
     ("{}", 1)],
    ids=["page-in-form", "form-without-page"],
)  # fmt: skip
async def test_chengdu_pages_are_posted_with_the_page_number_in_the_form(
    runtime: Runtime, form: str, pages: int
) -> None:
    posted = Posted()
    async with serve_app(posted.app()) as base:
        config = parse_config(f"""
channels:
  - name: cd12345
    kind: board
    owner: 成都市
    url: {base}/openWorkList?page=1
    checks:
      board:
        page_url_template: {base}/openWorkList?page={{page}}
        page_form: {form}
        max_pages: 3
""")  # fmt: skip
        ch = config.channel("cd12345")
        assert ch is not None
        result, _ = await run(runtime, ch)
    assert result.success is True, result.error
    # with the page in the form, pages 1-3; without, page 2 comes back as page 1: the end
    assert [q["page"] for q, _ in posted.asked] == (["1", "2", "3"] if pages == 3 else ["1", "2"])
    assert len(ids(runtime, "cd12345")) == 15 * pages
    assert result.evidence[0].startswith(f"read {pages} list page(s): {15 * pages} messages")
    repeated = [line for line in result.evidence if "the site did not page on" in line]
    assert len(repeated) == (pages == 1)


async def test_laiwu_record_ranges_are_asked_by_start_and_end_record(runtime: Runtime) -> None:
    posted = Posted()
    async with serve_app(posted.app()) as base:
        proxy = f"{base}/jact/front/dataproxy_mailnewlist.action"
        config = parse_config(f"""
channels:
  - name: laiwu
    kind: board
    owner: 莱芜市
    url: {proxy}?startrecord=1&endrecord=57&perpage=19&groupSize=3
    checks:
      board:
        page_url_template: {proxy}?startrecord={{start}}&endrecord={{end}}&perpage=19&groupSize=3
        page_size: 57
        page_form: {{sysid: "1", datadetailid: "null", dicvalue: "null", orderfield: "1"}}
        id_pattern: 'id=(\\d+)'
        max_pages: 5
""")  # fmt: skip
        ch = config.channel("laiwu")
        assert ch is not None
        result, verdict = await run(runtime, ch)
    assert result.success is True, result.error
    # records 1-57, 58-114, 115-171 (the proxy has 150); the fourth range is empty: the end
    ranges = [(q["startrecord"], q["endrecord"]) for q, _ in posted.asked]
    assert ranges == [("1", "57"), ("58", "114"), ("115", "171"), ("172", "228")]
    assert ids(runtime, "laiwu") == {str(n) for n in range(1, 151)}
    assert verdict.state is State.ZOMBIE  # 办理中 since 150 days ago (every fifth record)


@pytest.mark.parametrize(
    ("board", "words"),
    [
        ("page_url_template: 'http://b.gov.cn/list_{pg}.html'", "unknown placeholder {pg}"),
        ("page_url_template: 'http://b.gov.cn/list?s={start}'", "need page_size"),
        ("page_url_template: 'http://b.gov.cn/list.html'", "needs a placeholder"),
        ("page_form: {pageID: '1'}", "page_form without page_url_template needs a placeholder"),
        ("postback: {target: 'P$Pager', fields: {__EVENTARGUMENT: '{page}'}}",
         "__EVENTARGUMENT is set by target/argument"),
        ("postback: {target: 'P$Pager', argument: '{offset}'}", "counts pages"),
        ("postback: {target: 'P$Pager', argument: 'Page-{pg}'}", "unknown placeholder {pg}"),
        ("postback: {target: 'P$Pager'}, next_page: a.next", "not several"),
        ("postback: {target: 'P$Pager'}, page_form: {x: '{page}'}", "page_form posts pages"),
    ],
)  # fmt: skip
def test_bad_paging_config_names_the_field_and_why(board: str, words: str) -> None:
    text = f"""channels:
  - name: b
    kind: board
    owner: 某市
    url: http://b.gov.cn/
    checks:
      board: {{{board}}}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert words in str(caught.value)
    assert "board" in str(caught.value)


def test_the_documented_xuzhou_example_is_valid_config() -> None:
    text = (ROOT / "docs" / "boards.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    channel = next(b for b in blocks if "CaseGgfwAll1$Pager" in b)
    spec = parse_config("channels:\n" + channel).channels[0].checks.board
    assert spec is not None and spec.postback is not None
    assert (spec.postback.target, spec.postback.argument) == (PAGER, "{page}")
    assert spec.postback.fields == {f"{PAGER}_input": "{index}"}
