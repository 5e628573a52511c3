"""The date engine reads every date format government pages use and refuses their traps."""

from __future__ import annotations

import datetime as dt

import pytest

from probes.pages.dates import CN_TZ, find_dates, parse_datetime, url_date

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=CN_TZ)  # a Saturday


def d(y: int, m: int, day: int, *hms: int) -> dt.datetime:
    return dt.datetime(y, m, day, *hms, tzinfo=CN_TZ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-11-03", d(2024, 11, 3)),
        ("2024/11/03", d(2024, 11, 3)),
        ("2024.11.03", d(2024, 11, 3)),
        ("2024-11-3", d(2024, 11, 3)),
        ("2024年11月3日", d(2024, 11, 3)),
        ("2024 年 11 月 3 日", d(2024, 11, 3)),
        ("2024年11月03日 10:20", d(2024, 11, 3, 10, 20)),
        ("2024-11-03 10:20:30", d(2024, 11, 3, 10, 20, 30)),
        ("发布时间：2024-11-03 09:05", d(2024, 11, 3, 9, 5)),
        ("2024-11-03T10:20:30Z", d(2024, 11, 3, 18, 20, 30)),
        ("2024-11-03T10:20:30+08:00", d(2024, 11, 3, 10, 20, 30)),
        ("２０２４－１１－０３", d(2024, 11, 3)),
        ("２０２４年１１月３日 １０：２０", d(2024, 11, 3, 10, 20)),
        ("发布时间：2024-11-03 10：20：30", d(2024, 11, 3, 10, 20, 30)),
        ("2024-11-03　10:20", d(2024, 11, 3, 10, 20)),
        ("2024-11-03T10:20:30-05：00", d(2024, 11, 3, 23, 20, 30)),
        ("[11-03 10：20]", d(2026, 11, 3, 10, 20)),
        ("二〇二四年十一月三日", d(2024, 11, 3)),
        ("二〇二四年十二月二十一日", d(2024, 12, 21)),
        ("二〇二五年一月三十日", d(2025, 1, 30)),
        ("[11-03]", d(2026, 11, 3)),
        ("11-03", d(2026, 11, 3)),
        ("11/03", d(2026, 11, 3)),
        ("11月3日", d(2026, 11, 3)),
        ("标题 (11-21 10:00)", d(2026, 11, 21, 10, 0)),
    ],
)
def test_parse_datetime_reads_every_supported_format(text: str, expected: dt.datetime) -> None:
    assert parse_datetime(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # December is after November 21st this year, so it must be last year's December.
        ("[12-25]", d(2025, 12, 25)),
        ("11月25日", d(2025, 11, 25)),
        # Later today is still in the future: yesterday's year is not, a year back is.
        ("11-21 13:00", d(2025, 11, 21, 13, 0)),
        # 29 February: the latest leap year that is not in the future.
        ("02-29", d(2024, 2, 29)),
    ],
)
def test_month_day_dates_take_the_latest_year_not_in_the_future(
    text: str, expected: dt.datetime
) -> None:
    assert parse_datetime(text, now=NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("今天是2026年11月21日 星期六", id="today-widget"),
        pytest.param("2026年11月21日 星期六", id="weekday-widget"),
        pytest.param("今天是：2026-11-21", id="today-colon"),
        pytest.param("当前时间：2026年11月21日", id="current-time"),
        pytest.param("Copyright © 2003-2024 版权所有 2024-11-03", id="copyright"),
        pytest.param("京ICP备2024-11-03号", id="icp"),
        pytest.param("京公网安备 11010502030143号", id="police-record"),
        pytest.param("网站标识码：1100000088", id="site-code"),
        pytest.param("电话：0571-2024-1103", id="phone-dashed"),
        pytest.param("咨询电话 12345 传真 0571-87051234", id="phone"),
        pytest.param("2027-01-01", id="future"),
        pytest.param("2026-11-21 12:00:01", id="one-second-ahead"),
        pytest.param("2024-13-01", id="month-13"),
        pytest.param("2024-02-30", id="february-30"),
        pytest.param("1900-01-01", id="placeholder-year"),
        pytest.param("v2024.11.03.5", id="version-string"),
        pytest.param("2024-11/03", id="mixed-separators"),
        pytest.param("第3-1条", id="single-digit-range"),
        pytest.param("Copyright 2024", id="copyright-year"),
    ],
)
def test_traps_and_impossible_dates_are_not_dates(text: str) -> None:
    assert parse_datetime(text, now=NOW) is None


def test_find_dates_gives_positions_in_the_original_text() -> None:
    text = "［１１－０３］关于开展检查的通知　２０２４年１１月０５日"
    found = find_dates(text, now=NOW)
    assert [m.when for m in found] == [d(2026, 11, 3), d(2024, 11, 5)]
    assert text[found[1].start : found[1].end].startswith("２０２４年")
    assert [m.year_inferred for m in found] == [True, False]


def test_find_dates_keeps_widget_only_when_traps_are_off() -> None:
    text = "今天是2026年11月21日 星期六"
    assert find_dates(text, now=NOW) == []
    assert [m.when for m in find_dates(text, now=NOW, traps=False)] == [d(2026, 11, 21)]


def test_naive_now_is_taken_as_china_time() -> None:
    assert parse_datetime("2026-11-21 11:00", now=NOW.replace(tzinfo=None)) == d(
        2026, 11, 21, 11, 0
    )


@pytest.mark.parametrize(
    ("url", "expected", "precision"),
    [
        ("http://a.gov.cn/xxgk/202411/t20241103_123456.html", d(2024, 11, 3), "day"),
        ("/zwgk/tzgg/t20241103_1.shtml", d(2024, 11, 3), "day"),
        ("http://a.gov.cn/art/2024/11/3/art_1229_5.html", d(2024, 11, 3), "day"),
        ("http://a.gov.cn/news/20241103/abc.html", d(2024, 11, 3), "day"),
        ("http://a.gov.cn/xxgk/202411/index.html", d(2024, 11, 1), "month"),
        ("http://a.gov.cn/2024-11/abc.html", d(2024, 11, 1), "month"),
    ],
)
def test_url_dates(url: str, expected: dt.datetime, precision: str) -> None:
    found = url_date(url, now=NOW)
    assert found is not None
    assert (found.when, found.precision) == (expected, precision)


@pytest.mark.parametrize(
    "url",
    [
        "http://a.gov.cn/xxgk/t20271103_1.html",  # future
        "http://a.gov.cn/content/post_20241103.html",  # an id, not a path date
        "http://a.gov.cn/col/col1229/index.html",
        "http://20241103.gov.cn/index.html",  # the host is not the path
        "http://a.gov.cn/list.html?date=20241103",
    ],
)
def test_urls_without_a_path_date(url: str) -> None:
    assert url_date(url, now=NOW) is None
