"""Maintenance windows: planned downtime during which a channel's checks still run but
their failures do not count toward the official windows (the weekly unreachable share,
consecutive failures), the channel shows `zombie_channel_maintenance 1`, and the shipped
alert rules stay quiet.

Two forms, both in the channel's time zone (`timezone:` of the channel, else of `global:`):

```yaml
maintenance:
  - {start: "2026-11-20 22:00", end: "2026-11-21 06:00", reason: 机房搬迁}   # one-off
  - {days: sat, hours: "22:00-02:00", reason: weekly patching}              # recurring
```

`days` is `daily`, `workdays` or `weekends` (the Chinese calendar, holidays and 调休 days
counted) or a comma list of `mon`…`sun`; a range of `hours` that ends before it starts
runs past midnight and belongs to the day it starts on.

Windows are applied each time the runner takes a check's window of past runs, from the
configuration then loaded, so a window added after an outage also excuses the failures
inside it. Call records are not affected: a hotline's windows are of calls, not runs.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from probes.config.types import Strict
from probes.workdays import is_workday

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_LOCAL_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


class MaintenanceWindow(Strict):
    """One planned-downtime window: either `start`/`end` or `days`/`hours`."""

    start: str | None = Field(default=None, description="one-off: local 'YYYY-MM-DD HH:MM'")
    end: str | None = Field(default=None, description="one-off: local 'YYYY-MM-DD HH:MM'")
    days: str | None = Field(
        default=None, description="recurring: daily, workdays, weekends or mon,tue,…"
    )
    hours: str | None = Field(default=None, description="recurring: 'HH:MM-HH:MM' local time")
    reason: str = Field(default="", max_length=200, description="shown in the history")

    @field_validator("start", "end")
    @classmethod
    def _local_time(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_local(value)
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str | None) -> str | None:
        if value is not None:
            _weekday_set(value)
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            _minutes(value)
        return value

    @model_validator(mode="after")
    def _one_form(self) -> MaintenanceWindow:
        one_off = self.start is not None or self.end is not None
        recurring = self.days is not None or self.hours is not None
        if one_off == recurring:
            raise ValueError("a maintenance window is either start/end or days/hours")
        if one_off and (self.start is None or self.end is None):
            raise ValueError("a one-off maintenance window needs both start and end")
        if one_off and _parse_local(self.end or "") <= _parse_local(self.start or ""):
            raise ValueError("a maintenance window must end after it starts")
        if recurring and (self.days is None or self.hours is None):
            raise ValueError("a recurring maintenance window needs both days and hours")
        return self

    def spans(self, tz: ZoneInfo, since: float, until: float) -> list[tuple[float, float]]:
        """The [start, end) intervals (epoch seconds) of this window overlapping
        [since, until]."""
        if self.start is not None and self.end is not None:
            a = _parse_local(self.start).replace(tzinfo=tz).timestamp()
            b = _parse_local(self.end).replace(tzinfo=tz).timestamp()
            return [(a, b)] if a <= until and b > since else []
        assert self.days is not None
        assert self.hours is not None
        begin, finish = _minutes(self.hours)
        length = (finish - begin) % (24 * 60) or 24 * 60
        # One day before `since`: a window starting the evening before may reach into it.
        day = dt.datetime.fromtimestamp(since, tz).date() - dt.timedelta(days=1)
        last = dt.datetime.fromtimestamp(until, tz).date()
        out = []
        while day <= last:
            if _day_matches(self.days, day):
                local = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
                a = (local + dt.timedelta(minutes=begin)).timestamp()
                b = a + length * 60
                if a <= until and b > since:
                    out.append((a, b))
            day += dt.timedelta(days=1)
        return out


def spans_of(
    windows: list[MaintenanceWindow], tz: ZoneInfo, since: float, until: float
) -> list[tuple[float, float]]:
    """Every interval of these windows overlapping [since, until], sorted and merged."""
    spans = sorted(s for w in windows for s in w.spans(tz, since, until))
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def active_window(
    windows: list[MaintenanceWindow], tz: ZoneInfo, t: float
) -> MaintenanceWindow | None:
    """The window `t` falls in, if any."""
    for window in windows:
        if any(a <= t < b for a, b in window.spans(tz, t, t)):
            return window
    return None


def _parse_local(text: str) -> dt.datetime:
    for fmt in _LOCAL_TIME_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise ValueError(f"invalid local time {text!r}: write 'YYYY-MM-DD HH:MM'")


def _minutes(text: str) -> tuple[int, int]:
    match = _HOURS.match(text.strip())
    if not match:
        raise ValueError(f"invalid hours {text!r}: write 'HH:MM-HH:MM', for example 22:00-02:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
        raise ValueError(f"invalid hours {text!r}")
    return h1 * 60 + m1, h2 * 60 + m2


def _weekday_set(text: str) -> frozenset[int]:
    words = [w.strip().lower()[:3] for w in text.split(",") if w.strip()]
    if text.strip() in ("daily", "workdays", "weekends"):
        return frozenset()
    unknown = [w for w in words if w not in _DAY_NAMES]
    if unknown or not words:
        raise ValueError(
            f"invalid days {text!r}: daily, workdays, weekends or a list such as sat,sun"
        )
    return frozenset(_DAY_NAMES.index(w) for w in words)


def _day_matches(days: str, day: dt.date) -> bool:
    key = days.strip()
    if key == "daily":
        return True
    if key == "workdays":
        return is_workday(day)
    if key == "weekends":
        return not is_workday(day)
    return day.weekday() in _weekday_set(days)
