"""The `freshness` check kind. (Placeholder until the freshness work lands: always UNKNOWN.)"""

from __future__ import annotations

from probes.config.freshness import FreshnessSpec
from probes.kinds.context import CheckContext
from probes.model import CheckResult


async def check(spec: FreshnessSpec, ctx: CheckContext) -> CheckResult:
    now = ctx.clock.now()
    return CheckResult(
        check="freshness", kind="freshness", success=None, started=now, duration=0.0,
        error="the freshness check is not built yet",
    )  # fmt: skip
