"""Fetching the pages of a JSON list API (`probes.config.jsonsource.JsonList`) for any
check that reads one (a board's messages, a column's items): the optional warm-up page
whose cookies the API wants, one page's request, and its answer's item list, or why a
page gives none (a fetch failure, an anti-bot challenge, an HTTP error, an answer that
is no list).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from probes.config.jsonsource import JsonList
from probes.http.fetcher import FetchFailure, FetchOutcome, Page
from probes.kinds.context import CheckContext
from probes.model import Failure
from probes.pages import challenge
from probes.pages.jsonlist import ListResponse, page_request, read_response


def readable(got: FetchOutcome) -> Page | tuple[str, Failure]:
    """The page fetched, or why it is none (a fetch failure, an anti-bot challenge, which
    answers 412 or 521 as often as 200, or an HTTP error)."""
    if isinstance(got, FetchFailure):
        return got.line, got.failure
    if (wall := challenge.detect(got.status, got.content, got.encoding)) is not None:
        return wall.line, Failure.BLOCKED
    if got.status >= 400:
        return f"http_status: got {got.status}", Failure.HTTP_STATUS
    return got


async def warm_up(api: JsonList, ctx: CheckContext) -> tuple[httpx.Cookies | None, str | None]:
    """The cookies of the API's warm-up page (None without one), and a note when it could
    not be read (the API may answer anyway: it says if it does not)."""
    if api.warm_up is None:
        return None, None
    warm = readable(await ctx.fetch(str(api.warm_up)))
    if isinstance(warm, tuple):
        return None, f"warm-up page {api.warm_up}: {warm[0]}"
    return warm.cookies, None


@dataclass(frozen=True, slots=True)
class ApiPage:
    """One page of a list API: where it was asked (for the evidence), its items and the
    cookies to send on."""

    where: str
    answer: ListResponse
    cookies: httpx.Cookies | None


@dataclass(frozen=True, slots=True)
class ApiError:
    """A page of a list API that gave no items: where it was asked, and why."""

    where: str
    line: str
    failure: Failure


async def fetch_page(
    api: JsonList,
    ctx: CheckContext,
    value: str | int | None,
    cookies: httpx.Cookies | None,
    number: int,
) -> ApiPage | ApiError:
    """Page `number` of the API, asked for with the paging parameter set to `value`."""
    req = page_request(
        str(api.url), method=api.method, headers=api.headers, form=api.form, body=api.body,
        param=api.paging.param if api.paging else None, value=value,
    )  # fmt: skip
    got = readable(await ctx.fetch(
        req.url, method=req.method, headers=req.headers, data=req.data, json=req.json,
        cookies=cookies,
    ))  # fmt: skip
    where = f"list API page {number} ({req.method} {req.url})"
    if isinstance(got, tuple):
        return ApiError(where, *got)
    ok = api.ok
    answer = read_response(
        got.text, api.items, ok_path=ok.path if ok else None,
        ok_value=ok.equals if ok else None, error_path=ok.error if ok else None,
    )  # fmt: skip
    if answer.error:
        return ApiError(where, answer.error, Failure.PARSE_ERROR)
    return ApiPage(where, answer, got.cookies)
