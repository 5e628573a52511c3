"""Chinese working days: statutory holidays and adjusted workdays (调休), from the
chinesecalendar library, for reply deadlines ("within 5 working days") and hotline
service hours.

chinesecalendar only knows the years the State Council has announced. For a date past its
data (the next year's schedule is published each November or December), this falls back to
Monday-Friday and says so through `is_known`, so a caller can mark the result as estimated
instead of failing or silently pretending to know.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=4096)
def is_known(day: dt.date) -> bool:
    """Whether the official calendar for this date's year is known."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> bool:
    """True on a working day: Monday-Friday that is not a statutory holiday, or a weekend
    day made a workday by an adjustment. Unknown years fall back to Monday-Friday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_workdays(start: dt.datetime, days: int) -> dt.datetime:
    """The deadline `days` working days after `start`, at the same time of day.

    The day of posting does not count: a message posted on Friday 2026-09-25 with a
    5-working-day limit is due at the same clock time on the 5th working day after it.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += dt.timedelta(days=1)
        if is_workday(current.date()):
            remaining -= 1
    return current
