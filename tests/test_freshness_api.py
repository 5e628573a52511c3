"""Freshness columns whose list comes from a JSON API (`api:` on a column, the README's
example), served by a local HTTP server: a POST with a JSON body whose answer nests the items
(`{"code": 200, "data": {"list": [...]}}`), the shape of the site-search and
content-management APIs that script-rendered column pages call."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from probes.clock import FrozenClock
from probes.config import parse_config
from probes.demo.portal import serve_app
from probes.findings.freshness import ColumnFindings, FreshnessFindings
from probes.http.client import open_fetcher
from probes.kinds.pagework import open_page_workers
from probes.pages.dates import CN_TZ
from probes.runtime.runner import Runtime, run_channel
from probes.state.store import Store

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=CN_TZ)
DAY = 86400


def notice(n: int, days: int, *, millis: bool = False) -> dict[str, Any]:
    when = NOW - dt.timedelta(days=days)
    date: Any = int(when.timestamp() * 1000) if millis else f"{when:%Y-%m-%d %H:%M:%S}"
    return {"title": f"关于第{n}批事项的公告", "pubDate": date, "url": f"/art/{n}.html"}


@dataclass
class Api:
    """The local API's answer and what it was asked."""

    items: list[dict[str, Any]] = field(default_factory=list)
    code: int = 200
    asked: list[dict[str, Any]] = field(default_factory=list)
    walled: bool = False

    def app(self) -> Starlette:
        async def search(request: Request) -> Response:
            self.asked.append(json.loads(await request.body()))
            if self.walled:  # 加速乐 answers the API with its challenge, not JSON
                challenge = "<script>document.cookie=('_')+('_')+('j')+('s')+('l')</script>"
                return HTMLResponse(challenge, status_code=521)
            if self.code != 200:
                return JSONResponse({"code": self.code, "msg": "栏目不存在"})
            return JSONResponse({"code": 200, "data": {"total": len(self.items),
                                                       "list": self.items}})  # fmt: skip

        async def page(request: Request) -> Response:  # the column page: drawn by script
            return HTMLResponse('<div id="app"></div><script src="/list.js"></script>')

        return Starlette(routes=[Route("/api/content/list", search, methods=["POST"]),
                                 Route("/col/tzgg/index.html", page)])  # fmt: skip


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
async def served(api: Api) -> AsyncIterator[tuple[str, Runtime]]:
    settings, clock = parse_config("").global_, FrozenClock(NOW.timestamp())
    async with (
        serve_app(api.app(), name="column-api") as base,
        open_fetcher(settings, clock=clock) as fetcher,
        open_page_workers() as pages,
    ):
        with Store.open(":memory:") as store:
            yield base, Runtime(fetcher, store, clock, settings, pages)


async def column(base: str, rt: Runtime) -> ColumnFindings:
    (found,), _ = await run_column(base, rt)
    return found


async def run_column(base: str, rt: Runtime) -> tuple[tuple[ColumnFindings, ...], tuple[str, ...]]:
    config = parse_config(f"""
channels:
  - name: site
    kind: website
    owner: 某市人民政府
    url: {base}/
    checks:
      freshness:
        columns:
          - id: tzgg
            class: notice
            url: {base}/col/tzgg/index.html
            api:
              url: {base}/api/content/list
              method: POST
              body: {{columnId: 1234, pageSize: 15}}
              ok: {{path: code, equals: "200", error: msg}}
              items: data.list
              fields: {{title: title, date: pubDate, link: url}}
              paging: {{by: page, param: pageNo, start: 1}}
""")  # fmt: skip
    channel = config.channel("site")
    assert channel is not None
    _, (result,) = await run_channel(rt, channel)
    assert isinstance(result.findings, FreshnessFindings)
    return result.findings.columns, result.evidence


@pytest.mark.parametrize(
    ("items", "status", "newest_days"),
    [
        ([notice(3, 2), notice(2, 40), notice(1, 90)], "fresh", 2),
        ([notice(2, 200), notice(1, 400)], "stale", 200),
        ([notice(2, 5, millis=True), notice(1, 9, millis=True)], "fresh", 5),  # epoch ms
    ],
)
async def test_a_column_is_judged_by_the_newest_item_of_its_list_api(
    api: Api,
    served: tuple[str, Runtime],
    items: list[dict[str, Any]],
    status: str,
    newest_days: int,
) -> None:
    api.items = items
    base, rt = served
    found = await column(base, rt)
    assert api.asked == [{"columnId": 1234, "pageSize": 15, "pageNo": 1}]  # page 1 only
    assert (found.status, found.items) == (status, len(items))
    assert found.newest == pytest.approx(NOW.timestamp() - newest_days * DAY)
    assert found.newest_url == f"{base}/art/{items[0]['url'].split('/')[-1]}"
    assert found.newest_title == items[0]["title"]


async def test_an_empty_list_from_the_api_is_a_blank_column(
    api: Api, served: tuple[str, Runtime]
) -> None:
    base, rt = served
    found = await column(base, rt)
    assert (found.status, found.reason) == (
        "blank",
        "the list data.list of the list API has no items",
    )


async def test_an_api_that_says_it_failed_leaves_the_column_unknown_with_its_words(
    api: Api, served: tuple[str, Runtime]
) -> None:
    api.code, api.items = 404, [notice(1, 2)]
    base, rt = served
    found = await column(base, rt)
    assert found.status == "unknown"
    assert "the list API said '栏目不存在' at code" in found.reason


async def test_an_api_behind_an_anti_bot_challenge_is_blocked_not_unreadable(
    api: Api, served: tuple[str, Runtime]
) -> None:
    api.walled = True
    base, rt = served
    found = await column(base, rt)
    assert (found.status, found.code) == ("unknown", "blocked_by_waf")
    assert "加速乐" in found.reason


async def test_the_evidence_says_only_page_1_of_the_list_api_was_read(
    api: Api, served: tuple[str, Runtime]
) -> None:
    api.items = [notice(3, 2), notice(2, 40)]
    base, rt = served
    (found,), evidence = await run_column(base, rt)
    assert found.status == "fresh"
    assert "2 dated items on list API page 1 (newest first: later pages not read)" in evidence[0]


@pytest.mark.parametrize(
    ("items", "status"),
    [
        # oldest first, and page 1's newest is past the limit: its newest is on a later page
        ([notice(1, 900), notice(2, 800), notice(3, 700)], "unknown"),
        # oldest first but already fresh on page 1: fresh whatever later pages hold
        ([notice(1, 90), notice(2, 40), notice(3, 2)], "fresh"),
        # newest first under an old pinned item (置顶): its dates fall, page 1 is the truth
        ([notice(1, 700), notice(4, 300), notice(3, 350), notice(2, 400)], "stale"),
        # two items tell no order
        ([notice(1, 800), notice(2, 700)], "stale"),
    ],
    ids=["oldest-first-stale", "oldest-first-fresh", "pinned-on-top", "too-few"],
)
async def test_a_list_api_sorted_oldest_first_is_never_judged_stale_on_page_1(
    api: Api, served: tuple[str, Runtime], items: list[dict[str, Any]], status: str
) -> None:
    api.items = items
    base, rt = served
    found = await column(base, rt)
    assert found.status == status
    assert len(api.asked) == 1
    if status == "unknown":
        assert "page 1 lists oldest first" in found.reason
        assert "ask the API for newest first" in found.reason
