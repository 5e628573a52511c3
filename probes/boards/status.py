"""Status words of message boards: which mean "answered", which "not yet handled" and which
"in progress", and how a status text is read.

Boards label each message with a word or two. The shipped vocabulary comes from real
platforms (`PLATFORMS.md` in the shared real data: 人民网 领导留言板 uses 已办理 / 办理中 /
已受理 / 待回复; 佳木斯 已回复 / 未回复 on the list and 办理完毕 / 正在办理 on message pages;
大连 已办结) and from common 12345 / 市长信箱 wording. In progress (办理中, 已受理, 已转办 …) is
not answered: such a message counts toward its reply deadline and the 3-month veto.
待评价 (waiting for the citizen's rating) follows an answer, so it is answered.

Reading: words are matched longest first and each match is blanked out before shorter words
are looked for, so 未办结 is read as pending and not as the answered 办结 inside it, and 已处理
is not the 处理 of 待处理. When a text carries words of several kinds, any waiting word wins
over an answered one (a row that says 已受理 and 已回复 to the 受理 step is not answered yet).
A board's own words (`status_words:` in its config) are added to these, and a word
configured for one kind is taken out of the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from probes.config.board import BoardSpec


class Status(StrEnum):
    ANSWERED = "answered"
    PENDING = "pending"
    IN_PROGRESS = "in_progress"

    @property
    def answered(self) -> bool:
        return self is Status.ANSWERED


ANSWERED_WORDS = (
    "已回复", "已答复", "已办理", "已办结", "办结", "已处理", "已反馈", "已回应", "已解决",
    "已完成", "已处置", "已结案", "办理完毕", "处理完毕", "回复完毕", "已回访", "已评价",
    "待评价", "已归档", "已完结", "已办毕", "已结束", "办理完成",
)  # fmt: skip
PENDING_WORDS = (
    "未回复", "待回复", "未答复", "待答复", "未处理", "待处理", "未办理", "待办理", "未受理",
    "待受理", "未反馈", "待反馈", "未办结", "未解决", "未回应", "待审核", "审核中",
)  # fmt: skip
IN_PROGRESS_WORDS = (
    "办理中", "处理中", "已受理", "受理中", "已转办", "转办中", "已交办", "交办中", "已转交",
    "已关注", "正在办理", "正在处理", "已签收", "已分派", "已派单", "已转派", "调查中",
    "回复中", "核实中", "已退回",
)  # fmt: skip

# Words that are a status only as a whole cell: 人民网 shows 受理 for an accepted message,
# but 受理 inside a text is a label (受理单位) or a refusal (不予受理).
CELL_ONLY = {
    "受理": Status.IN_PROGRESS, "在办": Status.IN_PROGRESS, "已办": Status.ANSWERED,
    "未办": Status.PENDING,
}  # fmt: skip
# Words that hold a status word but are none: 市民投诉受理中心 is a department, not 受理中.
NOT_STATUS = ("受理中心", "处理中心", "办理中心", "转办中心", "交办中心")
# Brackets and labels around a status cell: [已回复], 【办理中】, 状态：已办结.
_DECORATION = re.compile(r"[\[\]【】()（）<>《》:：|/\s]|(?:办理|处理|回复)?状态|处理情况")


@dataclass(frozen=True, slots=True)
class StatusWords:
    """A board's vocabulary: the words of each status, longest first."""

    words: tuple[tuple[str, Status], ...]

    @classmethod
    def merged(
        cls,
        answered: Iterable[str] = (),
        pending: Iterable[str] = (),
        in_progress: Iterable[str] = (),
    ) -> StatusWords:
        """The shipped words plus a board's own (a configured word overrides the kind the
        shipped vocabulary gives it)."""
        table: dict[str, Status] = {}
        shipped: tuple[tuple[Iterable[str], Status], ...] = (
            (ANSWERED_WORDS, Status.ANSWERED),
            (PENDING_WORDS, Status.PENDING),
            (IN_PROGRESS_WORDS, Status.IN_PROGRESS),
        )
        for words, status in shipped:
            table.update(dict.fromkeys(words, status))
        for words, status in (
            (answered, Status.ANSWERED),
            (pending, Status.PENDING),
            (in_progress, Status.IN_PROGRESS),
        ):
            table.update({compact(w): status for w in words if compact(w)})
        ordered = sorted(table.items(), key=lambda item: (-len(item[0]), item[0]))
        return cls(tuple(ordered))

    def status(self, text: str) -> Status | None:
        """The status a text states, or None when it carries no status word."""
        if (cell := self.exact(text)) is not None:
            return cell
        rest = compact(text)
        for word in NOT_STATUS:
            rest = rest.replace(word, "\0")
        found: set[Status] = set()
        for word, status in self.words:
            if word in rest:
                found.add(status)
                rest = rest.replace(word, "\0")
        if Status.PENDING in found:
            return Status.PENDING
        if Status.IN_PROGRESS in found:
            return Status.IN_PROGRESS
        return Status.ANSWERED if found else None

    def exact(self, text: str) -> Status | None:
        """The status of a text that is nothing but a status word (brackets and a
        状态： label allowed): how a status cell reads."""
        bare = _DECORATION.sub("", text)
        found = next((status for word, status in self.words if word == bare), None)
        return found if found is not None else CELL_ONLY.get(bare)

    def classify(self, text: str) -> bool | None:
        """True when `text` states an answer, False for pending or in progress, None when
        it carries no status word."""
        status = self.status(text)
        return None if status is None else status.answered


def compact(text: str) -> str:
    """A text without whitespace (已 回 复 is 已回复)."""
    return "".join(text.split())


DEFAULT_WORDS = StatusWords.merged()


def board_words(spec: BoardSpec) -> StatusWords:
    """The shipped words merged with a board's `status_words:`."""
    own = spec.status_words
    return StatusWords.merged(own.answered, own.pending, own.in_progress)
