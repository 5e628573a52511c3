"""Service hours as time: whether an instant is in them, how much service time lies between
two instants, and where a rolling window of service time starts.

Windows are measured in service time, as the official rule says ("over 24 h of service
hours"): for a `workdays 09:00-17:00` hotline the 24 h window reaches back three working
days, and a weekend neither empties the window nor makes the feed look silent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from probes.config.hotline import Hours
from probes.workdays import is_workday

# How far back a window may reach: more than the longest holiday run (Spring Festival).
MAX_LOOKBACK_DAYS = 40


@dataclass(frozen=True, slots=True)
class ServiceTime:
    hours: Hours
    tz: ZoneInfo

    @classmethod
    def of(cls, hours: Hours, timezone: str) -> ServiceTime:
        return cls(hours, ZoneInfo(timezone))

    @property
    def always(self) -> bool:
        return self.hours.days == "always"

    def day_spans(self, day: dt.date) -> list[tuple[float, float]]:
        """The service spans of one local day as epoch-second intervals [start, end)."""
        if self.hours.days == "workdays" and not is_workday(day):
            return []
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return [
            (
                (midnight + dt.timedelta(minutes=a)).timestamp(),
                (midnight + dt.timedelta(minutes=b)).timestamp(),
            )
            for a, b in self.hours.ranges
        ]

    def _spans_backwards(self, now: float) -> Iterator[tuple[float, float]]:
        day = dt.datetime.fromtimestamp(now, self.tz).date()
        for back in range(MAX_LOOKBACK_DAYS + 1):
            for a, b in reversed(self.day_spans(day - dt.timedelta(days=back))):
                if a < now:
                    yield a, min(b, now)

    def contains(self, t: float) -> bool:
        if self.always:
            return True
        day = dt.datetime.fromtimestamp(t, self.tz).date()
        return any(a <= t < b for a, b in self.day_spans(day))

    def seconds_between(self, start: float, end: float) -> float:
        """Service seconds in [start, end)."""
        if end <= start:
            return 0.0
        if self.always:
            return end - start
        total = 0.0
        for a, b in self._spans_backwards(end):
            if b <= start:
                break
            total += b - max(a, start)
        return total

    def window_start(self, now: float, length: float) -> float:
        """The instant from which [t, now] holds `length` seconds of service time (or the
        lookback limit when the calendar has less)."""
        if self.always:
            return now - length
        left = length
        for a, b in self._spans_backwards(now):
            if b - a >= left:
                return b - left
            left -= b - a
        return now - MAX_LOOKBACK_DAYS * 86400.0
