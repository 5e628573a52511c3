"""Verdict rule of the `hotline` check. (Placeholder until the hotline work lands.)"""

from __future__ import annotations

from probes.config.hotline import HotlineSpec
from probes.model import CheckResult, Reason
from probes.verdict.common import JudgeContext


def reasons(spec: HotlineSpec, result: CheckResult, jc: JudgeContext) -> list[Reason]:
    return []
