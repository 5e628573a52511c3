"""Verdict rule of the `service` check: an online service is a zombie (`service_broken`)
after `failures_for_broken` consecutive failed runs (default 3), and degraded from its
first failed run until then, so one network blip warns but does not veto.
"""

from __future__ import annotations

from probes.config.service import HISTORY_LOOKBACK, ServiceSpec
from probes.model import CheckResult, Reason, State
from probes.state import history
from probes.verdict.common import JudgeContext


def reasons(spec: ServiceSpec, result: CheckResult, jc: JudgeContext) -> list[Reason]:
    if result.success is not False:
        return []
    since = jc.now - HISTORY_LOOKBACK
    planned = jc.channel.maintenance_spans(since, jc.now)  # failures there do not count
    stats = history.window(jc.store, jc.channel.name, "service", since, planned)
    # The runner records before judging; a result judged without being recorded (a dry
    # run) still counts as one failure.
    failures = stats.consecutive_failures
    if jc.channel.maintenance_at(result.started) is None:
        failures = max(failures, 1)
    if not failures:
        return []
    k = spec.failures_for_broken
    detail = f"{failures} consecutive failed runs (broken at {k}); last: {result.error}"
    state = State.ZOMBIE if failures >= k else State.DEGRADED
    return [Reason("service_broken", state, detail, "service")]
