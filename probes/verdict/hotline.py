"""Verdict rule of the `hotline` check (DESIGN table; GB/T 33358-2016: answer within 15 s,
at least 95% of calls connected over 24 h), over the long window (default 24 h of service
time) the check measured (`HotlineFindings`); a check that ran out of time reads as a
silent feed (unknown):

- unknown `hotline_feed_silent`: no record for `feed_silent_after` of service time;
- zombie `hotline_dead`: none of the last N calls (default 5) in service hours answered;
- zombie `hotline_unanswered`: answered share < 50%; degraded below 95%;
- degraded `hotline_slow_answer`: answered within `answer_within` < 80% of answered calls;
- degraded `hotline_quick_hangup`: answered calls over within `quick_hangup` > 20%;
- degraded `hotline_transfer_loop`: a call in the window passed back to a department.

Ratios are judged only with at least `min_calls` calls in the window.
"""

from __future__ import annotations

from probes.config.hotline import HotlineSpec
from probes.findings.hotline import HotlineFindings
from probes.model import CheckResult, Reason, State
from probes.verdict.common import JudgeContext

CHECK = "hotline"


def reasons(
    spec: HotlineSpec, result: CheckResult, findings: HotlineFindings | None, jc: JudgeContext
) -> list[Reason]:
    if findings is None or findings.feed_silent(spec.feed_silent_after):
        return [Reason("hotline_feed_silent", State.UNKNOWN, result.error or "no records", CHECK)]
    th = spec.thresholds
    out: list[Reason] = []
    if findings.dead(spec.last_n_test_calls):
        out.append(
            Reason("hotline_dead", State.ZOMBIE,
                   f"none of the last {len(findings.last_calls)} calls in service hours "
                   "answered", CHECK)
        )  # fmt: skip
    w = findings.long
    total, answered = w.calls, w.answered
    if total >= th.min_calls:
        share = answered / total
        span = f"{answered}/{total} calls answered in {w.label} of service time ({share:.0%})"
        if findings.answered_below(th.zombie_answered_ratio, th.min_calls):
            out.append(Reason("hotline_unanswered", State.ZOMBIE, span, CHECK))
        elif findings.answered_below(th.degraded_answered_ratio, th.min_calls):
            out.append(Reason("hotline_unanswered", State.DEGRADED, span, CHECK))
    if answered >= th.min_calls:
        within = w.answered_within / answered
        if within < th.degraded_answered_within_ratio:
            out.append(
                Reason("hotline_slow_answer", State.DEGRADED,
                       f"{within:.0%} of answered calls answered within "
                       f"{spec.answer_within:g}s", CHECK)
            )  # fmt: skip
        quick = w.quick_hangups / answered
        if quick > th.degraded_quick_hangup_ratio:
            out.append(
                Reason("hotline_quick_hangup", State.DEGRADED,
                       f"{quick:.0%} of answered calls over within {spec.quick_hangup:g}s",
                       CHECK)
            )  # fmt: skip
    if w.transfer_loops >= th.degraded_transfer_loops:
        out.append(
            Reason("hotline_transfer_loop", State.DEGRADED,
                   f"{w.transfer_loops} calls passed back to a department they had left",
                   CHECK)
        )  # fmt: skip
    return out
