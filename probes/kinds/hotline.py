"""The `hotline` check kind: statistics of the call records stored for the channel.

Hotlines are not probed over HTTP: the MQTT and file sources (probes.hotline) store call
records in SQLite, and this check reads them for `ctx.channel` at `ctx.clock.now()`.
The check measures (`HotlineFindings`); the verdict rule judges. Its own success uses the
findings' predicates the rule uses: None when the feed is silent for longer than
`feed_silent_after` of service time (the channel is unknown, never ok), False when the
line is dead or its answered share is below the zombie ratio, True else.
"""

from __future__ import annotations

from probes.config.hotline import HotlineSpec
from probes.config.types import format_duration
from probes.findings.hotline import HotlineFindings
from probes.hotline.stats import HotlineStats, compute
from probes.kinds.context import CheckContext
from probes.model import Failure, Histogram, Measurement, Outcome, Report


def _measurements(stats: HotlineStats) -> list[Measurement]:
    t = stats.totals
    out = [
        Measurement("hotline_calls", float(t.calls[o]), (("outcome", o.value),)) for o in Outcome
    ]
    out.append(
        Measurement(
            "hotline_answer_wait_seconds",
            Histogram(
                tuple((b, float(n)) for b, n in t.wait_buckets), t.wait_sum, float(t.wait_count)
            ),
        )
    )
    out.append(Measurement("hotline_quick_hangups", float(t.quick_hangups)))
    out.append(Measurement("hotline_transfer_loops", float(t.transfer_loops)))
    if t.last_answered is not None:
        out.append(Measurement("hotline_last_answered_timestamp_seconds", t.last_answered))
    if t.last_record is not None:
        out.append(Measurement("hotline_last_record_timestamp_seconds", t.last_record))
    for w in stats.found.windows:
        for o in Outcome:
            labels = (("window", w.label), ("outcome", o.value))
            out.append(Measurement("hotline_window_calls", float(w.by_outcome[o]), labels))
        if w.answered_ratio is not None:
            out.append(
                Measurement(
                    "hotline_window_answered_ratio", w.answered_ratio, (("window", w.label),)
                )
            )
    return out


def _evidence(found: HotlineFindings) -> list[str]:
    lines = []
    for w in found.windows:
        ratio = "n/a" if w.answered_ratio is None else f"{w.answered_ratio:.0%}"
        lines.append(
            f"{w.label} of service time: {w.calls} calls, {w.answered} answered ({ratio}), "
            f"{w.answered_within} within limit, {w.quick_hangups} quick hang-ups, "
            f"{w.transfer_loops} transfer loops"
        )
    if found.last_calls:
        lines.append("last calls in service hours: " + ", ".join(o.value for o in found.last_calls))
    return lines


async def check(spec: HotlineSpec, ctx: CheckContext) -> Report:
    stats = compute(ctx.store, ctx.channel.name, spec, ctx.clock.now())
    found = stats.found
    measurements = tuple(_measurements(stats))
    evidence = tuple(_evidence(found))
    if found.feed_silent(spec.feed_silent_after):
        error = (
            "no call record received yet"
            if found.silent_for is None
            else f"no call record for {format_duration(round(found.silent_for))} of service time"
        )
        return Report(None, found, error=error, evidence=evidence, measurements=measurements)
    th = spec.thresholds
    dead = found.dead(spec.last_n_test_calls)
    low = found.answered_below(th.zombie_answered_ratio, th.min_calls)
    error = ""
    if dead:
        error = f"none of the last {spec.last_n_test_calls} calls in service hours answered"
    elif low:
        long = found.long
        error = f"{long.answered}/{long.calls} calls answered in {long.label} of service time"
    return Report(
        not (dead or low), found, failure=Failure.ASSERTION if (dead or low) else None,
        error=error, evidence=evidence, measurements=measurements,
    )  # fmt: skip
