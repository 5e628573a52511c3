"""A board list's header row and what it says a row's cells are.

Lists that print no status column say what their dates are in a header row instead
(长沙 网络问政 `序号 主题 信件类别 处理时间 处理部门 来信人`, 宿州 12345 `… 回复时间`, 银川
`… 提交时间 办结时间`, 梧州 `… 来信时间 类型`). The header is the row just before the first
message row (a `<thead>` row for a table, or the last row of a header table right before
it), a table's `th` row, or the first row taken as a message row when a
selector or the detector included it: a row whose cells are short labels without a digit,
all `th` (their sort links allowed), or without a link and with a time column's name or
two other known column names (标题, 状态, 来信人 …). Header rows are no
messages: they are dropped from the rows before reading (and not counted as skipped).

A header whose cells line up with a row's (same count, read through a row's only wrapper:
成都's `li > a > div`) names its posted-time and reply-time cells:

- a reply-time header (one naming the answer's step: 回复时间, 答复时间, 办结时间, 反馈时间,
  结束时间, 处理时间 …): a date there is the answer's time, and, where the row shows no
  status word, the answer itself; an empty cell there is no answer;
- a posted-time header (any other time column: 提交时间, 来信时间, 发起时间, 开始时间, 时间,
  日期 …), except one naming another step (办理时间, 更新时间) or a deadline (截止时间): the
  date in that cell is the posting time.

处理时间 counts as a reply time, as on the real lists that show it (长沙's list is its 来信
反馈, the letters handled; 佳木斯 and 梧州 name the reply's time 处理时间 on their message
pages). 办理时间 does not: 惠州 shows it beside a 处理状态 of 处理中, so it is not an answer.

A row with a reply-time cell but no posting time (长沙, 宿州) waits for its own page to be
dated, keeping what its reply cell said.
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborNode

from probes.boards.status import compact
from probes.pages.listsearch import holds_link

# Labels of a posting time on a message page (徐州 12345 受理日期, 佳木斯 咨询时间 …); a list's
# header is read by `time_column`, which takes these as posting times too.
POSTED_LABELS = (
    "受理日期", "受理时间", "留言时间", "留言日期", "来信时间", "来信日期", "提交时间", "提交日期",
    "咨询时间", "反映时间", "提问时间", "诉求时间", "发起时间", "登记时间", "投诉时间", "写信时间",
    "发布时间", "发布日期", "发表时间",
)  # fmt: skip
# What a time column's header says it is: never a deadline (回复截止时间); a reply time when
# it names the answer's step (回复时间, 办结日期, 处理时间, 办理完成时间 …); neither when it
# names another step (办理时间, shown beside 处理中 on 惠州's list; 更新时间, 评价时间); else a
# posting time (提交时间, 来信时间, 开始时间; only 时间 or 日期: 成都, 天津).
_TIME_SUFFIX = ("时间", "日期")
_DEADLINE = ("截止", "期限", "时限")
_REPLY_STEPS = ("回复", "答复", "办结", "反馈", "结束", "处理", "回应", "完成", "解决")
_OTHER_STEPS = ("办理", "更新", "评价", "浏览", "审核", "修改")
# Other column names of real lists: a row of such labels is a header, not a message.
OTHER_HEADERS = frozenset((
    "序号", "编号", "标题", "主题", "信件标题", "留言标题", "状态", "处理状态", "办理状态",
    "回复状态", "类别", "类型", "信件类别", "处理部门", "办理单位", "回复单位", "答复部门",
    "来信人", "留言人", "网友", "访问量", "点击数", "点击次数", "受理编号", "工单编号",
    "业务编号", "信件编号", "办件编号", "处理情况", "单位", "问政人",
))  # fmt: skip
# A header cell is a label this short.
MAX_LABEL = 8
_NOT_CELL = frozenset({"script", "style", "noscript", "template", "-text", "_comment"})


@dataclass(frozen=True, slots=True)
class Columns:
    """Positions of the posted-time and reply-time cells under a header of `count` cells."""

    count: int
    posted: int | None = None
    reply: int | None = None

    def cell(self, row: LexborNode, index: int | None) -> LexborNode | None:
        """The row's cell at `index`, when the row's cells line up with the header's."""
        if index is None:
            return None
        cells = row_cells(row)
        return cells[index] if len(cells) == self.count else None


