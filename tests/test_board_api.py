"""Boards whose list comes from a JSON API, served over HTTP by a local server in the
shape PLATFORMS.md documents: 人民网 领导留言板 (POST form `fid`, `lastItem` cursor =
the last `tid`, `pageSize`; `{"result": "success", "responseData": [...]}`; `stateInfo`
missing on waiting messages; `answerContent` once answered) and 北京 市民热线 (POST form
`PageCond/begin` row offset, `newComplainnList`, no status field)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from probes.clock import FrozenClock
from probes.config import ChannelConfig, parse_config
from probes.demo.portal import serve_app
from probes.http.client import open_fetcher
from probes.kinds.pagework import open_page_workers
from probes.model import CheckResult, Failure, State, Verdict
from probes.pages.dates import CN_TZ
from probes.runtime.runner import Runtime, run_channel
from probes.state import board as tracked
from probes.state.store import Store
from tests.measurements import measured

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=CN_TZ).timestamp()
DAY = 86400.0
ANSWER = "经核实，该路段已列入本月道路修缮计划，施工单位已进场，预计11月底前完工。"
INTERIM = "您的留言我们已收到，已转相关部门处理。"


def thread(
    tid: int, subject: str, days: float, state: str | None, answer: str = ""
) -> dict[str, Any]:
    item: dict[str, Any] = {"tid": tid, "subject": subject, "dateline": int(NOW - days * DAY),
                            "content": "留言内容", "typeName": "城建"}  # fmt: skip
    if state is not None:
        item["stateInfo"] = state
    if answer:
        item |= {"answerId": tid * 10, "answerContent": answer, "answerOrganization": "市住建局"}
    return item


THREADS = [  # newest first, as the API lists them
    thread(9005, "小区门口路灯不亮", 1, None),  # waiting: no stateInfo
    thread(9004, "中心城区停车难", 3, "已办理", ANSWER),
    thread(9003, "老旧小区加装电梯补贴", 20, "已办理", INTERIM),  # an interim reply only
    thread(9002, "农村公路破损", 40, "办理中"),
    thread(9001, "村道塌方无人管", 120, "已受理"),  # in progress for four months: the veto
]


@dataclass
class Api:
    """The local API server's data and what it was asked."""

    threads: list[dict[str, Any]] = field(default_factory=lambda: list(THREADS))
    result: str = "success"
    asked: list[dict[str, str]] = field(default_factory=list)
    session_needed: bool = False

    def app(self) -> Starlette:
        async def threads_list(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode()))
            self.asked.append(form)
            if request.headers.get("x-requested-with") != "XMLHttpRequest" or (
                self.session_needed and request.cookies.get("acw_tc") != "warm"
            ):
                return HTMLResponse("<html>403 Forbidden</html>", status_code=403)
            if self.result != "success":
                return JSONResponse({"result": self.result, "resultDesc": "参数错误"})
            last, size = int(form.get("lastItem", "0")), int(form.get("pageSize", "20"))
            older = [t for t in self.threads if last == 0 or t["tid"] < last]
            return JSONResponse({"result": "success", "responseData": older[:size]})

        async def beijing(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode()))
            self.asked.append(form)
            begin, length = int(form["PageCond/begin"]), int(form["PageCond/length"])
            rows = [{"originalId": f"AH{i:05d}", "letterTitle": f"咨询第{i}号问题",
                     "letterType": "1", "fomateWriteDate": "2026-11-10 09:30:00",
                     "writeUser": "市民"} for i in range(12)]  # fmt: skip
            return JSONResponse({"newComplainnList": rows[begin : begin + length]})

        async def complaint(request: Request) -> Response:
            # 北京's message page: handled for even ids, in progress for odd ones
            number = int(request.query_params["originalId"][2:])
            state = "已办结" if number % 2 == 0 else "办理中"
            return HTMLResponse(f"<html><body><p>处理状态：</p><p>{state}</p></body></html>")

        async def forum(request: Request) -> Response:
            page = HTMLResponse('<div id="app"></div><script src="/app.js"></script>')
            page.set_cookie("acw_tc", "warm")  # the WAF's session cookie
            return page

        return Starlette(routes=[
            Route("/pro-dfbbs-front/forum/list", forum),
            Route("/complainDetail.flow", complaint),
            Route("/pro-dfbbs-front/threads/queryThreadsList", threads_list, methods=["POST"]),
            Route("/com.web.complain.complain.moreNewComplain.biz.ext", beijing,
                  methods=["POST"]),
        ])  # fmt: skip


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
async def served(api: Api) -> AsyncIterator[tuple[str, Runtime]]:
    settings, clock = parse_config("").global_, FrozenClock(NOW)
    async with (
        serve_app(api.app(), name="board-api") as base,
        open_fetcher(settings, clock=clock) as fetcher,
        open_page_workers() as pages,
    ):
        with Store.open(":memory:") as store:
            yield base, Runtime(fetcher, store, clock, settings, pages)


