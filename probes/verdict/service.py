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
    # The window includes this run; a result with none still is one failure.
    failures = max(result.window.consecutive_failures if result.window else 0, 1)
    k = spec.failures_for_broken
    detail = f"{failures} consecutive failed runs (broken at {k}); last: {result.error}"
    state = State.ZOMBIE if failures >= k else State.DEGRADED
    return [Reason("service_broken", state, detail, "service")]
