"""Verdict rule of the `service` check. (Placeholder until the service work lands.)"""

from __future__ import annotations

from probes.config.service import ServiceSpec
from probes.model import CheckResult, Reason
from probes.verdict.common import JudgeContext


def reasons(spec: ServiceSpec, result: CheckResult, jc: JudgeContext) -> list[Reason]:
    return []
