"""Verdict rule of the `service` check: an online service is a zombie (`service_broken`)
after `failures_for_broken` consecutive failed runs (default 3), and degraded from its
first failed run until then, so one network blip warns but does not veto. A run that ran
out of time is a failed run. A run stopped by an anti-bot challenge could not tell: unknown
`blocked_by_waf`, never a failed run.
"""

from __future__ import annotations

from probes.config.service import ServiceSpec
from probes.findings.service import ServiceFindings
from probes.model import CheckResult, Reason, State
from probes.verdict.common import JudgeContext, blocked


def reasons(
    spec: ServiceSpec, result: CheckResult, findings: ServiceFindings | None, jc: JudgeContext
) -> list[Reason]:
    if result.success is not False:
        return blocked(result, "service")
    # The window includes this run, unless it ran inside a maintenance window: then it
    # does not count, and a service that only failed there is not broken. A result with no
    # window (a dry run) still is one failure.
    failures = result.window.consecutive_failures if result.window else 1
    if not failures:
        return []
    k = spec.failures_for_broken
    detail = f"{failures} consecutive failed runs (broken at {k}); last: {result.error}"
    state = State.ZOMBIE if failures >= k else State.DEGRADED
    return [Reason("service_broken", state, detail, "service")]
