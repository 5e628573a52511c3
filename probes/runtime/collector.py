"""The Prometheus side: one custom collector that renders the monitor's status at scrape
time, on a registry its owner creates (never the global one).

Families, types and labels come from `probes.catalogue`; a measurement whose name or labels
are not declared there is a bug: in strict mode (tests) it raises, in production it is
skipped and logged once, so one bad check cannot take /metrics down.

A monitor started with a vantage point (`serve --location NAME`, `global.location`) adds
`location="NAME"` to every series it renders, beyond the catalogue's labels: replicas
watching the same channels from different networks stay apart in one Prometheus.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sized
from typing import Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from probes import __version__
from probes.catalogue import BY_NAME, CH, FAMILIES, Family
from probes.config import ChannelConfig
from probes.model import CheckResult, Histogram, State
from probes.runtime.status import MonitorStatus
from probes.state.store import WriteHealth

log = logging.getLogger("probes.runtime.collector")
AnyFamily = GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily


class IngestView(Protocol):
    """Call-record ingest counters (see `probes.hotline.ingest`)."""

    @property
    def ingested(self) -> Mapping[str, int]: ...

    @property
    def rejected(self) -> Mapping[tuple[str, str], int]: ...

    @property
    def not_mine(self) -> Mapping[str, int]: ...


class StateView(Protocol):
    """The state store's write health (see `probes.state.store`)."""

    @property
    def health(self) -> WriteHealth: ...

    @property
    def pending(self) -> Sized: ...


class _Families:
    """Families being filled for one scrape, created on first use, in catalogue order."""

    def __init__(self, strict: bool, location: str | None = None) -> None:
        self.strict = strict
        self.location = () if location is None else (location,)
        self.made: dict[str, AnyFamily] = {}
        self._warned: set[str] = set()

    def add(self, name: str, labels: tuple[str, ...], value: float | Histogram) -> None:
        fam = BY_NAME.get(name)
        if fam is None or len(labels) != len(fam.labels):
            self._bad(f"measurement {name!r} with {len(labels)} labels is not in the catalogue")
            return
        labels = (*labels, *self.location)
        metric = self.made.get(name)
        if metric is None:
            metric = self.made[name] = _new_family(fam, bool(self.location))
        if isinstance(value, Histogram):
            if not isinstance(metric, HistogramMetricFamily):
                self._bad(f"{name} is a {fam.type}, got a histogram")
                return
            buckets = [(_le(b), c) for b, c in value.buckets]
            metric.add_metric(list(labels), buckets, value.sum)
        elif isinstance(metric, HistogramMetricFamily):
            self._bad(f"{name} is a histogram, got a plain value")
        else:
            metric.add_metric(list(labels), float(value))

    def _bad(self, message: str) -> None:
        if self.strict:
            raise ValueError(message)
        if message not in self._warned:
            self._warned.add(message)
            log.error("skipping metric: %s", message)

    def ordered(self) -> Iterator[Metric]:
        for fam in FAMILIES:
            if fam.name in self.made:
                yield self.made[fam.name]


class ZombieCollector(Collector):
    """Renders channel verdicts, check results and the monitor's own health."""

    def __init__(
        self,
        status: MonitorStatus,
        ingest: IngestView | None = None,
        *,
        state: StateView | None = None,
        only_channel: str | None = None,
        strict: bool = False,
        location: str | None = None,
    ) -> None:
        self.location = location
        self.status = status
        self.ingest = ingest
        self.state = state
        self.only_channel = only_channel
        self.strict = strict

    def collect(self) -> Iterable[Metric]:
        f = _Families(self.strict, self.location)
        st = self.status
        for channel in st.channels.values():
            if self.only_channel is None or channel.name == self.only_channel:
                self._channel(f, channel)
        if self.only_channel is None:
            self._self_metrics(f)
        return list(f.ordered())

    def _channel(self, f: _Families, channel: ChannelConfig) -> None:
        st = self.status
        ch = (channel.name, channel.kind)
        url = str(channel.url) if channel.url else ""
        f.add("channel_info", (*ch, channel.owner, channel.title, url), 1.0)
        verdict = st.verdicts.get(channel.name)
        current = verdict.state if verdict else State.UNKNOWN
        for state in State:
            f.add("channel_state", (*ch, state.value), float(state is current))
        if verdict:
            for code in sorted({r.code for r in verdict.reasons}):
                f.add("channel_reason", (*ch, code), 1.0)
        for check, _spec in channel.enabled_checks():
            result = st.results.get((channel.name, check))
            for outcome in ("success", "failure", "unknown"):
                f.add("check_runs", (*ch, check, outcome), st.runs[(channel.name, check, outcome)])
            if result is not None:
                self._result(f, ch, check, result)

    def _result(self, f: _Families, ch: tuple[str, str], check: str, result: CheckResult) -> None:
        if result.success is not None:
            f.add("check_success", (*ch, check), float(result.success))
        if result.failure is not None:
            f.add("check_failure", (*ch, check, result.failure.value), 1.0)
        f.add("check_duration_seconds", (*ch, check), result.duration)
        f.add("check_last_run_timestamp_seconds", (*ch, check), result.started)
        for m in result.measurements:
            fam = BY_NAME.get(m.name)
            labels = dict(m.labels)
            if fam is None or set(labels) != set(fam.extra_labels) or fam.labels[:2] != CH:
                f._bad(f"measurement {m.name!r} labels {sorted(labels)} do not match catalogue")
                continue
            f.add(m.name, (*ch, *(labels[k] for k in fam.extra_labels)), m.value)

    def _self_metrics(self, f: _Families) -> None:
        st = self.status
        f.add("scheduler_lateness_seconds", (), st.lateness.snapshot())
        f.add("scheduler_checks_in_flight", (), float(st.in_flight))
        f.add("scheduler_channels", (), float(len(st.channels)))
        f.add("config_last_reload_successful", (), float(st.reload_ok))
        f.add("config_last_reload_success_timestamp_seconds", (), st.reload_ts)
        f.add("build_info", (__version__,), 1.0)
        if self.ingest is not None:
            for source, n in sorted(self.ingest.ingested.items()):
                f.add("hotline_records_ingested", (source,), float(n))
            for (source, reason), n in sorted(self.ingest.rejected.items()):
                f.add("hotline_records_rejected", (source, reason), float(n))
            # From a source's first record on, at 0 until another replica's record comes,
            # so a rate over it starts at the start.
            not_mine = self.ingest.not_mine
            for source in sorted(set(self.ingest.ingested) | set(not_mine)):
                f.add("hotline_records_not_mine", (source,), float(not_mine.get(source, 0)))
        if self.state is not None:
            f.add("state_write_errors", (), float(self.state.health.errors))
            f.add("state_writes_pending", (), float(len(self.state.pending)))


def _new_family(fam: Family, location: bool) -> AnyFamily:
    name, labels = fam.full_name, [*fam.labels, *(("location",) if location else ())]
    if fam.type == "counter":
        return CounterMetricFamily(name, fam.help, labels=labels)
    if fam.type == "histogram":
        return HistogramMetricFamily(name, fam.help, labels=labels)
    return GaugeMetricFamily(name, fam.help, labels=labels)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def make_registry(collector: ZombieCollector) -> CollectorRegistry:
    """A fresh registry holding only this collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
