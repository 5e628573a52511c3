"""Findings of the `freshness` check: what each configured column's run found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from probes.model import Findings

ColumnStatus = Literal["fresh", "stale", "blank", "unknown"]


@dataclass(frozen=True, slots=True)
class ColumnFindings:
    """One column: its id, class and age limit from config, its status, and for a dated
    column the newest item (capped by the list's last change), how many dated items,
    whether it fakes freshness and the newest item's age. `reason` says why a column is
    blank or unknown; `code` the verdict's reason for an unknown column when it is not
    `column_undated` (`blocked_by_waf`, `list_rendered_by_script`). `page` is what the
    URL was read as: a column's list, an article (dated by its own publication date,
    `newest_text` saying from where), a feed, or page 1 of the column's list API."""

    id: str
    class_: str
    max_age: float
    status: ColumnStatus
    reason: str = ""
    newest: float | None = None
    newest_title: str = ""
    newest_url: str = ""
    newest_text: str = ""
    items: int = 0
    last_change: float | None = None
    fake: bool = False
    age: float | None = None
    page: Literal["listing", "article", "feed", "api"] = "listing"
    code: str = ""


@dataclass(frozen=True, slots=True)
class FreshnessFindings(Findings):
    """Every configured column, in config order."""

    columns: tuple[ColumnFindings, ...]
