"""The board check across runs, through the runner and a real state store: messages are
followed after they leave the pages read, a changed layout is UNKNOWN (never "all
answered"), pagination is bounded. The board is served in-process (httpx ASGI transport)
so each test can change it between runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from probes.clock import FrozenClock
from probes.config import ChannelConfig, parse_config
from probes.config.board import BoardSpec
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
BASE = "http://board.test"


@dataclass
class FakeBoard:
    """A board whose list (title, posted, status) and message pages tests change."""

    rows: list[tuple[int, str, float, str]] = field(default_factory=list)
    details: dict[int, str] = field(default_factory=dict)
    replies: dict[int, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    list_status: int = 200
    raw_list: str | None = None

    def app(self) -> Starlette:
        async def listing(request: Request) -> Response:
            if self.raw_list is not None:
                return HTMLResponse(self.raw_list, status_code=self.list_status)
            self.asked.append(request.url.query)
            page = int(request.query_params.get("page", "1"))
            cells = "".join(
                f'<tr><td><a href="/msg/{mid}">{title}</a></td><td>{day(posted)}</td>'
                f"<td>{status}</td></tr>"
                for mid, title, posted, status in self.rows
            )
            more = f'<a class="next" href="/list?page={page + 1}">下一页</a>'
            return HTMLResponse(f"<table>{cells}</table>{more}", status_code=self.list_status)

        async def message(request: Request) -> Response:
            mid = int(request.path_params["mid"])
            replies = "".join(f'<div class="reply">{r}</div>' for r in self.replies.get(mid, []))
            return HTMLResponse(f"<p>状态：{self.details.get(mid, '办理中')}</p>{replies}")

        return Starlette(routes=[Route("/list", listing), Route("/msg/{mid:int}", message)])


def day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, CN_TZ).strftime("%Y-%m-%d %H:%M")


def channel(extra: str = "") -> ChannelConfig:
    config = parse_config(
        f"""
channels:
  - name: board
    kind: board
    owner: 信访局
    url: {BASE}/list
    checks:
      board: {{id_pattern: '/msg/(\\d+)'{extra}}}
