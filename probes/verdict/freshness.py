"""Verdict rule of the `freshness` check. (Placeholder until the freshness work lands.)"""

from __future__ import annotations

from probes.config.freshness import FreshnessSpec
from probes.model import CheckResult, Reason
from probes.verdict.common import JudgeContext


def reasons(spec: FreshnessSpec, result: CheckResult, jc: JudgeContext) -> list[Reason]:
    return []
