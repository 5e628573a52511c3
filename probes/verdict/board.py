"""Verdict rule of the `board` check (政府网站检查指标, 互动回应差):

- zombie `board_unanswered`: a message unanswered for more than `unanswered_zombie_after`
  (official veto: 3 months);
- degraded `board_overdue`: a message unanswered past its reply deadline (default 5
  Chinese working days), and not yet past the veto;
- degraded `board_boilerplate`: boilerplate replies reach `boilerplate_max_ratio` of at
  least `boilerplate_min_replies` replies in the window;
- degraded `board_silent`: messages keep arriving (`silent_min_messages` in
  `silent_window`) and none is answered.

A board whose pages could not be read (success None) gets no reason here: `judge` makes it
unknown with the check's own error. A check that ran out of time is unknown too.
"""

from __future__ import annotations

from probes.config.board import BoardSpec
from probes.findings.board import BoardFindings
from probes.model import CheckResult, Reason, State
from probes.verdict.common import JudgeContext, blocked, not_finished


def reasons(
    spec: BoardSpec, result: CheckResult, findings: BoardFindings | None, jc: JudgeContext
) -> list[Reason]:
    if findings is None:
        return blocked(result, "board") if result.success is None else [not_finished(result)]
    f = findings
    out: list[Reason] = []
    days = spec.unanswered_zombie_after / 86400
    if f.vetoed:
        out.append(
            Reason("board_unanswered", State.ZOMBIE,
                   f"{f.vetoed} message(s) unanswered for more than {days:.0f} days, oldest "
                   f"「{f.oldest_vetoed_title}」", "board")
        )  # fmt: skip
    if f.overdue > f.vetoed:
        out.append(
            Reason("board_overdue", State.DEGRADED,
                   f"{f.overdue - f.vetoed} message(s) past the {spec.reply_deadline_workdays}-"
                   f"working-day reply deadline", "board")
        )  # fmt: skip
    ratio = f.boilerplate_ratio
    replies = f.replies_with_text
    if (
        ratio is not None
        and replies >= spec.boilerplate_min_replies
        and ratio >= spec.boilerplate_max_ratio
    ):
        out.append(
            Reason("board_boilerplate", State.DEGRADED,
                   f"{f.boilerplate}/{replies} replies are boilerplate "
                   f"({ratio:.0%}, limit {spec.boilerplate_max_ratio:.0%})", "board")
        )  # fmt: skip
    if f.silent:
        out.append(
            Reason("board_silent", State.DEGRADED,
                   f"{f.posted_in_silent_window} messages in "
                   f"{spec.silent_window / 86400:.0f} days, none answered", "board")
        )  # fmt: skip
    return out
