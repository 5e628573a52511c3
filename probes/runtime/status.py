"""What the running monitor knows right now, read by the exporter and the CLI.

One `MonitorStatus` is created by the owner (`serve`, `demo`, `check`) and handed to the
scheduler, which writes into it, and to the exporter, which renders what changed.
Nothing here is global.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from probes.config import ChannelConfig
from probes.model import CheckResult, Histogram, Verdict

# Lateness buckets: a healthy scheduler starts checks within milliseconds; seconds of
# lateness mean the in-flight limit or the event loop is saturated.
LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class HistogramCounter:
    """A cumulative histogram kept as per-bucket counts."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.n += 1

    def snapshot(self) -> Histogram:
        cumulative, out = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            cumulative += count
            out.append((bound, float(cumulative)))
        return Histogram(tuple(out), self.total, float(self.n))


@dataclass
class MonitorStatus:
    """The monitor's live view: channels of this replica, their latest results and
    verdicts, and the scheduler's and loader's own health."""

    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    results: dict[tuple[str, str], CheckResult] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    runs: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    lateness: HistogramCounter = field(default_factory=lambda: HistogramCounter(LATENESS_BUCKETS))
    in_flight: int = 0
    reload_ok: bool = True
    reload_ts: float = 0.0
    ready: bool = False
    # Channels whose exported series are out of date (probes.runtime.exposition renders
    # them again at the next scrape): a result recorded, the channel added, changed or gone.
    dirty: set[str] = field(default_factory=set)

    def record(self, channel: str, result: CheckResult) -> None:
        self.results[(channel, result.check)] = result
        outcome = {True: "success", False: "failure", None: "unknown"}[result.success]
        self.runs[(channel, result.check, outcome)] += 1
        self.dirty.add(channel)

    def set_channels(self, channels: list[ChannelConfig]) -> None:
        """Replace the channel set (after a reload), dropping what is no longer configured."""
        self.dirty.update(self.channels)
        self.channels = {c.name: c for c in channels}
        self.dirty.update(self.channels)
        self.results = {k: v for k, v in self.results.items() if k[0] in self.channels}
        self.verdicts = {k: v for k, v in self.verdicts.items() if k in self.channels}
