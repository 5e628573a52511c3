"""What every verdict rule receives and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probes.config import ChannelConfig
from probes.model import CheckResult, Failure, Reason, State
from probes.state.store import Store


@dataclass(frozen=True, slots=True)
class JudgeContext:
    """The channel being judged, the state store (for window rules) and the time."""

    channel: ChannelConfig
    store: Store
    now: float


Rule = Callable[[Any, CheckResult, JudgeContext], list[Reason]]


def blocked(result: CheckResult, check: str) -> list[Reason]:
    """`blocked_by_waf` (unknown) when an anti-bot challenge hid the page from the run:
    the monitor cannot tell, and the reason names the product and asks for access."""
    if result.failure is not Failure.BLOCKED:
        return []
    return [Reason("blocked_by_waf", State.UNKNOWN, result.error, check)]
