"""Verdict rule of the `links` check. (Placeholder until the links work lands.)"""

from __future__ import annotations

from probes.config.links import LinksSpec
from probes.model import CheckResult, Reason
from probes.verdict.common import JudgeContext


def reasons(spec: LinksSpec, result: CheckResult, jc: JudgeContext) -> list[Reason]:
    return []
