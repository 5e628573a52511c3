"""The Prometheus side: the monitor's series as text exposition (format 0.0.4), one
channel at a time, plus the monitor's own health.

A channel's series are rendered when its results change and kept by
`probes.runtime.exposition`, so a scrape joins text instead of rendering every series;
`/probe` renders its one channel here too, so both show the same series.

Families, types and labels come from `probes.catalogue`; a measurement whose name or labels
are not declared there is a bug: in strict mode (tests) it raises, in production it is
skipped and logged once, so one bad check cannot take /metrics down.

A monitor started with a vantage point (`serve --location NAME`, `global.location`) adds
`location="NAME"` to every series it renders, beyond the catalogue's labels: monitors
watching the same channels from different networks stay apart in one Prometheus.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass
from typing import Protocol

from probes import __version__
from probes.catalogue import CH, FAMILIES, Family
from probes.clock import Clock
from probes.config import ChannelConfig
from probes.model import CheckResult, Histogram, State
from probes.runtime.status import MonitorStatus
from probes.state.store import WriteHealth

log = logging.getLogger("probes.runtime.collector")

# A family's position in the catalogue: the order families appear in every body.
INDEX: dict[str, int] = {f.name: i for i, f in enumerate(FAMILIES)}
DETAIL = frozenset(i for i, f in enumerate(FAMILIES) if f.detail)
HEADLINE = frozenset(range(len(FAMILIES))) - DETAIL
# What a rendering produces: family position -> that family's sample lines (never empty).
Rendered = dict[int, bytes]
INF = float("inf")


@dataclass(frozen=True, slots=True)
class _Shape:
    """How one family's lines are written: precomputed once, used for every sample."""

    index: int
    family: Family
    sample: str  # the sample name (counters end in _total)
    keys: tuple[str, ...]  # 'label="' for each label, in catalogue order
    per_channel: bool  # its labels start with channel and kind


def _shape(i: int, fam: Family) -> _Shape:
    sample = fam.full_name + ("_total" if fam.type == "counter" else "")
    return _Shape(i, fam, sample, tuple(f'{k}="' for k in fam.labels), fam.labels[:2] == CH)


SHAPES: dict[str, _Shape] = {f.name: _shape(i, f) for i, f in enumerate(FAMILIES)}


def _header(shape: _Shape) -> bytes:
    text = shape.family.help.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {shape.sample} {text}\n# TYPE {shape.sample} {shape.family.type}\n".encode()


HEADERS: tuple[bytes, ...] = tuple(_header(s) for s in SHAPES.values())


def number(value: float) -> str:
    """A sample value (or a bucket bound) as the text format writes it."""
    value = float(value)
    if -INF < value < INF:
        return repr(value)
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def escape(value: str) -> str:
    """A label value as the text format quotes it."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


class IngestView(Protocol):
    """Call-record ingest counters (see `probes.hotline.ingest`)."""

    @property
    def ingested(self) -> Mapping[str, int]: ...

    @property
    def duplicates(self) -> Mapping[str, int]: ...

    @property
    def rejected(self) -> Mapping[tuple[str, str], int]: ...

    @property
    def connected(self) -> Mapping[str, bool]: ...

    @property
    def not_mine(self) -> Mapping[str, int]: ...


class StateView(Protocol):
    """The state store's write health (see `probes.state.store`)."""

    @property
    def health(self) -> WriteHealth: ...

    @property
    def pending(self) -> Sized: ...


