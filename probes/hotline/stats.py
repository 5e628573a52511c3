"""Rolling statistics of one hotline, read from the stored call records.

Counters (`Totals`) run since the first record; windows (default 1 h and 24 h of service
time) count only calls that started within service hours; the last N calls in service
hours decide whether the line is dead; the service time since the last record of any
outcome decides whether the feed has gone silent.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from probes.config.hotline import HotlineSpec
from probes.config.types import format_duration
from probes.findings.hotline import CallWindow, HotlineFindings
from probes.hotline.servicehours import MAX_LOOKBACK_DAYS, ServiceTime
from probes.model import Outcome
from probes.state import calls
from probes.state.store import Store


def window_label(seconds: float) -> str:
    """`1h`, `24h`, `30m`: the `window` label (hours rather than days, as the rules say)."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return format_duration(seconds)


@dataclass(frozen=True, slots=True)
class HotlineStats:
    """The counters since the first record, and what the hotline check finds."""

    totals: calls.Totals
    found: HotlineFindings


def compute(store: Store, channel: str, spec: HotlineSpec, now: float) -> HotlineStats:
    service = ServiceTime.of(spec.service_hours, spec.timezone)
    starts = {w: service.window_start(now, w) for w in spec.windows}
    rows = calls.calls_since(store, channel, min(starts.values()))
    windows = []
    for seconds in sorted(spec.windows):
        since = starts[seconds]
        counts = dict.fromkeys(Outcome, 0)
        within = quick = loops = 0
        for c in rows:
            if c.start < since or c.start > now or not service.contains(c.start):
                continue
            counts[c.outcome] += 1
            loops += c.loop
            if c.answer is not None:
                within += c.answer - c.start <= spec.answer_within
                quick += c.end - c.answer <= spec.quick_hangup
        windows.append(
            CallWindow(window_label(seconds), seconds, since, counts, within, quick, loops)
        )
    horizon = now - MAX_LOOKBACK_DAYS * 86400.0
    recent = (
        c for c in calls.calls_newest_first(store, channel, horizon, now + 1e-6)
        if service.contains(c.start)
    )  # fmt: skip
    last = tuple(c.outcome for c in itertools.islice(recent, spec.last_n_test_calls))
    totals = calls.totals(store, channel)
    silent_for = (
        None
        if totals.last_record is None
        else service.seconds_between(min(totals.last_record, now), now)
    )
    found = HotlineFindings(tuple(windows), last, silent_for, service.contains(now))
    return HotlineStats(totals, found)
