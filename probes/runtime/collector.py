"""The Prometheus side: the monitor's series as text exposition (format 0.0.4), one
channel at a time, plus the monitor's own health.

A channel's series are rendered when its results change and kept by
`probes.runtime.exposition`, so a scrape joins text instead of rendering every series;
`/probe` renders its one channel here too, so both show the same series.

Families, types and labels come from `probes.catalogue`; a measurement whose name or labels
are not declared there is a bug: in strict mode (tests) it raises, in production it is
skipped and logged once, so one bad check cannot take /metrics down.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Protocol

from probes import __version__
from probes.catalogue import BY_NAME, CH, FAMILIES, Family
from probes.config import ChannelConfig
from probes.model import CheckResult, Histogram, State
from probes.runtime.status import MonitorStatus

log = logging.getLogger("probes.runtime.collector")

# A family's position in the catalogue: the order families appear in every body.
INDEX: dict[str, int] = {f.name: i for i, f in enumerate(FAMILIES)}
# What a rendering produces: family position -> that family's sample lines (never empty).
Rendered = dict[int, bytes]


def _sample_name(fam: Family) -> str:
    return fam.full_name + ("_total" if fam.type == "counter" else "")


def _header(fam: Family) -> bytes:
    name = _sample_name(fam)
    text = fam.help.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {text}\n# TYPE {name} {fam.type}\n".encode()


HEADERS: tuple[bytes, ...] = tuple(_header(f) for f in FAMILIES)


def number(value: float) -> str:
    """A sample value (or a bucket bound) as the text format writes it."""
    value = float(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return "NaN" if math.isnan(value) else repr(value)


def escape(value: str) -> str:
    """A label value as the text format quotes it."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


class IngestView(Protocol):
    """Call-record ingest counters (see `probes.hotline.ingest`)."""

    @property
    def ingested(self) -> Mapping[str, int]: ...

    @property
    def rejected(self) -> Mapping[tuple[str, str], int]: ...


class _Families:
    """Sample lines being written for one rendering, grouped by family."""

    def __init__(self, strict: bool, warned: set[str]) -> None:
        self.strict = strict
        self.lines: dict[int, list[str]] = {}
        self._warned = warned

    def add(self, name: str, labels: tuple[str, ...], value: float | Histogram) -> None:
        fam = BY_NAME.get(name)
        if fam is None or len(labels) != len(fam.labels):
            self._bad(f"measurement {name!r} with {len(labels)} labels is not in the catalogue")
            return
        pairs = [f'{k}="{escape(v)}"' for k, v in zip(fam.labels, labels, strict=True)]
        out = self.lines.setdefault(INDEX[name], [])
        if isinstance(value, Histogram):
            if fam.type != "histogram":
                self._bad(f"{name} is a {fam.type}, got a histogram")
                return
            base = fam.full_name
            for bound, count in value.buckets:
                le = ",".join([*pairs, f'le="{number(bound)}"'])
                out.append(f"{base}_bucket{{{le}}} {number(count)}\n")
            braced = "{" + ",".join(pairs) + "}" if pairs else ""
            out.append(f"{base}_count{braced} {number(value.count)}\n")
            out.append(f"{base}_sum{braced} {number(value.sum)}\n")
        elif fam.type == "histogram":
            self._bad(f"{name} is a histogram, got a plain value")
        else:
            braced = "{" + ",".join(pairs) + "}" if pairs else ""
            out.append(f"{_sample_name(fam)}{braced} {number(value)}\n")

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
        self, status: MonitorStatus, ingest: IngestView | None = None, *, strict: bool = False
    ) -> None:
        self.status = status
        self.ingest = ingest
        self.strict = strict
        self._warned: set[str] = set()

    def render_channel(self, channel: ChannelConfig) -> Rendered:
        """Every series of one channel (headline and detail families) as it stands now."""
        f = _Families(self.strict, self._warned)
        self._channel(f, channel)
        return f.rendered()

    def render_self(self) -> Rendered:
        """The monitor's own series (scheduler, config, ingest, build)."""
        f = _Families(self.strict, self._warned)
        self._self_metrics(f)
        return f.rendered()

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