class _Families:
    """Sample lines being written for one rendering, grouped by family; families in `skip`
    (the detail, when it is not wanted) are not written at all."""

    def __init__(
        self,
        strict: bool,
        warned: set[str],
        skip: frozenset[int] = frozenset(),
        channel: tuple[str, str] | None = None,
        location: str | None = None,
    ) -> None:
        self.strict = strict
        self.skip = skip
        # A vantage point's `location` pair, written last on every sample.
        self._tail = "" if location is None else f'location="{escape(location)}'

        self.lines: dict[int, list[str]] = {}
        self._warned = warned
        self._escaped: dict[str, str] = {}  # label values repeat within a channel
        # One channel's rendering: its `channel` and `kind` pairs are written once.
        self._channel = channel
        self._head = (
            "" if channel is None else f'channel="{escape(channel[0])}",kind="{escape(channel[1])}'
        )

    def add(
        self,
        name: str,
        labels: tuple[str, ...],
        value: float | Histogram,
        extra: tuple[str, ...] = (),
    ) -> None:
        """Add a sample; `extra` names labels beyond the catalogue's that this family
        carries (the channel labels declared in `global.labels`, on channel_info only)."""
        shape = SHAPES.get(name)
        if shape is None or len(labels) != len(shape.keys) + len(extra):
            self._bad(f"measurement {name!r} with {len(labels)} labels is not in the catalogue")
            return
        if shape.index in self.skip:
            return
        escaped, keys = self._escaped, shape.keys
        if extra:
            keys = keys + tuple(f'{k}="' for k in extra)
        if shape.per_channel and self._channel == labels[:2]:
            head, keys, labels = self._head, keys[2:], labels[2:]
        else:
            head = ""
        try:
            inner = '",'.join([k + escaped[v] for k, v in zip(keys, labels, strict=True)])
        except KeyError:  # a value not seen yet in this rendering
            escaped.update((v, escape(v)) for v in labels)
            inner = '",'.join([k + escaped[v] for k, v in zip(keys, labels, strict=True)])
        if head:
            inner = f'{head}",{inner}' if inner else head
        if self._tail:
            inner = f'{inner}",{self._tail}' if inner else self._tail
        out = self.lines.setdefault(shape.index, [])
        braced = "{" + inner + '"}' if inner else ""
        if isinstance(value, Histogram):
            if shape.family.type != "histogram":
                self._bad(f"{name} is a {shape.family.type}, got a histogram")
                return
            base, sep = shape.sample, '",' if inner else ""
            for bound, count in value.buckets:
                out.append(f'{base}_bucket{{{inner}{sep}le="{number(bound)}"}} {number(count)}\n')
            out.append(f"{base}_count{braced} {number(value.count)}\n")
            out.append(f"{base}_sum{braced} {number(value.sum)}\n")
        elif shape.family.type == "histogram":
            self._bad(f"{name} is a histogram, got a plain value")
        else:
            out.append(f"{shape.sample}{braced} {number(value)}\n")

    def _bad(self, message: str) -> None:
        if self.strict:
            raise ValueError(message)
        if message not in self._warned:
            self._warned.add(message)
            log.error("skipping metric: %s", message)

    def rendered(self) -> Rendered:
        return {i: "".join(lines).encode() for i, lines in self.lines.items() if lines}


def assemble(parts: Iterable[Rendered]) -> bytes:
    """One valid body from renderings: each family's HELP/TYPE once, its samples together,
    families in catalogue order."""
    grouped: dict[int, list[bytes]] = {}
    for part in parts:
        for i, text in part.items():
            grouped.setdefault(i, []).append(text)
    return b"".join(HEADERS[i] + b"".join(grouped[i]) for i in sorted(grouped))