def row_cells(row: LexborNode) -> list[LexborNode]:
    """A row's cells: its child elements, read through a wrapper that is its only child
    (成都 `li > a > div × 6`, 咸宁 `div > ul > a > li × 7`)."""
    node = row
    for _ in range(4):
        cells = [c for c in node.iter() if c.tag not in _NOT_CELL]
        if len(cells) != 1 or _own_text(node):
            return cells
        node = cells[0]
    return [c for c in node.iter() if c.tag not in _NOT_CELL]


def split_header(rows: list[LexborNode]) -> tuple[list[LexborNode], Columns | None]:
    """The rows without header rows, and the columns the list's header names (None when
    it has none, or names no time)."""
    if not rows:
        return rows, None
    heads = {r.mem_id for r in rows if is_header(r)}
    body = [r for r in rows if r.mem_id not in heads]
    header = next((r for r in rows if r.mem_id in heads), None)
    if header is None:
        candidates = (_before(rows[0]), _table_head(rows[0]))
        header = next((c for c in candidates if c is not None and is_header(c)), None)
    if header is None:
        return body, None
    labels = [compact(c.text(separator=" ")) for c in row_cells(header)]
    kinds = [time_column(label) for label in labels]
    posted = next((i for i, kind in enumerate(kinds) if kind == "posted"), None)
    reply = next((i for i, kind in enumerate(kinds) if kind == "reply"), None)
    if posted is None and reply is None:
        return body, None
    return body, Columns(len(labels), posted, reply)


def is_header(node: LexborNode) -> bool:
    """True for a row of column labels: two or more cells each a short label without a
    digit, all `th` (sort links allowed), or without a link and with a time column's name
    or two other known column names."""
    cells = row_cells(node)
    if len(cells) < 2:
        return False
    labels = [compact(c.text(separator=" ")) for c in cells]
    if any(len(label) > MAX_LABEL or any(ch.isdigit() for ch in label) for label in labels):
        return False
    if not any(labels):
        return False
    if all(c.tag == "th" for c in cells):
        return True  # header cells, even as sort links (ASP.NET grids: <th><a>提交时间</a>)
    if holds_link(node):
        return False
    return any(time_column(label) for label in labels) or (
        sum(label in OTHER_HEADERS for label in labels) >= 2
    )


def time_column(label: str) -> str | None:
    """What a column's header says its times are: "posted", "reply" or None (no time
    column, or another step's)."""
    if not label.endswith(_TIME_SUFFIX) or any(word in label for word in _DEADLINE):
        return None
    if any(step in label for step in _REPLY_STEPS):
        return "reply"
    return None if any(step in label for step in _OTHER_STEPS) else "posted"


def _before(row: LexborNode) -> LexborNode | None:
    """The element just before a row: its previous sibling, or, for a table's first row,
    the last row of the table's `<thead>`, else of a table right before it (old templates
    put the header in a table of its own)."""
    node = _previous(row)
    if node is not None or row.tag != "tr":
        return node
    section = row.parent
    if section is not None and section.tag == "tbody":
        head = _previous(section)
        if head is not None and head.tag == "thead":
            return _last_row(head)
    table = section if section is None or section.tag == "table" else section.parent
    before = _previous(table) if table is not None and table.tag == "table" else None
    return _last_row(before) if before is not None and before.tag == "table" else None


def _previous(node: LexborNode) -> LexborNode | None:
    """The previous sibling element, past text and comments."""
    prev = node.prev
    while prev is not None and prev.tag in _NOT_CELL:
        prev = prev.prev
    return prev


def _last_row(node: LexborNode) -> LexborNode | None:
    rows = node.css("tr")
    return rows[-1] if rows else None


def _table_head(row: LexborNode) -> LexborNode | None:
    """A table row's table's first row with `th` cells, wherever it stands (a spacer row
    between it and the first message row)."""
    table = row.parent
    while table is not None and table.tag != "table":
        table = table.parent
    if row.tag != "tr" or table is None:
        return None
    return next((tr for tr in table.css("tr") if tr.css_first("th") is not None), None)


def _own_text(node: LexborNode) -> bool:
    """True when `node` holds text of its own beside its child elements."""
    return any(
        c.tag == "-text" and (c.text_content or "").strip() for c in node.iter(include_text=True)
    )
