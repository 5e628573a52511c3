"""The `links` check kind. (Placeholder until the links work lands: always UNKNOWN.)"""

from __future__ import annotations

from probes.config.links import LinksSpec
from probes.kinds.context import CheckContext
from probes.model import CheckResult


async def check(spec: LinksSpec, ctx: CheckContext) -> CheckResult:
    now = ctx.clock.now()
    return CheckResult(
        check="links", kind="links", success=None, started=now, duration=0.0,
        error="the links check is not built yet",
    )  # fmt: skip
