"""Spec of the `board` check: where a message board's (留言板, 市长信箱) list pages are, how
to read them (CSS selectors, or auto-detection of status words and dates), the reply
deadline in Chinese working days, and the thresholds of its verdict:

- zombie `board_unanswered`: a message unanswered for more than `unanswered_zombie_after`
  (official: 3 months);
- degraded `board_overdue`: a message unanswered past its reply deadline (default 5
  working days, statutory holidays and adjusted workdays counted);
- degraded `board_boilerplate`: boilerplate replies at or above `boilerplate_max_ratio`;
- degraded `board_silent`: messages keep arriving and none is answered in `silent_window`.
"""

from __future__ import annotations

import re
from typing import Any, Self

from pydantic import Field, HttpUrl, field_validator, model_validator

from probes.config.base import HttpCheckSpec
from probes.config.jsonsource import JsonList, json_path
from probes.config.types import Duration, Strict

DAY = 86400.0

# Phrases of replies that acknowledge or forward without answering (复读机式回复).
DEFAULT_BOILERPLATE_PHRASES = (
    "您的意见很好",
    "我们高度重视",
    "高度重视",
    "已转相关部门",
    "已转交相关部门",
    "转相关部门办理",
    "留言已收悉",
    "来信已收悉",
    "您的留言已收悉",
    "感谢您的关注",
    "感谢您的来信",
    "感谢您对我们工作的关心和支持",
    "敬请关注后续回复",
    "请耐心等待",
    "正在办理中",
)

# Words of a short reply that forwards or refers the question elsewhere instead of
# answering it (推诿: "已转交市公安局", "请咨询县教育局").
DEFAULT_FORWARD_WORDS = (
    "转交", "已转", "移交", "交办", "转至", "转给", "转由", "交由", "请咨询", "建议咨询",
    "详情请咨询", "详细咨询", "直接咨询", "可致电", "可以致电", "请联系", "请致电",
    "请拨打", "建议拨打", "建议您拨打", "已进行过回复",
    "正在调查处理", "正在处理", "正在交办", "正在办理",
)  # fmt: skip


