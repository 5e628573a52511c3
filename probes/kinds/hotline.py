"""The `hotline` check kind: statistics of the call records stored for the channel.

Hotlines are not probed over HTTP: the MQTT and file sources (probes.hotline) store call
records in SQLite, and this check reads them for `ctx.channel` at `ctx.clock.now()`.
A feed silent for longer than `feed_silent_after` of service time gives success=None (the
channel is unknown, never ok). Otherwise success is False when the rule's zombie
conditions hold (none of the last N calls answered, or the answered share below the
zombie ratio), True else; the verdict rule grades the rest from `details`.
"""

from __future__ import annotations

from probes.config.hotline import HotlineSpec
from probes.config.types import format_duration
from probes.hotline.stats import HotlineStats, compute
from probes.kinds.context import CheckContext
from probes.model import CheckResult, Failure, Histogram, Measurement, Outcome


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
    for w in stats.windows:
        for o in Outcome:
            labels = (("window", w.label), ("outcome", o.value))
            out.append(Measurement("hotline_window_calls", float(w.calls[o]), labels))
        if w.answered_ratio is not None:
            out.append(
                Measurement(
                    "hotline_window_answered_ratio", w.answered_ratio, (("window", w.label),)
                )
            )
    return out


def _details(stats: HotlineStats, spec: HotlineSpec) -> dict[str, object]:
    return {
        "windows": {
            w.label: {
                "seconds": w.seconds, "since": w.since, "calls": w.total, "answered": w.answered,
                "answered_within": w.answered_within, "quick_hangups": w.quick_hangups,
                "transfer_loops": w.transfer_loops,
                "by_outcome": {o.value: n for o, n in w.calls.items()},
            }
            for w in stats.windows
        },
        "long_window": stats.long.label,
        "last_calls": [o.value for o in stats.last_calls],
        "silent_for": stats.silent_for,
        "in_service": stats.in_service,
    }  # fmt: skip


def _evidence(stats: HotlineStats) -> list[str]:
    lines = []
    for w in stats.windows:
        ratio = "n/a" if w.answered_ratio is None else f"{w.answered_ratio:.0%}"
        lines.append(
            f"{w.label} of service time: {w.total} calls, {w.answered} answered ({ratio}), "
            f"{w.answered_within} within limit, {w.quick_hangups} quick hang-ups, "
            f"{w.transfer_loops} transfer loops"
        )
    if stats.last_calls:
        lines.append("last calls in service hours: " + ", ".join(o.value for o in stats.last_calls))
    return lines


def is_dead(stats: HotlineStats, spec: HotlineSpec) -> bool:
    """None of the last N test calls in service hours answered (and there were N)."""
    last = stats.last_calls
    return len(last) >= spec.last_n_test_calls and Outcome.ANSWERED not in last


async def check(spec: HotlineSpec, ctx: CheckContext) -> CheckResult:
    now = ctx.clock.now()
    began = ctx.clock.monotonic()
    stats = compute(ctx.store, ctx.channel.name, spec, now)
    measurements = tuple(_measurements(stats))
    details = _details(stats, spec)
    evidence = tuple(_evidence(stats))
    duration = ctx.clock.monotonic() - began
    if stats.silent_for is None or stats.silent_for > spec.feed_silent_after:
        error = (
            "no call record received yet"
            if stats.silent_for is None
            else f"no call record for {format_duration(round(stats.silent_for))} of service time"
        )
        return CheckResult(
            check="hotline", kind="hotline", success=None, started=now, duration=duration,
            error=error, evidence=evidence, measurements=measurements,
            details={**details, "feed_silent": True},
        )  # fmt: skip
    long = stats.long
    low = (
        long.answered_ratio is not None
        and long.total >= spec.thresholds.min_calls
        and long.answered_ratio < spec.thresholds.zombie_answered_ratio
    )
    dead = is_dead(stats, spec)
    error = ""
    if dead:
        error = f"none of the last {spec.last_n_test_calls} test calls in service hours answered"
    elif low:
        error = f"{long.answered}/{long.total} calls answered in {long.label} of service time"
    return CheckResult(
        check="hotline", kind="hotline", success=not (dead or low), started=now,
        duration=duration, failure=Failure.ASSERTION if (dead or low) else None, error=error,
        evidence=evidence, measurements=measurements, details={**details, "feed_silent": False},
    )  # fmt: skip
