"""Status words of message boards: which mean "answered" and which mean "still waiting".

Boards label each message with a word or two (已回复, 未回复, 办理中 …). Waiting words are
looked for first, because several contain an answered word's characters in another sense
(未回复 holds 回复; 已受理 and 已转办 start with 已 but promise nothing).
"""

from __future__ import annotations

PENDING_WORDS = (
    "未回复", "待回复", "未答复", "待答复", "未办结", "办理中", "处理中", "待处理", "未处理",
    "已受理", "受理中", "已转办", "转办中", "待审核", "审核中", "未反馈", "待反馈",
)  # fmt: skip
ANSWERED_WORDS = (
    "已回复", "已答复", "已办结", "已处理", "已反馈", "已回应", "已解决", "已完成", "办结",
)  # fmt: skip


def classify(text: str) -> bool | None:
    """True when `text` carries an answered word, False for a waiting word, None when it
    has neither (the status cannot be told from it)."""
    compact = "".join(text.split())
    if any(word in compact for word in PENDING_WORDS):
        return False
    if any(word in compact for word in ANSWERED_WORDS):
        return True
    return None