class BoardSelectors(Strict):
    """CSS selectors of a list page; any left out are auto-detected."""

    item: str | None = Field(
        default=None, description="one message row (default: rows with a link and a date)"
    )
    title: str | None = Field(default=None, description="within a row (default: the link)")
    link: str | None = Field(
        default=None, description="within a row, the a[href] of the message (default: first)"
    )
    date: str | None = Field(
        default=None, description="within a row, the posting date (default: first date)"
    )
    status: str | None = Field(
        default=None, description="within a row, the status text (default: status words)"
    )
    reply_date: str | None = Field(
        default=None,
        description="within a row, the reply date (default: a second date in an answered row)",
    )
    link_template: str | None = Field(
        default=None,
        description="message page URL with an {id} placeholder, for rows whose link only "
        "calls a page function with the id (梧州: onclick=\"showInquiry('7582')\")",
    )

    @field_validator("link_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and "{id}" not in value:
            raise ValueError("link_template needs an {id} placeholder")
        return value


class StatusWordsConfig(Strict):
    """A board's own status words, added to the shipped vocabulary
    (`probes.boards.status`); a word listed here overrides the kind the shipped words give
    it."""

    answered: list[str] = Field(default_factory=list, description="words of an answered message")
    pending: list[str] = Field(
        default_factory=list, description="words of a message not handled yet (未回复 …)"
    )
    in_progress: list[str] = Field(
        default_factory=list,
        description="words of a message being handled (办理中, 已受理 …): not answered",
    )


class DetailPage(Strict):
    """How to read a message's own page, for its reply text and reply time (and its
    posting time, for lists that show none)."""

    reply: str | None = Field(
        default=None, description="CSS selector of the reply block (default: status words)"
    )
    reply_date: str | None = Field(
        default=None, description="CSS selector of the reply time (default: first date in reply)"
    )
    posted: str | None = Field(
        default=None,
        description="CSS selector of the posting time (default: the date after a label such "
        "as 受理日期 or 留言时间); read for list rows without a date",
    )


class MessageFields(Strict):
    """JSON paths, relative to one item of a list API, of a message's fields."""

    id: str = Field(description="the message id, e.g. tid")
    title: str = Field(description="e.g. subject")
    posted: str = Field(description="posting time: epoch seconds/ms or date text, e.g. dateline")
    status: str | None = Field(default=None, description="status text, e.g. stateInfo")
    reply_text: str | None = Field(
        default=None, description="the reply; empty means not answered (e.g. answerContent)"
    )
    reply_time: str | None = Field(default=None, description="the reply's time")
    url: str | None = Field(default=None, description="the message page URL")

    _paths = field_validator("id", "title", "posted", "status", "reply_text", "reply_time",
                             "url")(json_path)  # fmt: skip


class BoardApi(JsonList):
    """A board whose list comes from a JSON API (the big platforms load it by script)."""

    fields: MessageFields
    link: str | None = Field(
        default=None,
        description="message page URL with an {id} placeholder (default: fields.url)",
    )

    @model_validator(mode="after")
    def _link(self) -> Self:
        if self.link is not None and "{id}" not in self.link:
            raise ValueError("link needs an {id} placeholder")
        return self


class BoardSpec(HttpCheckSpec):
    url: HttpUrl | None = Field(default=None, description="first list page (default: channel url)")
    next_page: str | None = Field(
        default=None, description="CSS selector of the next-page link (a[href])"
    )
    page_url_template: str | None = Field(
        default=None,
        description="list page N's URL with a {page} placeholder (N), or {offset} (the row "
        "offset, (N-1) x page_size: sun0769, 长沙, 惠州); page 1 is `url`",
    )
    page_size: int | None = Field(
        default=None, ge=1, le=1000, description="rows per list page, for {offset}"
    )
    max_pages: int = Field(default=5, ge=1, le=50, description="list pages read per run")
    api: BoardApi | None = Field(
        default=None, description="read the list from this JSON API instead of HTML pages"
    )
    selectors: BoardSelectors = Field(default_factory=BoardSelectors)
    status_words: StatusWordsConfig = Field(
        default_factory=StatusWordsConfig,
        description="status words of this board, merged with the shipped ones",
    )
    id_pattern: str | None = Field(
        default=None,
        description="regex on a message's link URL whose group 1 is its id (default: the URL)",
    )
    detail: DetailPage | None = Field(
        default=None, description="read each message's page for reply text and time"
    )
    max_detail_pages: int = Field(
        default=20, ge=0, le=500, description="message pages fetched per run (follow-ups first)"
    )
    reply_deadline_workdays: int = Field(
        default=5, ge=1, le=60, description="reply deadline in Chinese working days"
    )
    unanswered_zombie_after: Duration = Field(
        default=90 * DAY, description="a message unanswered longer than this is the veto"
    )
    window: Duration = Field(
        default=180 * DAY, description="reply latency and boilerplate are taken over this"
    )
    silent_window: Duration = Field(default=30 * DAY)
    silent_min_messages: int = Field(
        default=3, ge=1, description="messages in silent_window needed to call a board silent"
    )
    boilerplate_phrases: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BOILERPLATE_PHRASES)
    )
    near_duplicate_threshold: float = Field(
        default=0.8, gt=0, le=1, description="character-shingle similarity of template replies"
    )
    min_substance_chars: int = Field(
        default=10,
        ge=0,
        description="a reply with fewer characters once boilerplate phrases are removed only "
        "acknowledges",
    )
    forward_words: list[str] = Field(
        default_factory=lambda: list(DEFAULT_FORWARD_WORDS),
        description="words of a short reply that only forwards or refers elsewhere",
    )
    short_reply_chars: int = Field(
        default=50, ge=0, description="replies up to this long are checked for forward_words"
    )
    boilerplate_max_ratio: float = Field(default=0.3, ge=0, le=1)
    boilerplate_min_replies: int = Field(default=5, ge=1)

    @field_validator("id_pattern")
    @classmethod
    def _one_group(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                groups = re.compile(value).groups
            except re.error as exc:
                raise ValueError(f"invalid regex {value!r}: {exc}") from exc
            if groups < 1:
                raise ValueError("id_pattern needs a group: its group 1 is the message id")
        return value

    @model_validator(mode="after")
    def _template(self) -> Self:
        template = self.page_url_template
        if template is not None and "{page}" not in template and "{offset}" not in template:
            raise ValueError("page_url_template needs a {page} or {offset} placeholder")
        if template is not None and "{offset}" in template and self.page_size is None:
            raise ValueError("an {offset} in page_url_template needs page_size (rows per page)")
        if self.page_url_template is not None and self.next_page is not None:
            raise ValueError("paginate by next_page or by page_url_template, not both")
        if self.api is not None and (self.next_page or self.page_url_template):
            raise ValueError("an api list pages by api.paging, not next_page/page_url_template")
        return self

    @classmethod
    def for_url(cls, url: str, options: dict[str, Any]) -> Self:
        """A one-off board check of `url`; CLI options such as `item`, `date`, `status`,
        `next_page` or `max_pages` go to the selectors or the spec by name."""
        selector_names = set(BoardSelectors.model_fields)
        selectors = {k: v for k, v in options.items() if k in selector_names and v is not None}
        rest = {k: v for k, v in options.items() if k not in selector_names and v is not None}
        return cls.model_validate({"url": url, "selectors": selectors, **rest})
