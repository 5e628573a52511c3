"""A freshness column whose list comes from a JSON API (`Column.api`): the sites that
draw a column's list by script from an API, whose HTML page holds no items.

Only the API's first page is read, and the evidence says so (`list API page 1`). The
newest item is what counts, and a list API lists newest first: page 1 holds it, pinned
items (置顶) included, which only come on top of the newest ones. Later pages only hold
older items, so reading them would cost requests and change nothing. An API that lists
oldest first is the exception, and more pages would not mend it (its newest item is on
its last page, however many there are): a page 1 whose dates rise down the list and whose
newest item is past the column's limit leaves the column unknown, saying to ask the API
for newest first (its form or body), never stale on the oldest items. Each item's title, date
and link come from the configured JSON paths (`ItemFields`); a date is epoch seconds or
milliseconds or any date text (`probes.pages.jsonlist.moment`), and an item without one
is an undated item, as on an HTML list. An empty item list is a blank column: the API
says the column has nothing. An API that cannot be read (fetch failure, anti-bot
challenge, HTTP error, an answer without the item list or failing the `ok` test) leaves
the column unknown with the reason.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import Any
from urllib.parse import urljoin

from probes.config.freshness import Column, ColumnApi
from probes.kinds.apipages import ApiError, fetch_page, warm_up
from probes.kinds.context import CheckContext
from probes.model import Failure
from probes.pages.jsonlist import moment, value_at
from probes.pages.listing import MAX_TITLE, Item, Listing

# Dated items needed to tell a list's order (two dates rise by chance).
MIN_RISING = 3


async def api_listing(
    column: Column, api: ColumnApi, ctx: CheckContext, now: dt.datetime
) -> Listing | ApiError:
    """The column's items from the first page of its list API, or why there are none."""
    cookies, note = await warm_up(api, ctx)
    got = await fetch_page(api, ctx, api.paging.start if api.paging else None, cookies, 1)
    if isinstance(got, ApiError):
        return ApiError(got.where, f"{got.line} ({note})" if note else got.line, got.failure)
    items = tuple(_item(item, api, str(column.url), now) for item in got.answer.items)
    dated = [i.when for i in items if i.when is not None]
    if _rising(dated) and (now - max(dated)).total_seconds() > column.limit:
        return ApiError(
            got.where,
            f"page 1 lists oldest first (dates rise from {min(dated):%Y-%m-%d} to "
            f"{max(dated):%Y-%m-%d}): the newest items are on later pages; ask the API for "
            "newest first in its form or body",
            Failure.PARSE_ERROR,
        )
    return Listing(items, mode="api", empty=None if items else f"{api.items} of the list API")


def _rising(dates: list[dt.datetime]) -> bool:
    """True when `dates`, in list order, mostly rise: a list sorted oldest first (pinned
    old items above a newest-first list make it fall, not rise)."""
    steps = list(pairwise(dates))
    up = sum(b > a for a, b in steps)
    return len(dates) >= MIN_RISING and up * 2 > len(steps) and dates[-1] > dates[0]


def _item(item: Any, api: ColumnApi, base_url: str, now: dt.datetime) -> Item:
    fields = api.fields
    title = " ".join((value_at(item, fields.title) or "").split())[:MAX_TITLE]
    link = value_at(item, fields.link) if fields.link else None
    written = value_at(item, fields.date) or ""
    return Item(title, urljoin(base_url, link) if link else "", moment(written, now=now), written)
