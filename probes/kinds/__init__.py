"""Check kinds: one module each, all with `async def check(spec, ctx) -> CheckResult`.

`KINDS` is the one literal dispatch table; the runner looks a check's kind up here and
nothing else knows which modules exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from probes.kinds import availability, board, freshness, hotline, links, service, workorders
from probes.kinds.context import CheckContext
from probes.model import CheckResult

CheckFn = Callable[[Any, CheckContext], Awaitable[CheckResult]]

KINDS: dict[str, CheckFn] = {
    "availability": availability.check,
    "freshness": freshness.check,
    "links": links.check,
    "service": service.check,
    "board": board.check,
    "hotline": hotline.check,
    "workorders": workorders.check,
}

__all__ = ["KINDS", "CheckContext", "CheckFn"]
