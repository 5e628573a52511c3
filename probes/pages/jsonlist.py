"""Lists that come from a JSON API instead of HTML: the request of each page and the items
of each response, for any list a check reads (a board's messages, a column's items).

Pure functions on decoded text; the kinds do the fetching. A list API is described by:

- the request: GET or POST, a form or a JSON body, headers; the page is chosen by one
  parameter, sent in the query (GET), the form or the JSON body (POST): a page number
  (`page`: start, start + 1 …), a row offset (`offset`: start, start + step …) or a cursor
  (`cursor`: a value of the last item, such as its id, or a value of the response);
- the response: an optional success test (a JSON path that must hold a given value, and
  the path of the error text otherwise), the JSON path of the item list, and per item the
  JSON paths of its fields (`probes.pages.extract` JSON paths, relative to the item).

Times in items are epoch seconds (or milliseconds, told by size), digit strings of them,
compact `20251118` / `20251118093000` digits, or any date text `probes.pages.dates` reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from probes.pages.dates import parse_datetime
from probes.pages.extract import decode_json, json_get, scalar_text

# Epoch values above this are milliseconds (1e11 seconds is the year 5138).
_MILLISECONDS = 1e11
_EPOCH_FLOOR = 1e9
_SKEW = dt.timedelta(days=1)
Paging = Literal["page", "offset", "cursor"]


@dataclass(frozen=True, slots=True)
class ListRequest:
    """One page's request."""

    url: str
    method: str
    headers: Mapping[str, str]
    data: Mapping[str, str] | None = None
    json: Any = None


@dataclass(frozen=True, slots=True)
class ListResponse:
    """The items of one response, or why there are none (`error` non-empty)."""

    items: tuple[Any, ...] = ()
    error: str = ""
    document: Any = field(default=None, repr=False)


def page_request(
    url: str,
    *,
    method: str,
    headers: Mapping[str, str],
    form: Mapping[str, str] | None,
    body: Mapping[str, Any] | None,
    param: str | None,
    value: str | int | None,
) -> ListRequest:
    """The request for one page: `param`=`value` added where the request carries its
    fields (the query of a GET, else the form or the JSON body)."""
    extra = {} if param is None or value is None else {param: value}
    if method == "GET":
        if extra:
            parts = urlsplit(url)
            query = "&".join(p for p in (parts.query, urlencode(extra)) if p)
            url = urlunsplit(parts._replace(query=query))
        return ListRequest(url, method, headers)
    if body is not None:
        return ListRequest(url, method, headers, json={**body, **extra})
    data = {**(form or {}), **{k: str(v) for k, v in extra.items()}}
    return ListRequest(url, method, headers, data=data)


def read_response(
    text: str,
    items: str,
    *,
    ok_path: str | None = None,
    ok_value: str | None = None,
    error_path: str | None = None,
) -> ListResponse:
    """The item list of a response body."""
    decoded, doc = decode_json(text)
    if not decoded:
        head = " ".join(text[:60].split())
        return ListResponse(error=f"the list API answered no JSON ({head!r}…)")
    if ok_path is not None:
        found, value = json_get(doc, ok_path)
        if not found or scalar_text(value) != ok_value:
            said = value_at(doc, error_path) if error_path else None
            shown = said or (scalar_text(value) if found else "nothing")
            return ListResponse(error=f"the list API said {shown!r} at {ok_path}", document=doc)
    found, listed = json_get(doc, items)
    if not found:
        return ListResponse(error=f"no item list at {items} in the API's answer", document=doc)
    if listed is None:
        listed = []  # some APIs answer null for an empty page
    if not isinstance(listed, list):
        return ListResponse(error=f"{items} is not a list in the API's answer", document=doc)
    return ListResponse(tuple(listed), document=doc)


def value_at(node: Any, path: str) -> str | None:
    """The text of a JSON path within `node`; None when missing, null or empty."""
    found, value = json_get(node, path)
    if not found or value is None:
        return None
    text = scalar_text(value).strip()
    return text or None


def moment(value: str | None, *, now: dt.datetime) -> dt.datetime | None:
    """A time field: epoch seconds or milliseconds (numbers or digit strings), else date
    text; None when it is none of these or more than a day in the future (a wrong clock or
    a placeholder such as 2099-12-31 dates nothing)."""
    when = _moment(value, now)
    return None if when is None or when > now + _SKEW else when


def _moment(value: str | None, now: dt.datetime) -> dt.datetime | None:
    if value is None:
        return None
    if value.isdigit() and len(value) in (8, 14):  # 20251118, 20251118093000
        shape = "%Y%m%d" if len(value) == 8 else "%Y%m%d%H%M%S"
        try:
            return dt.datetime.strptime(value, shape).replace(tzinfo=now.tzinfo)
        except ValueError:
            return None
    try:
        number = float(value)
    except ValueError:
        return parse_datetime(value, now=now)
    if number < _EPOCH_FLOOR:
        return None  # not a time of any board (before 2001-09-09)
    seconds = number / 1000 if number > _MILLISECONDS else number
    return dt.datetime.fromtimestamp(seconds, now.tzinfo)


def next_value(
    paging: Paging,
    current: str | int,
    *,
    step: int,
    last_item: Any,
    document: Any,
    cursor: str | None,
    cursor_in_response: bool,
) -> str | int | None:
    """The paging parameter of the page after the one just read; None when the API gives
    no way on (a cursor that is missing or did not move)."""
    if paging == "page":
        return int(current) + 1
    if paging == "offset":
        return int(current) + step
    if cursor is None:
        return None
    source = document if cursor_in_response else last_item
    value = value_at(source, cursor)
    return None if value is None or value == str(current) else value
