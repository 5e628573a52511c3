"""Values carried between service steps: the small JSON path subset, CSS and regex
extraction, and the step assertions that read a response."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from probes.config.service import ServiceSpec
from probes.http.fetcher import Page
from probes.kinds.service import assess, fill, fill_json, step_headers
from probes.model import Failure
from probes.pages.extract import JsonPathError, extract, json_get, parse_json_path

DOC = {"code": 0, "data": {"items": [{"id": 7}, {"id": 9}], "申请号": "A1", "a.b": True}}


@pytest.mark.parametrize(
    ("path", "found", "value"),
    [
        ("$.code", True, 0),
        ("code", True, 0),
        ("$.data.items[1].id", True, 9),
        ("$.data.items[-1]['id']", True, 9),
        ("$.data.申请号", True, "A1"),
        ("$['data']['a.b']", True, True),
        ('$["data"]["items"][0]', True, {"id": 7}),
        ("$.data.items[5]", False, None),
        ("$.data.missing", False, None),
        ("$.code.deeper", False, None),
        ("$", True, DOC),
    ],
)
def test_json_path_subset(path: str, found: bool, value: Any) -> None:
    assert json_get(DOC, path) == (found, value)


@pytest.mark.parametrize("path", ["$..id", "$.items[*]", "$.a[?(@.b)]", "$.a[1:2]", "$ .a"])
def test_json_path_outside_the_subset_is_refused(path: str) -> None:
    with pytest.raises(JsonPathError):
        parse_json_path(path)


HTML = '<form><input type="hidden" name="t" value="tok-1"><b class="n"> 42 </b></form>'


@pytest.mark.parametrize(
    ("kwargs", "value"),
    [
        ({"css": "input[name=t]", "attr": "value"}, "tok-1"),
        ({"css": "b.n"}, "42"),
        ({"regex": r'value="([\w-]+)"'}, "tok-1"),
        ({"regex": r"tok-\d"}, "tok-1"),
        ({"css": "input[name=zz]", "attr": "value"}, None),
        ({"css": "b.n", "attr": "href"}, None),
        ({"regex": r"nothing(\d)"}, None),
        ({"jsonpath": "$.a"}, None),  # not JSON
    ],
)
def test_extract_from_html(kwargs: dict[str, str], value: str | None) -> None:
    taken = extract(HTML, **kwargs)
    assert taken.value == value
    assert bool(taken.error) is (value is None)


def test_extract_json_values_spelled_for_the_next_request() -> None:
    body = '{"data": {"n": 3, "f": 1.5, "ok": true, "list": [1, 2]}}'
    assert [extract(body, jsonpath=f"$.data.{k}").value for k in ("n", "f", "ok", "list")] == [
        "3",
        "1.5",
        "true",
        "[1,2]",
    ]


def test_placeholders_are_url_quoted_in_urls_only() -> None:
    values = {"q": "a b&c", "id": "7"}
    assert fill("/s?q={q}&id={id}", values, url=True) == "/s?q=a%20b%26c&id=7"
    assert fill("{q}", values) == "a b&c"
    assert fill_json({"x": ["{id}", 1], "y": "id={id}"}, values) == {"x": ["7", 1], "y": "id=7"}


def page(body: str, status: int = 200, ctype: str = "text/html", duration: float = 0.1) -> Page:
    return Page(
        url="http://x/",
        status=status,
        headers=httpx.Headers({"content-type": ctype}),
        content=body.encode(),
        encoding="utf-8",
        duration=duration,
    )


def spec(expect: dict[str, Any]) -> ServiceSpec:
    return ServiceSpec.model_validate({"steps": [{"name": "s", "url": "/", "expect": expect}]})


JSON = "application/json"


@pytest.mark.parametrize(
    ("expect", "response", "failure", "words"),
    [
        ({}, page("<p>办理成功</p>"), None, ""),
        ({}, page("x", status=502), Failure.HTTP_STATUS, "got 502"),
        ({"status": [302]}, page("x", status=302), None, ""),
        (
            {},
            page("<title>提示</title><p>系统繁忙，请稍后再试</p>"),
            Failure.SOFT_ERROR,
            "系统繁忙",
        ),
        ({}, page("<h1>您的访问被拦截</h1><p>安全狗</p>"), Failure.BLOCKED, "安全狗"),
        ({}, page("<p>网站防火墙 Web应用防火墙</p>"), Failure.BLOCKED, "防火墙"),
        ({"body_contains": ["查询结果"]}, page("<p>无</p>"), Failure.ASSERTION, "lacks"),
        ({"body_not_contains": ["错误"]}, page("<p>发生错误</p>"), Failure.ASSERTION, "contains"),
        ({"content_type": JSON}, page("{}"), Failure.ASSERTION, "content type text/html"),
        ({"content_type": JSON}, page("{}", ctype=JSON), None, ""),
        ({"json_equals": {"$.code": 0}}, page('{"code": 0}', ctype=JSON), None, ""),
        ({"json_equals": {"$.code": 0}}, page('{"code": 500}'), Failure.ASSERTION, "is 500"),
        ({"json_equals": {"$.code": 0}}, page("<html>"), Failure.ASSERTION, "not JSON"),
        ({"json_exists": ["$.data.id"]}, page('{"data": {}}'), Failure.ASSERTION, "missing"),
        ({"json_exists": ["$.data.id"]}, page('{"data": {"id": 1}}'), None, ""),
        ({"max_duration": "2s"}, page("ok", duration=3.5), Failure.ASSERTION, "took 3.50s"),
    ],
)
def test_step_assertions(
    expect: dict[str, Any], response: Page, failure: Failure | None, words: str
) -> None:
    s = spec(expect)
    got, error = assess(s.steps[0], s, response)
    assert got is failure
    assert words in error


def test_maintenance_notice_deep_in_a_working_page_is_not_a_soft_error() -> None:
    filler = "<p>" + "政务公开信息。" * 600 + "</p>"
    s = spec({})
    assert assess(s.steps[0], s, page(f"<p>查询成功</p>{filler}<p>下周六系统维护</p>"))[0] is None


def test_transaction_headers_are_sent_once_their_values_are_known() -> None:
    s = ServiceSpec.model_validate(
        {
            "headers": {"Authorization": "Bearer {token}", "Referer": "https://x/"},
            "steps": [
                {"name": "login", "url": "/l", "extract": {"token": {"jsonpath": "$.t"}}},
                {"name": "query", "url": "/q", "headers": {"Referer": "https://x/q"}},
            ],
        }
    )
    assert step_headers(s, s.steps[0], {}) == {"Referer": "https://x/"}
    assert step_headers(s, s.steps[1], {"token": "abc"}) == {
        "Authorization": "Bearer abc",
        "Referer": "https://x/q",
    }


def test_transaction_header_with_an_undefined_value_is_refused() -> None:
    with pytest.raises(ValueError, match="no variable or extract defines"):
        ServiceSpec.model_validate(
            {"headers": {"X-Token": "{nope}"}, "steps": [{"name": "a", "url": "/"}]}
        )
