"""Verdict rule of the `board` check. (Placeholder until the board work lands.)"""

from __future__ import annotations

from probes.config.board import BoardSpec
from probes.model import CheckResult, Reason
from probes.verdict.common import JudgeContext


def reasons(spec: BoardSpec, result: CheckResult, jc: JudgeContext) -> list[Reason]:
    return []
