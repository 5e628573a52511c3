"""Statistics of a board's messages: reply deadlines in Chinese working days, overdue and
late messages, reply latency quantiles. Pure functions on plain records, shared by the
board check (on tracked messages) and the real-data test (on a published board's CSV).

Deadlines use `probes.workdays` (statutory holidays and adjusted workdays from
chinesecalendar). Past the years that library knows, it falls back to Monday-Friday; a
deadline computed over such days is flagged `estimated`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from probes import workdays
from probes.pages.dates import CN_TZ


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a reply is due, and whether the official calendar covered every day of it."""

    due: float
    estimated: bool


def reply_deadline(posted: float, days: int) -> Deadline:
    """`days` Chinese working days after `posted` (the posting day does not count)."""
    start = dt.datetime.fromtimestamp(posted, CN_TZ)
    due = workdays.add_workdays(start, days)
    span = (due.date() - start.date()).days
    estimated = not all(
        workdays.is_known(start.date() + dt.timedelta(days=i)) for i in range(span + 1)
    )
    return Deadline(due.timestamp(), estimated)


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile of `values` by linear interpolation between closest ranks (the
    definition of numpy's default and Prometheus summaries' intent); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True, slots=True)
class Latency:
    """Reply latency over a set of answered messages (seconds)."""

    count: int
    p50: float
    p90: float
    longest: float


def latency(pairs: Iterable[tuple[float, float]]) -> Latency:
    """Latency of (posted, replied) pairs; pairs with a reply before the posting (clock
    or data errors) are left out rather than counted as instant answers."""
    values = [replied - posted for posted, replied in pairs if replied >= posted]
    if not values:
        return Latency(0, math.nan, math.nan, math.nan)
    return Latency(len(values), quantile(values, 0.5), quantile(values, 0.9), max(values))
