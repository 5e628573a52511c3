"""What every verdict rule receives and returns, and the reason for a check that did not
finish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probes.config import ChannelConfig
from probes.model import CheckResult, Failure, Reason, State


@dataclass(frozen=True, slots=True)
class JudgeContext:
    """The channel being judged and the time. Rules read history only through the run
    window the runner stamped on a result (`CheckResult.window`)."""

    channel: ChannelConfig
    now: float


Rule = Callable[[Any, CheckResult, Any, JudgeContext], list[Reason]]
"""`reasons(spec, result, findings, jc)`: `findings` is the result's findings when they
are of the kind's type, None when the check did not finish (timed out, crashed) or had
nothing to find; a rule must say something then, never let it pass as ok."""


def not_finished(result: CheckResult) -> Reason:
    """A check that produced no findings could not tell: unknown, with its error."""
    return Reason(
        "evidence_missing", State.UNKNOWN, result.error or "the check did not finish",
        result.check,
    )  # fmt: skip


def blocked(result: CheckResult, check: str) -> list[Reason]:
    """`blocked_by_waf` (unknown) when an anti-bot challenge hid the page from the run:
    the monitor cannot tell, and the reason names the product and asks for access."""
    if result.failure is not Failure.BLOCKED:
        return []
    return [Reason("blocked_by_waf", State.UNKNOWN, result.error, check)]
