"""Verdict rule of the `availability` check: the official "site unreachable" rule
(政府网站检查指标) over the availability history, plus slowness and certificate expiry.

- zombie `site_unreachable`: failures ≥ 5% of the window's probes (default 7 days);
- degraded `site_unreachable`: failures ≥ 3%, or ≥ 2 consecutive failures;
- degraded `site_slow`: the last probe slower than `max_duration` (when set);
- degraded `cert_expiring`: the certificate expires within `cert_expiry_warning`;
- unknown `blocked_by_waf`: the last probe met an anti-bot challenge. Blocked probes are
  neither successes nor failures: they never count toward the unreachable share.

The window is the one the runner stamped on the result (this probe included). While the
history is shorter than the window the share is taken over the history there is, so a
site that is down from its first probe is a zombie at once (and a one-off CLI check of a
dead URL says so) rather than "ok until a week has passed". A probe that ran out of time is
a failed probe in that window.
"""

from __future__ import annotations

from probes.config.availability import AvailabilitySpec
from probes.config.types import format_duration
from probes.findings.availability import AvailabilityFindings
from probes.model import CheckResult, Reason, State
from probes.verdict.common import JudgeContext, blocked


def reasons(
    spec: AvailabilitySpec,
    result: CheckResult,
    findings: AvailabilityFindings | None,
    jc: JudgeContext,
) -> list[Reason]:
    out = blocked(result, "availability")
    rule = spec.unreachable
    stats = result.window
    if stats is not None and stats.runs:
        share = stats.failures / stats.runs
        span = f"{stats.failures}/{stats.runs} probes failed in {format_duration(rule.window)}"
        last = f"; last: {result.error}" if result.success is False and result.error else ""
        if share >= rule.zombie_failure_ratio and stats.failures:
            out.append(
                Reason("site_unreachable", State.ZOMBIE, f"{span} ({share:.1%}){last}",
                       "availability")
            )  # fmt: skip
        elif share >= rule.degraded_failure_ratio and stats.failures:
            out.append(
                Reason("site_unreachable", State.DEGRADED, f"{span} ({share:.1%}){last}",
                       "availability")
            )  # fmt: skip
        elif stats.consecutive_failures >= rule.degraded_consecutive_failures:
            out.append(
                Reason("site_unreachable", State.DEGRADED,
                       f"{stats.consecutive_failures} consecutive failures{last}",
                       "availability")
            )  # fmt: skip
    if findings is None:
        return out
    if result.success and spec.max_duration is not None and findings.duration > spec.max_duration:
        out.append(
            Reason("site_slow", State.DEGRADED,
                   f"took {findings.duration:.1f}s (limit {spec.max_duration:g}s)",
                   "availability")
        )  # fmt: skip
    not_after = findings.tls_not_after
    if not_after is not None and not_after - jc.now < spec.cert_expiry_warning:
        days = (not_after - jc.now) / 86400
        out.append(
            Reason("cert_expiring", State.DEGRADED,
                   f"TLS certificate expires in {days:.1f} days", "availability")
        )  # fmt: skip
    return out
