"""Lists read from JSON APIs: each page's request, the items of an answer, time fields."""

from __future__ import annotations

import datetime as dt

import pytest

from probes.pages.dates import CN_TZ
from probes.pages.jsonlist import Paging, moment, next_value, page_request, read_response

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=CN_TZ)


@pytest.mark.parametrize(
    ("method", "form", "body", "expected"),
    [
        ("GET", None, None, ("http://a.gov.cn/api?fid=14&pageNo=3", None, None)),
        ("POST", {"fid": "14"}, None, ("http://a.gov.cn/api?fid=14", {"fid": "14", "pageNo": "3"},
                                       None)),
        ("POST", None, {"fid": 14}, ("http://a.gov.cn/api?fid=14", None, {"fid": 14, "pageNo": 3})),
    ],
)  # fmt: skip
def test_the_page_parameter_goes_where_the_request_carries_its_fields(
    method: str, form: dict[str, str] | None, body: dict[str, object] | None, expected: object
) -> None:
    req = page_request("http://a.gov.cn/api?fid=14", method=method, headers={}, form=form,
                       body=body, param="pageNo", value=3)  # fmt: skip
    assert (req.url, req.data, req.json) == expected


@pytest.mark.parametrize(
    ("value", "when"),
    [
        ("1763431200", dt.datetime(2025, 11, 18, 10, 0, tzinfo=CN_TZ)),  # Unix seconds
        ("1763431200000", dt.datetime(2025, 11, 18, 10, 0, tzinfo=CN_TZ)),  # milliseconds
        ("2025-11-18 10:00:00", dt.datetime(2025, 11, 18, 10, 0, tzinfo=CN_TZ)),
        ("20251118", dt.datetime(2025, 11, 18, tzinfo=CN_TZ)),
        ("20251118100000", dt.datetime(2025, 11, 18, 10, 0, tzinfo=CN_TZ)),
        ("20251318", None),
        ("0", None),
        ("12345", None),
        ("4102358400", None),  # 2099-12-31: in the future
        ("不详", None),
        (None, None),
    ],
)
def test_time_fields(value: str | None, when: dt.datetime | None) -> None:
    assert moment(value, now=NOW) == when


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"result": "success", "responseData": [{"tid": 1}]}', ""),
        ('{"result": "success", "responseData": null}', ""),
        ('{"result": "fail", "resultDesc": "fid错误"}', "the list API said 'fid错误' at result"),
        ('{"result": "success"}', "no item list at responseData"),
        ('{"result": "success", "responseData": {"tid": 1}}', "responseData is not a list"),
        ("<html>请开启JavaScript</html>", "the list API answered no JSON"),
    ],
)
def test_answers_give_their_items_or_why_not(text: str, error: str) -> None:
    got = read_response(text, "responseData", ok_path="result", ok_value="success",
                        error_path="resultDesc")  # fmt: skip
    assert got.error.startswith(error) if error else got.error == ""
    assert got.error or isinstance(got.items, tuple)


@pytest.mark.parametrize(
    ("paging", "current", "expected"),
    [("page", 1, 2), ("offset", 20, 30), ("cursor", "0", "9001"), ("cursor", "9001", None)],
)
def test_next_page_value(paging: Paging, current: str | int, expected: object) -> None:
    got = next_value(paging, current, step=10, last_item={"tid": 9001}, document={},
                     cursor="tid", cursor_in_response=False)  # fmt: skip
    assert got == expected
