"""Board statistics: reply deadlines in Chinese working days (across the National Day
holiday and past the official calendar), overdue, late and 3-month messages, latency."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from probes import workdays
from probes.boards.stats import latency, quantile, reply_deadline
from probes.boards.summary import evidence, summarise
from probes.config.board import BoardSpec
from probes.pages.dates import CN_TZ
from probes.state.board import TrackedMessage

DAY = 86400.0
SPEC = BoardSpec()


def ts(*args: int) -> float:
    return dt.datetime(*args, tzinfo=CN_TZ).timestamp()


def msg(
    posted: float,
    *,
    answered: bool | None = False,
    replied: float | None = None,
    text: str | None = None,
    mid: str = "m",
    first_seen: float | None = None,
) -> TrackedMessage:
    seen = posted if first_seen is None else first_seen
    return TrackedMessage(mid, f"title {mid}", f"http://b/{mid}", posted, seen, seen,
                          answered, replied, None, text)  # fmt: skip


POSTED_BEFORE_NATIONAL_DAY = ts(2026, 9, 29, 10, 0)


def test_deadline_across_national_day_counts_only_working_days() -> None:
    # 9-30 is one working day; 10-01..10-07 are the holiday; 10-08, 10-09 and the adjusted
    # working Saturday 10-10 follow, and Monday 10-12 is the fifth.
    deadline = reply_deadline(POSTED_BEFORE_NATIONAL_DAY, 5)
    expected = workdays.add_workdays(dt.datetime(2026, 9, 29, 10, 0, tzinfo=CN_TZ), 5)
    assert deadline.due == expected.timestamp() == ts(2026, 10, 12, 10, 0)
    assert deadline.estimated is False


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (ts(2026, 10, 8, 18, 0), False),  # a Monday-Friday count would say overdue since 10-06
        (ts(2026, 10, 12, 9, 59), False),
        (ts(2026, 10, 12, 10, 1), True),
    ],
)
def test_message_posted_before_national_day_is_overdue_only_after_the_working_day_deadline(
    now: float, overdue: bool
) -> None:
    summary = summarise([msg(POSTED_BEFORE_NATIONAL_DAY)], SPEC, now)
    assert summary.overdue == int(overdue)
    assert summary.unanswered == 1


def test_deadline_past_the_official_calendar_is_flagged_as_estimated() -> None:
    posted = ts(2026, 12, 29, 10, 0)  # five working days reach into 2027
    deadline = reply_deadline(posted, 5)
    assert deadline.estimated is True
    now = ts(2027, 1, 20)
    lines = evidence(summarise([msg(posted)], SPEC, now), SPEC, now)
    assert any(line.startswith("deadlines estimated") for line in lines)


def test_answered_late_unanswered_and_vetoed_messages_are_told_apart() -> None:
    now = ts(2026, 11, 18, 10)
    messages = [
        msg(now - 10 * DAY, answered=True, replied=now - 9 * DAY, mid="ontime"),
        msg(now - 40 * DAY, answered=True, replied=now - 10 * DAY, mid="late"),
        msg(now - 20 * DAY, mid="overdue"),
        msg(now - 91 * DAY, mid="veto"),
        msg(now - 1 * DAY, mid="fresh"),
        msg(now - 5 * DAY, answered=None, mid="unknown"),
    ]
    s = summarise(messages, SPEC, now)
    assert (s.answered, s.answered_late, s.unanswered, s.unknown) == (1, 1, 3, 1)
    assert s.overdue == 2
    assert [w.id for w in s.vetoed] == ["veto"]
    assert s.waiting[0].id == "veto"  # oldest first
    assert s.latency.count == 2


def test_board_is_silent_when_messages_arrive_and_nothing_is_answered() -> None:
    now = ts(2026, 11, 18, 10)
    old_answer = msg(now - 70 * DAY, answered=True, replied=now - 65 * DAY, mid="old")
    waiting = [msg(now - d * DAY, mid=f"w{d}") for d in (2, 9, 20)]
    assert summarise([old_answer, *waiting], SPEC, now).silent
    answered_lately = msg(now - 12 * DAY, answered=True, replied=now - 11 * DAY, mid="a")
    assert not summarise([old_answer, *waiting, answered_lately], SPEC, now).silent
    assert not summarise([old_answer, *waiting[:2]], SPEC, now).silent  # too few to tell


def test_reply_time_unknown_when_first_seen_already_answered() -> None:
    # Answered before the monitor first saw it, and the board prints no reply time: no
    # latency can be claimed for it.
    now = ts(2026, 11, 18, 10)
    m = TrackedMessage("x", "t", "u", now - 30 * DAY, now, now, True, None, now, None)
    assert m.reply_time is None
    seen_waiting = TrackedMessage("y", "t", "u", now - 3 * DAY, now - 2 * DAY, now, True, None,
                                  now - DAY, None)  # fmt: skip
    assert seen_waiting.reply_time == now - DAY


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),
        ([5.0], 0.9, 5.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9, 9.1),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
    ],
)
def test_quantile(values: list[float], q: float, expected: float) -> None:
    assert quantile(values, q) == pytest.approx(expected)


def test_latency_leaves_out_replies_before_the_message() -> None:
    lat = latency([(100.0, 50.0), (0.0, 10.0), (0.0, 30.0)])
    assert (lat.count, lat.p50, lat.longest) == (2, 20.0, 30.0)
    assert math.isnan(latency([]).p50)