"""
    )
    found = config.channel("board")
    assert found is not None
    return found


@pytest.fixture
def board() -> FakeBoard:
    return FakeBoard()


@pytest.fixture
async def runtime(board: FakeBoard) -> AsyncIterator[Runtime]:
    # What `open_runtime` opens, with the board app as the client's transport.
    settings = parse_config("").global_
    clock = FrozenClock(NOW)
    transport = httpx.ASGITransport(app=board.app())
    async with (
        open_fetcher(settings, clock=clock, transport=transport) as fetcher,
        open_page_workers() as pages,
    ):
        with Store.open(":memory:") as store:
            yield Runtime(fetcher, store, clock, settings, pages)


async def run(rt: Runtime, ch: ChannelConfig) -> tuple[CheckResult, Verdict]:
    verdict, (result,) = await run_channel(rt, ch)
    return result, verdict


async def test_message_that_left_the_list_is_followed_until_answered(
    board: FakeBoard, runtime: Runtime
) -> None:
    ch = channel()
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    board.rows = [
        (1, "路灯不亮", NOW - 2 * DAY, "办理中"),
        (2, "垃圾清运", NOW - 3 * DAY, "已回复"),
    ]
    result, verdict = await run(runtime, ch)
    assert verdict.state is State.OK, verdict.summary
    assert measured(result, "board_messages", state="unanswered") == 1.0

    # Ten days on the message is off the list, and its own page says it is still waiting.
    clock.advance(10 * DAY)
    board.rows = [(m, f"新留言{m}", clock.now() - DAY, "已回复") for m in (3, 4, 5)]
    result, verdict = await run(runtime, ch)
    assert (verdict.state, [r.code for r in verdict.reasons]) == (State.DEGRADED,
                                                                   ["board_overdue"])  # fmt: skip
    assert any("路灯不亮" in line and "overdue" in line for line in result.evidence)
    assert measured(result, "board_overdue_messages") == 1.0
    assert measured(result, "board_oldest_unanswered_timestamp_seconds") == NOW - 2 * DAY

    # A day later its page says it was answered: the board is back to ok, and the reply
    # time is the run that first saw it answered.
    clock.advance(DAY)
    board.details[1] = "已回复"
    result, verdict = await run(runtime, ch)
    assert verdict.state is State.OK, verdict.summary
    assert measured(result, "board_messages", state="unanswered") == 0.0
    message = next(m for m in tracked.messages(runtime.store, "board") if m.id == "1")
    assert message.reply_time == clock.now()
    assert measured(result, "board_messages", state="answered_late") == 1.0


async def test_layout_change_after_messages_were_tracked_is_unknown(
    board: FakeBoard, runtime: Runtime
) -> None:
    ch = channel()
    board.rows = [(1, "路灯不亮", NOW - 2 * DAY, "已回复"), (2, "噪音", NOW - 3 * DAY, "已回复")]
    _, verdict = await run(runtime, ch)
    assert verdict.state is State.OK

    board.raw_list = '<div id="app">加载中…</div><ul><li><a href="/">首页</a></li></ul>'
    result, verdict = await run(runtime, ch)
    assert result.success is None
    assert result.failure is Failure.PARSE_ERROR
    assert "layout changed?" in result.error
    assert "2 messages were tracked" in result.error
    assert verdict.state is State.UNKNOWN
    assert measured(result, "board_messages", state="unanswered") is None


ROW = '<tr><td><a href="/msg/{0}">t{0}</a></td><td>{1}</td><td>{2}</td></tr>'


def table(status: str, n: int = 4) -> str:
    return "<table>" + "".join(ROW.format(i, "2026-11-01", status) for i in range(n)) + "</table>"


@pytest.mark.parametrize(
    ("page", "status", "extra", "failure", "words"),
    [
        ("<p>error</p>", 500, "", Failure.HTTP_STATUS, "got 500"),
        ("<html><body></body></html>", 200, "", Failure.PARSE_ERROR, "no messages found"),
        (
            table("查看"),
            200, "", Failure.PARSE_ERROR, "cannot tell which messages are answered",
        ),
        (
            table("已回复"),
            200, ", selectors: {item: 'tr', date: 'td.when'}", Failure.PARSE_ERROR,
            "4 rows",
        ),
        (
            table("已回复", 1),
            200, ", selectors: {item: 'ul.letters li'}", Failure.PARSE_ERROR, "'ul.letters li'",
        ),
    ],
)  # fmt: skip
async def test_unreadable_first_page_is_unknown_never_all_answered(
    board: FakeBoard,
    runtime: Runtime,
    page: str,
    status: int,
    extra: str,
    failure: Failure,
    words: str,
) -> None:
    board.raw_list, board.list_status = page, status
    board.details = {i: "留言详情" for i in range(4)}  # message pages without status words
    result, verdict = await run(runtime, channel(extra))
    assert result.success is None
    assert result.failure is failure
    assert words in result.error
    assert verdict.state is State.UNKNOWN
    assert [r.code for r in verdict.reasons] == ["evidence_missing"]


async def test_pagination_stops_at_max_pages(board: FakeBoard, runtime: Runtime) -> None:
    # Every page links to a next one; the check reads max_pages and no more.
    board.rows = [(1, "留言", NOW - DAY, "已回复")]
    result, _ = await run(runtime, channel(", next_page: a.next, max_pages: 3"))
    assert result.success is True
    assert result.evidence[0].startswith("read 3 list page(s)")


def test_one_off_board_spec_takes_selector_options_by_name() -> None:
    spec = BoardSpec.for_url(
        "http://b.gov.cn/list", {"item": "ul.list li", "status": "span.st", "max_pages": 2}
    )
    assert (spec.selectors.item, spec.selectors.status, spec.max_pages) == (
        "ul.list li",
        "span.st",
        2,
    )
    assert str(spec.url) == "http://b.gov.cn/list"


def test_boilerplate_count_is_reused_until_the_replies_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from probes.kinds import board as board_kind

    spec = BoardSpec()
    texts = ["留言已收悉。", "已转相关部门。", "经核实，路灯已于11月3日修复，恢复照明。"]
    owners = ["1", "2", "3"]
    calls: list[int] = []
    real = board_kind.count_boilerplate

    def counting(t: object, o: object, ti: object, s: BoardSpec) -> object:
        calls.append(1)
        return real(t, o, ti, s)  # type: ignore[arg-type]

    monkeypatch.setattr(board_kind, "count_boilerplate", counting)
    with Store.open(":memory:") as store:
        count = board_kind._cached_counter(store, "board")
        titles = ["路灯", "噪音", "井盖"]
        first = count(texts, owners, titles, spec)
        again = count(texts, owners, titles, spec)
        more = [*texts, "您的意见很好，我们高度重视。"]
        changed = count(more, [*owners, "4"], [*titles, "停车"], spec)
        stricter = count(texts, owners, titles, BoardSpec(min_substance_chars=100))
    assert (first.replies, first.flagged) == (3, 2)
    assert again == first
    assert (changed.replies, changed.flagged) == (4, 3)
    assert stricter.flagged == 3  # settings are part of the fingerprint
    assert len(calls) == 3


@pytest.mark.parametrize(
    ("today", "state"),
    [
        # 5 working days after Tuesday 9-29: 9-30, 10-08, 10-09, Saturday 10-10 (an
        # adjusted workday) and Monday 10-12; a Monday-Friday count would end on 10-07.
        (dt.datetime(2026, 10, 8, 17, 0, tzinfo=CN_TZ), State.OK),
        (dt.datetime(2026, 10, 12, 9, 0, tzinfo=CN_TZ), State.OK),
        (dt.datetime(2026, 10, 12, 11, 0, tzinfo=CN_TZ), State.DEGRADED),
    ],
)
async def test_reply_deadline_across_national_day(
    board: FakeBoard, runtime: Runtime, today: dt.datetime, state: State
) -> None:
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(today.timestamp() - clock.now())
    posted = dt.datetime(2026, 9, 29, 10, 0, tzinfo=CN_TZ).timestamp()
    board.rows = [(1, "国庆前的留言", posted, "办理中")]
    result, verdict = await run(runtime, channel())
    assert verdict.state is state, verdict.summary
    assert measured(result, "board_overdue_messages") == float(state is State.DEGRADED)
    assert any("reply due 2026-10-12" in line for line in result.evidence)


async def test_interim_reply_leaves_the_message_in_progress_until_answered(
    board: FakeBoard, runtime: Runtime
) -> None:
    ch = channel(", detail: {reply: div.reply}")
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    # The list says 已回复, but the only reply forwards the message: four months on, that
    # is the 3-month veto, not an answered board.
    board.rows = [(1, "村道破损", NOW - 120 * DAY, "已回复"), (2, "路灯", NOW - DAY, "已回复")]
    board.replies = {
        1: ["您的留言我们已收到，已转相关部门处理。"],
        2: ["经核实，路灯线路已于昨日更换，现已恢复照明。"],
    }
    result, verdict = await run(runtime, ch)
    assert verdict.state is State.ZOMBIE, verdict.summary
    assert [r.code for r in verdict.reasons] == ["board_unanswered"]
    assert any("村道破损" in line and "interim reply only" in line for line in result.evidence)

    # The real answer arrives: answered, at the time it was first seen.
    clock.advance(DAY)
    board.replies[1].append("村道已列入本月修缮计划，施工队已进场，预计月底完工。")
    result, verdict = await run(runtime, ch)
    assert verdict.state is State.OK, verdict.summary
    message = next(m for m in tracked.messages(runtime.store, "board") if m.id == "1")
    assert message.reply_text == "村道已列入本月修缮计划，施工队已进场，预计月底完工。"
    assert message.reply_time == clock.now()


@pytest.mark.parametrize(
    ("extra", "said"),
    [("", True), (", next_page: a.next, max_pages: 1", False),
     (f", page_url_template: '{BASE}/list?page={{page}}', max_pages: 1", False)],
)  # fmt: skip
async def test_a_board_read_on_page_1_only_says_why(
    board: FakeBoard, runtime: Runtime, extra: str, said: bool
) -> None:
    board.rows = [(1, "留言", NOW - DAY, "已回复")]
    result, _ = await run(runtime, channel(extra))
    note = "only list page 1 read: no pagination configured"
    assert any(note in line for line in result.evidence) is said


async def test_list_pages_by_row_offset(board: FakeBoard, runtime: Runtime) -> None:
    # sun0769: `page` is a row offset in steps of 30 (page 2 is page=30)
    board.rows = [(1, "留言", NOW - DAY, "已回复")]
    extra = f", page_url_template: '{BASE}/list?page={{offset}}', page_size: 30, max_pages: 3"
    result, _ = await run(runtime, channel(extra))
    assert board.asked == ["", "page=30", "page=60"]
    assert result.evidence[0].startswith("read 3 list page(s)")


@pytest.mark.parametrize(
    ("title", "unresolved"),
    [("再次反映幸福路路灯长期不亮的问题", True), ("再次反映人民路噪音扰民", False)],
)  # fmt: skip
async def test_an_answer_followed_by_the_same_complaint_again_is_unresolved(
    board: FakeBoard, runtime: Runtime, title: str, unresolved: bool
) -> None:
    ch = channel()
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    board.rows = [(1, "反映幸福路路灯长期不亮的问题", NOW - 2 * DAY, "已回复")]
    _, verdict = await run(runtime, ch)
    assert verdict.state is State.OK
    clock.advance(5 * DAY)
    board.rows = [(2, title, clock.now() - DAY, "已回复"), *board.rows]
    result, verdict = await run(runtime, ch)
    assert ({r.code for r in verdict.reasons} == {"board_unresolved"}) is unresolved
    assert (verdict.state is State.DEGRADED) is unresolved
    if unresolved:
        assert any("(2) posted again after the answer to" in line and "(1)" in line
                   for line in result.evidence)  # fmt: skip
