"""The `service` check kind. (Placeholder until the service work lands: always UNKNOWN.)"""

from __future__ import annotations

from probes.config.service import ServiceSpec
from probes.kinds.context import CheckContext
from probes.model import CheckResult


async def check(spec: ServiceSpec, ctx: CheckContext) -> CheckResult:
    now = ctx.clock.now()
    return CheckResult(
        check="service", kind="service", success=None, started=now, duration=0.0,
        error="the service check is not built yet",
    )  # fmt: skip
