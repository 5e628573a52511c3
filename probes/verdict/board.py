"""Verdict rule of the `board` check (政府网站检查指标, 互动回应差):

- zombie `board_unanswered`: a message unanswered for more than `unanswered_zombie_after`
  (official veto: 3 months);
- degraded `board_overdue`: a message unanswered past its reply deadline (default 5
  Chinese working days), and not yet past the veto;
- degraded `board_boilerplate`: boilerplate replies reach `boilerplate_max_ratio` of at
  least `boilerplate_min_replies` replies in the window;
- degraded `board_silent`: messages keep arriving (`silent_min_messages` in
  `silent_window`) and none is answered;
- degraded `board_unresolved`: an answered message was posted again afterwards (再次反映,
  仍未解决 … about the same title, or the same user's near-identical title): its answer
  solved nothing (`probes.boards.reposts`); the pair is the evidence.

A board whose pages could not be read (success None) gets no reason here: `judge` makes it
unknown with the check's own error.
"""

from __future__ import annotations

from probes.config.board import BoardSpec
from probes.model import CheckResult, Reason, State
from probes.verdict.common import JudgeContext


def reasons(spec: BoardSpec, result: CheckResult, jc: JudgeContext) -> list[Reason]:
    if result.success is None:
        return []
    d = result.details
    out: list[Reason] = []
    vetoed = _int(d.get("vetoed"))
    overdue = _int(d.get("overdue"))
    days = spec.unanswered_zombie_after / 86400
    if vetoed:
        out.append(
            Reason("board_unanswered", State.ZOMBIE,
                   f"{vetoed} message(s) unanswered for more than {days:.0f} days, oldest "
                   f"「{d.get('oldest_vetoed_title')}」", "board")
        )  # fmt: skip
    if overdue > vetoed:
        out.append(
            Reason("board_overdue", State.DEGRADED,
                   f"{overdue - vetoed} message(s) past the {spec.reply_deadline_workdays}-"
                   f"working-day reply deadline", "board")
        )  # fmt: skip
    ratio = d.get("boilerplate_ratio")
    replies = _int(d.get("replies_with_text"))
    if (
        isinstance(ratio, float | int)
        and replies >= spec.boilerplate_min_replies
        and ratio >= spec.boilerplate_max_ratio
    ):
        out.append(
            Reason("board_boilerplate", State.DEGRADED,
                   f"{_int(d.get('boilerplate'))}/{replies} replies are boilerplate "
                   f"({ratio:.0%}, limit {spec.boilerplate_max_ratio:.0%})", "board")
        )  # fmt: skip
    if reposts := _int(d.get("reposts")):
        out.append(
            Reason("board_unresolved", State.DEGRADED,
                   f"{reposts} answered message(s) posted again, e.g. {d.get('repost_example')}",
                   "board")
        )  # fmt: skip
    if d.get("silent"):
        out.append(
            Reason("board_silent", State.DEGRADED,
                   f"{_int(d.get('posted_in_silent_window'))} messages in "
                   f"{spec.silent_window / 86400:.0f} days, none answered", "board")
        )  # fmt: skip
    return out


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0
