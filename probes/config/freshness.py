"""Spec of the `freshness` check: a website's columns, each a listing page (or an RSS/Atom
feed) whose newest item must be younger than the column's maximum age, and the site-level
thresholds of the official rules (政府网站检查指标).

Default maximum ages by column class follow DESIGN: news (动态, 要闻) and the home page 2
weeks, notices (通知公告) and policies (政策文件) 6 months. A column's `max_age` overrides
its class.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, HttpUrl, field_validator, model_validator

from probes.config.base import HttpCheckSpec
from probes.config.jsonsource import JsonList, json_path
from probes.config.types import Duration, Strict, label_value

ColumnClass = Literal["news", "notice", "policy", "home"]
DEFAULT_MAX_AGE: dict[str, float] = {
    "news": 14 * 86400.0,
    "home": 14 * 86400.0,
    "notice": 180 * 86400.0,
    "policy": 180 * 86400.0,
}


class ItemFields(Strict):
    """JSON paths, relative to one item of a column's list API, of the item's fields."""

    title: str = Field(description="the item's title, e.g. title")
    date: str = Field(description="publication time: epoch seconds/ms or date text")
    link: str | None = Field(
        default=None, description="the item's page URL (relative to the column's url)"
    )

    _paths = field_validator("title", "date", "link")(json_path)


class ColumnApi(JsonList):
    """A column whose list comes from a JSON API (a page that draws its list by script).
    Only the first page is read: the newest items come first; `paging`, if given, names
    the first page's parameter and value."""

    fields: ItemFields


class Column(Strict):
    """One column (栏目) of a site: its listing page and how old its newest item may be."""

    id: str = Field(description="bounded id, used as the `column` label: letters, digits, _ . -")
    url: HttpUrl = Field(description="the column's listing page, or its RSS/Atom feed")
    class_: ColumnClass = Field(
        default="news",
        alias="class",
        description="news/home: 14d by default; notice/policy: 180d (official rules)",
    )
    max_age: Duration | None = Field(default=None, description="overrides the class default")
    item_selector: str | None = Field(
        default=None, description="CSS selector of the list's items (default: found automatically)"
    )
    date_selector: str | None = Field(
        default=None, description="CSS selector of the date within an item"
    )
    title_selector: str | None = Field(
        default=None, description="CSS selector of the title within an item"
    )
    feed: bool | None = Field(
        default=None,
        description="true: the URL is an RSS/Atom feed; default: detected from the response",
    )
    api: ColumnApi | None = Field(
        default=None,
        description="read the list from this JSON API instead of the page at url (which "
        "stays the column's address in the evidence and the base of relative links)",
    )
    type: Literal["auto", "listing", "article"] = Field(
        default="auto",
        description="listing: a column's list page; article: one page (a policy, the latest "
        "notice) dated by its own publication date; auto: detected from the page",
    )

    @field_validator("id")
    @classmethod
    def _id_is_a_label(cls, value: str) -> str:
        return label_value(value, "column id")

    @model_validator(mode="after")
    def _api_alone(self) -> Self:
        if self.api is not None:
            page = [k for k in ("item_selector", "date_selector", "title_selector", "feed")
                    if getattr(self, k) is not None]  # fmt: skip
            if page or self.type == "article":
                said = ", ".join(page) or "type: article"
                raise ValueError(f"a column read from an api has no {said}: its fields say it")
        return self

    @property
    def limit(self) -> float:
        """The maximum age in seconds: `max_age`, else the class default."""
        return self.max_age if self.max_age is not None else DEFAULT_MAX_AGE[self.class_]


class SiteThresholds(Strict):
    """The official site-level counts: stale and blank columns, home page age."""

    stale_columns_zombie: int = Field(default=5, ge=1)
    stale_columns_degraded: int = Field(default=3, ge=1)
    blank_columns_zombie: int = Field(default=5, ge=1)
    blank_columns_degraded: int = Field(default=3, ge=1)
    homepage_zombie_age: Duration = Field(
        default=14 * 86400.0, description="home page with no new item for this long is a zombie"
    )
    homepage_degraded_age: Duration = Field(default=10 * 86400.0)


class FreshnessSpec(HttpCheckSpec):
    columns: list[Column] = Field(min_length=1, description="the site's columns to watch")
    site: SiteThresholds = Field(default_factory=SiteThresholds)
    blank_patterns: list[str] = Field(
        default_factory=list,
        description="extra phrases that mark a column blank, beside 暂无信息, 暂无数据, …",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> FreshnessSpec:
        seen: set[str] = set()
        for column in self.columns:
            if column.id in seen:
                raise ValueError(f"column id {column.id!r} is used twice")
            seen.add(column.id)
        return self

    @classmethod
    def for_url(cls, url: str, options: dict[str, Any]) -> Self:
        """One column at `url`: `check URL --as freshness [--max-age 14d]`; options may
        also give `class`, `item_selector`, `date_selector`, `title_selector`, `feed`, `type`."""
        column: dict[str, Any] = {"id": "page", "url": url}
        rest: dict[str, Any] = {}
        for key, value in options.items():
            if value is None:
                continue
            if key in {"max_age", "item_selector", "date_selector", "title_selector", "feed",
                       "type"}:  # fmt: skip
                column[key] = value
            elif key in {"class", "class_", "column_class"}:
                column["class"] = value
            else:
                rest[key] = value
        return cls.model_validate({"columns": [column], **rest})
