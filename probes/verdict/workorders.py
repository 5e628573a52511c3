"""Verdict rule of the `workorders` check: per reason, the share of judged orders that
show it (the boilerplate share is of the orders with a reply), degraded or zombie at the
spec's shares (`probes.hotline.orderlife.share_levels`); no share is judged with fewer
than `min_orders` orders. Each reason's detail names its first order as evidence.

Reasons: `workorder_buck_passing`, `workorder_forward_only`, `workorder_overdue`,
`workorder_fake_closure`, `workorder_boilerplate`. A run that found no orders (success
None) gets no reason here: `judge` makes the channel unknown with the check's error; a
run that did not finish (no findings) is unknown too.
"""

from __future__ import annotations

from probes.config.workorders import WorkOrdersSpec
from probes.findings.workorders import OrderReason, WorkOrderFindings
from probes.hotline.orderlife import share_levels
from probes.model import CheckResult, Reason
from probes.verdict.common import JudgeContext, not_finished

CHECK = "workorders"
WHAT = {
    OrderReason.BUCK_PASSING: "passed between departments",
    OrderReason.FORWARD_ONLY: "forwarded with no follow-up",
    OrderReason.OVERDUE: "open past their time limit",
    OrderReason.FAKE_CLOSURE: "closed without being solved",
    OrderReason.BOILERPLATE: "answered with a template reply",
}


def reasons(
    spec: WorkOrdersSpec,
    result: CheckResult,
    findings: WorkOrderFindings | None,
    jc: JudgeContext,
) -> list[Reason]:
    if findings is None:
        return [] if result.success is None else [not_finished(result)]
    out: list[Reason] = []
    for level in share_levels(findings, spec):
        if level.state is None:
            continue
        detail = (
            f"{level.count}/{level.of} orders ({level.count / level.of:.0%}) "
            f"{WHAT[level.reason]}, e.g. {findings.example(level.reason)}"
        )
        out.append(Reason(level.reason.value, level.state, detail, CHECK))
    return out
