"""What `/probe?channel=NAME` answers: blackbox_exporter's `probe_success` and
`probe_duration_seconds`, then the channel's `zombie_` series; with `debug=true` the
checks' evidence as text, the way blackbox_exporter's debug output reads.

A probe has no side effects of its own: each check whose latest result is younger than its
interval is answered from that result, and a due one runs through the scheduler's single
flight (`Scheduler.fresh_or_run`), so concurrent requests and the scheduler share one run
and the history gets one entry per interval, as if the scheduler alone had run it.

`probe_success` is 1 only when every check succeeded and the verdict is neither zombie nor
unknown: a channel judged zombie from its week of history is not a successful probe even
when its latest fetch worked. Degraded is a warning, not a failure, so it stays 1.

The debug text leaves out what blackbox_exporter calls the module configuration: a
channel's config may hold secrets substituted from the environment (service step
credentials, headers), which a debug page must not show.
"""

from __future__ import annotations

from dataclasses import dataclass

from probes.config import ChannelConfig
from probes.model import CheckResult, State, Verdict

FAILED_STATES = (State.ZOMBIE, State.UNKNOWN)


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    """One `/probe` answer: the verdict, each check's result and whether it ran now."""

    channel: ChannelConfig
    verdict: Verdict
    results: tuple[tuple[CheckResult, bool], ...]
    duration: float

    @property
    def success(self) -> bool:
        return self.verdict.state not in FAILED_STATES and all(
            result.success is True for result, _ in self.results
        )

    def head(self, location: str | None = None) -> bytes:
        """The blackbox_exporter-style series that lead the answer."""
        labels = "" if location is None else f'{{location="{location}"}}'
        return (
            "# HELP probe_success Whether every check of the channel succeeded and the "
            "channel is neither zombie nor unknown.\n"
            "# TYPE probe_success gauge\n"
            f"probe_success{labels} {int(self.success)}\n"
            "# HELP probe_duration_seconds How long the probe took.\n"
            "# TYPE probe_duration_seconds gauge\n"
            f"probe_duration_seconds{labels} {self.duration:.6f}\n"
        ).encode()

    def debug(self, metrics: bytes, now: float, location: str | None = None) -> str:
        """The evidence as text, then the metrics the probe would have returned."""
        v = self.verdict
        lines = [
            f"Probe of channel {v.channel} ({v.kind}): {v.state.value}",
            f"Verdict: {v.summary}",
        ]
        lines += [f"  reason {r.code} ({r.state.value}, {r.check}): {r.detail}" for r in v.reasons]
        lines.append("")
        for result, ran in self.results:
            status = {True: "succeeded", False: "failed", None: "could not tell"}[result.success]
            age = now - result.started
            origin = "ran for this probe" if ran else f"the latest result, {age:.0f}s old"
            lines.append(f"Check {result.check}: {status} in {result.duration:.3f}s ({origin})")
            if result.failure is not None:
                lines.append(f"  failure: {result.failure.value}")
            if result.error:
                lines.append(f"  error: {result.error}")
            lines += [f"  evidence: {item}" for item in result.evidence]
            for m in result.measurements:
                if not isinstance(m.value, int | float):
                    continue  # a histogram: in the metrics below
                labels = ",".join(f'{k}="{val}"' for k, val in m.labels)
                lines.append(f"  measurement: zombie_{m.name}{{{labels}}} {m.value}")
        lines += ["", "Metrics that would have been returned:", ""]
        return "\n".join(lines) + "\n" + (self.head(location) + metrics).decode()