def renmin(
    base: str, max_pages: int = 5, headers: bool = True, warm_up: bool = False
) -> ChannelConfig:
    """The README's worked example, pointed at the local server."""
    sent = (
        f"{{X-Requested-With: XMLHttpRequest, Referer: '{base}/pro-dfbbs-front/forum/list?fid=14'}}"
        if headers
        else "{}"
    )
    warm = f"\n          warm_up: {base}/pro-dfbbs-front/forum/list?fid=14" if warm_up else ""
    config = parse_config(f"""
channels:
  - name: leader-board
    kind: board
    owner: 浙江省
    url: {base}/pro-dfbbs-front/forum/list?fid=14
    checks:
      board:
        max_pages: {max_pages}
        api:
          url: {base}/pro-dfbbs-front/threads/queryThreadsList
          method: POST
          form: {{fid: "14", pageSize: "2"}}
          headers: {sent}{warm}
          ok: {{path: result, equals: success, error: resultDesc}}
          items: responseData
          fields: {{id: tid, title: subject, posted: dateline, status: stateInfo,
                    reply_text: answerContent}}
          link: {base}/threads/content?tid={{id}}
          paging: {{by: cursor, param: lastItem, start: 0, cursor: tid}}
""")  # fmt: skip
    found = config.channel("leader-board")
    assert found is not None
    return found


async def run(rt: Runtime, ch: ChannelConfig) -> tuple[CheckResult, Verdict]:
    verdict, (result,) = await run_channel(rt, ch)
    return result, verdict


async def test_renmin_shaped_api_is_read_by_cursor_with_statuses_counted(
    api: Api, served: tuple[str, Runtime]
) -> None:
    base, rt = served
    result, verdict = await run(rt, renmin(base))
    assert [a["lastItem"] for a in api.asked] == ["0", "9004", "9002", "9001"]
    assert result.evidence[0].startswith("read 4 list page(s): 5 messages")  # the 4th empty
    assert verdict.state is State.ZOMBIE, verdict.summary
    assert {r.code for r in verdict.reasons} == {"board_unanswered", "board_overdue"}
    assert measured(result, "board_messages", state="answered") == 1.0
    assert measured(result, "board_messages", state="unanswered") == 4.0
    stored = {m.id: m for m in tracked.messages(rt.store, "leader-board")}
    assert stored["9004"].url == f"{base}/threads/content?tid=9004"
    assert stored["9004"].reply_text == ANSWER
    assert any("老旧小区加装电梯补贴" in line and "interim reply only" in line
               for line in result.evidence)  # fmt: skip


async def test_api_pages_are_bounded_by_max_pages(api: Api, served: tuple[str, Runtime]) -> None:
    base, rt = served
    result, _ = await run(rt, renmin(base, max_pages=2))
    assert len(api.asked) == 2
    assert result.evidence[0].startswith("read 2 list page(s): 4 messages")


@pytest.mark.parametrize(
    ("result", "headers", "failure", "words"),
    [
        ("fail", True, Failure.PARSE_ERROR, "the list API said '参数错误' at result"),
        ("success", False, Failure.HTTP_STATUS, "got 403"),  # the WAF wants its headers
    ],
)
async def test_an_api_that_refuses_is_unknown_with_its_reason(
    api: Api,
    served: tuple[str, Runtime],
    result: str,
    headers: bool,
    failure: Failure,
    words: str,
) -> None:
    base, rt = served
    api.result = result
    got, verdict = await run(rt, renmin(base, headers=headers))
    assert got.success is None
    assert got.failure is failure
    assert words in got.error
    assert verdict.state is State.UNKNOWN


@pytest.mark.parametrize("pages", [False, True])
async def test_beijing_shaped_api_pages_by_offset_and_reads_answers_from_message_pages(
    api: Api, served: tuple[str, Runtime], pages: bool
) -> None:
    # Its list has no status: unknown, until a link to the message pages is configured.
    base, rt = served
    link = f"\n          link: '{base}/complainDetail.flow?originalId={{id}}'" if pages else ""
    config = parse_config(f"""
channels:
  - name: rexian
    kind: board
    owner: 北京市
    url: {base}/
    checks:
      board:
        api:
          url: {base}/com.web.complain.complain.moreNewComplain.biz.ext
          method: POST
          form: {{PageCond/length: "10", PageCond/isCount: "true"}}
          items: newComplainnList
          fields: {{id: originalId, title: letterTitle, posted: fomateWriteDate}}
          paging: {{by: offset, param: PageCond/begin, start: 0, step: 10}}{link}
""")  # fmt: skip
    ch = config.channel("rexian")
    assert ch is not None
    result, verdict = await run(rt, ch)
    assert [a["PageCond/begin"] for a in api.asked] == ["0", "10", "20"]
    assert len(tracked.messages(rt.store, "rexian")) == 12
    if not pages:
        assert result.success is None
        assert "cannot tell which messages are answered" in result.error
        assert verdict.state is State.UNKNOWN
    else:
        assert result.success is True, result.error
        assert measured(result, "board_messages", state="answered") == 6.0
        assert measured(result, "board_messages", state="unanswered") == 6.0
        assert verdict.state is State.DEGRADED  # posted 8 days ago: past the deadline


def test_the_documented_examples_are_valid_config() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "boards.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    channel = next(b for b in blocks if "queryThreadsList" in b)
    config = parse_config("channels:\n" + channel)
    spec = config.channels[0].checks.board
    assert spec is not None and spec.api is not None
    assert (spec.api.method, spec.api.items, spec.api.fields.id) == ("POST", "responseData", "tid")
    assert spec.api.paging is not None and spec.api.paging.by == "cursor"


@pytest.mark.parametrize(("warm_up", "read"), [(True, True), (False, False)])
async def test_a_warm_up_page_gives_the_session_cookie_the_api_wants(
    api: Api, served: tuple[str, Runtime], warm_up: bool, read: bool
) -> None:
    base, rt = served
    api.session_needed = True
    result, _ = await run(rt, renmin(base, warm_up=warm_up))
    assert (result.success is True) is read
    if not read:
        assert "got 403" in result.error
