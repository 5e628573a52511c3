"""The `hotline` check kind. (Placeholder until the hotline work lands: always UNKNOWN.)"""

from __future__ import annotations

from probes.config.hotline import HotlineSpec
from probes.kinds.context import CheckContext
from probes.model import CheckResult


async def check(spec: HotlineSpec, ctx: CheckContext) -> CheckResult:
    now = ctx.clock.now()
    return CheckResult(
        check="hotline", kind="hotline", success=None, started=now, duration=0.0,
        error="the hotline check is not built yet",
    )  # fmt: skip
