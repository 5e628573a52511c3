"""JSON page bodies of bounded depth: a list API or a service answering JSON nested
100,000 deep gives a check that fails with the reason (unknown column, failed assertion),
never a RecursionError; the bound is the one call records are decoded with."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from probes.clock import FrozenClock
from probes.config import parse_config
from probes.demo.portal import serve_app
from probes.findings.freshness import FreshnessFindings
from probes.hotline.formats import decode_json as decode_record
from probes.hotline.records import MAX_DEPTH, RecordError, RejectReason
from probes.http.client import open_fetcher
from probes.kinds.pagework import open_page_workers
from probes.model import Failure
from probes.pages.extract import MAX_JSON_DEPTH, decode_json
from probes.runtime.runner import Runtime, run_channel
from probes.state.store import Store

DEEP = '{"code": 200, "data": {"list": ' + "[" * 100_000 + "]" * 100_000 + "}}"
TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


def nested(levels: int) -> str:
    return '{"a":' * (levels - 1) + "[1]" + "}" * (levels - 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (nested(MAX_JSON_DEPTH), True),
        (nested(MAX_JSON_DEPTH + 1), TOO_DEEP),
        (DEEP, TOO_DEEP),
        ("[" * 100_000, TOO_DEEP),  # never closed: the decoder would still descend
        ('{"t": "' + "[" * 5000 + '", "u": "\\"{{{{"}', True),  # brackets inside strings
        ("[" + ",".join(['{"id": [1, {"x": []}]}'] * 20_000) + "]", True),  # long, shallow
        ("<html>请开启JavaScript</html>", "not JSON"),
    ],
    ids=["at the bound", "one past", "100,000 deep", "unclosed run", "strings", "long list",
         "HTML"],
)  # fmt: skip
def test_a_json_body_is_decoded_or_refused_with_why(text: str, expected: bool | str) -> None:
    started = time.perf_counter()
    ok, value = decode_json(text)
    assert time.perf_counter() - started < 1.0
    assert (ok if expected is True else value) == expected


def alternating(levels: int) -> str:
    """Objects and lists in turn, `levels` deep: `{"a": [{"a": [...]}]}`."""
    opens = "".join('{"a": ' if i % 2 == 0 else "[" for i in range(levels))
    return opens + "1" + "".join("}" if i % 2 == 0 else "]" for i in reversed(range(levels)))


def test_call_records_are_held_to_their_own_bound_by_the_same_scan() -> None:
    assert decode_record(alternating(MAX_DEPTH)) is not None
    with pytest.raises(RecordError) as info:
        decode_record(alternating(MAX_DEPTH + 1))
    assert info.value.reason is RejectReason.TOO_LARGE
    assert decode_json(alternating(MAX_DEPTH + 1))[0]  # a page body may nest deeper


def app() -> Starlette:
    async def deep(request: Request) -> Response:
        return Response(DEEP, media_type="application/json")

    return Starlette(routes=[Route("/api/list", deep, methods=["GET", "POST"])])


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, Runtime]]:
    settings, clock = parse_config("").global_, FrozenClock(1_795_000_000.0)
    async with (
        serve_app(app(), name="deep-json") as base,
        open_fetcher(settings, clock=clock) as fetcher,
        open_page_workers() as pages,
    ):
        with Store.open(":memory:") as store:
            yield base, Runtime(fetcher, store, clock, settings, pages)


async def test_a_list_api_answering_deeply_nested_json_leaves_the_column_unknown(
    served: tuple[str, Runtime],
) -> None:
    base, rt = served
    channel = parse_config(f"""
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
            url: {base}/col/tzgg/
            api: {{url: {base}/api/list, items: data.list, fields: {{title: t, date: d}}}}
""").channel("site")  # fmt: skip
    assert channel is not None
    _, (result,) = await run_channel(rt, channel)
    assert isinstance(result.findings, FreshnessFindings)
    (column,) = result.findings.columns
    assert column.status == "unknown"
    assert "the list API answered no JSON" in column.reason
    assert "internal error" not in result.error


async def test_a_service_step_expecting_json_fails_its_assertion_on_deeply_nested_json(
    served: tuple[str, Runtime],
) -> None:
    base, rt = served
    channel = parse_config(f"""
channels:
  - name: svc
    kind: service
    owner: 市政务服务和数据管理局
    url: {base}/
    checks:
      service:
        steps:
          - {{name: query, url: /api/list, expect: {{json_exists: [$.data.list]}}}}
""").channel("svc")  # fmt: skip
    assert channel is not None
    _, (result,) = await run_channel(rt, channel)
    assert (result.success, result.failure) == (False, Failure.ASSERTION)
    assert f"assertion: body is {TOO_DEEP}" in result.error