class ZombieCollector:
    """Renders channel verdicts and check results, and the monitor's own health."""

    def __init__(
        self,
        status: MonitorStatus,
        ingest: IngestView | None = None,
        *,
        state: StateView | None = None,
        strict: bool = False,
        clock: Clock | None = None,
        order_ingest: IngestView | None = None,
        location: str | None = None,
    ) -> None:
        self.location = location
        self.status = status
        self.ingest = ingest
        self.state = state
        self.order_ingest = order_ingest  # work-order events (probes.hotline.ordersink)
        self.strict = strict
        self.clock = clock  # for what depends on the time of the scrape (maintenance)
        self._warned: set[str] = set()
        # Per-channel families and their labels beyond channel and kind, in catalogue
        # order: a measurement labelled in that order is added without a reorder.
        self._plain = {f.name: f.extra_labels for f in FAMILIES if f.labels[:2] == CH}

    def render_channel(
        self, channel: ChannelConfig, skip: frozenset[int] = frozenset()
    ) -> Rendered:
        """One channel's series as they stand now, but for the families in `skip` (DETAIL:
        the headline alone; HEADLINE: the detail alone)."""
        f = _Families(self.strict, self._warned, skip, (channel.name, channel.kind), self.location)
        self._channel(f, channel)
        return f.rendered()

    def render_self(self) -> Rendered:
        """The monitor's own series (scheduler, config, ingest, build)."""
        f = _Families(self.strict, self._warned, location=self.location)
        self._self_metrics(f)
        return f.rendered()

    def _channel(self, f: _Families, channel: ChannelConfig) -> None:
        st = self.status
        ch = (channel.name, channel.kind)
        url = str(channel.url) if channel.url else ""
        # Every channel carries every declared key (filled at load), in declared order.
        keys = tuple(channel.labels)
        values = tuple(channel.labels.values())
        f.add("channel_info", (*ch, channel.owner, channel.title, url, *values), 1.0, keys)
        verdict = st.verdicts.get(channel.name)
        current = verdict.state if verdict else State.UNKNOWN
        for state in State:
            f.add("channel_state", (*ch, state.value), float(state is current))
        if self.clock is not None:
            planned = channel.maintenance_at(self.clock.now()) is not None
            f.add("channel_maintenance", ch, float(planned))
        if verdict:
            for code in sorted({r.code for r in verdict.reasons}):
                f.add("channel_reason", (*ch, code), 1.0)
        for check, _spec in channel.enabled_checks():
            result = st.results.get((channel.name, check))
            for outcome in ("success", "failure", "unknown"):
                runs = st.runs.get((channel.name, check, outcome), 0)
                f.add("check_runs", (*ch, check, outcome), runs)
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
            plain = self._plain.get(m.name)
            if plain == () and not m.labels:
                f.add(m.name, ch, m.value)  # the usual case: no labels of its own
                continue
            if plain and tuple(k for k, _ in m.labels) == plain:
                f.add(m.name, (*ch, *(v for _, v in m.labels)), m.value)
                continue
            shape = SHAPES.get(m.name)
            labels = dict(m.labels)
            if (
                shape is None
                or set(labels) != set(shape.family.extra_labels)
                or shape.family.labels[:2] != CH
            ):
                f._bad(f"measurement {m.name!r} labels {sorted(labels)} do not match catalogue")
                continue
            f.add(m.name, (*ch, *(labels[k] for k in shape.family.extra_labels)), m.value)

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
                f.add("hotline_records_ingested", (source, "stored"), float(n))
            for source, n in sorted(self.ingest.duplicates.items()):
                f.add("hotline_records_ingested", (source, "duplicate"), float(n))
            for (source, reason), n in sorted(self.ingest.rejected.items()):
                f.add("hotline_records_rejected", (source, reason), float(n))
            for source, up in sorted(self.ingest.connected.items()):
                f.add("hotline_source_connected", (source,), float(up))
            # From a source's first record on, at 0 until another replica's record comes,
            # so a rate over it starts at the start.
            not_mine = self.ingest.not_mine
            for source in sorted(set(self.ingest.ingested) | set(not_mine)):
                f.add("hotline_records_not_mine", (source,), float(not_mine.get(source, 0)))
        if self.state is not None:
            f.add("state_write_errors", (), float(self.state.health.errors))
            f.add("state_writes_pending", (), float(len(self.state.pending)))
        if self.order_ingest is not None:
            for source, n in sorted(self.order_ingest.ingested.items()):
                f.add("workorder_events_ingested", (source, "stored"), float(n))
            for source, n in sorted(self.order_ingest.duplicates.items()):
                f.add("workorder_events_ingested", (source, "duplicate"), float(n))
            for (source, reason), n in sorted(self.order_ingest.rejected.items()):
                f.add("workorder_events_rejected", (source, reason), float(n))
