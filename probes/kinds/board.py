"""The `board` check kind. (Placeholder until the board work lands: always UNKNOWN.)"""

from __future__ import annotations

from probes.config.board import BoardSpec
from probes.kinds.context import CheckContext
from probes.model import CheckResult


async def check(spec: BoardSpec, ctx: CheckContext) -> CheckResult:
    now = ctx.clock.now()
    return CheckResult(
        check="board", kind="board", success=None, started=now, duration=0.0,
        error="the board check is not built yet",
    )  # fmt: skip
