"""How each HTML list page of a board is asked for (`probes.kinds.board_lists` reads
them): a GET of page 1's `url`, of a next-page link or of `page_url_template` with page
N's placeholders filled in (`probes.pages.paging`); a POST with `page_form`; or an
ASP.NET WebForms postback of the previous page's form (`probes.pages.webform`), by
`postback` or by a next-page link that posts back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from probes.boards.parse import ListPage
from probes.config.board import BoardSpec
from probes.pages.paging import fill
from probes.pages.webform import LinkPostback, PostbackForm


@dataclass(frozen=True, slots=True)
class PageRequest:
    """How one list page is asked for; `key` tells pages apart (the same key asked again
    ends the reading)."""

    url: str
    key: str
    method: str = "GET"
    data: Mapping[str, str] | None = None

    def where(self, number: int) -> str:
        shown = self.url if self.method == "GET" else f"POST {self.url}"
        return f"list page {shown}" if number == 1 else f"list page {number} ({shown})"


def first_request(spec: BoardSpec, url: str) -> PageRequest:
    """The request of list page 1, at `url`."""
    if spec.page_form is not None:
        return _posted(url, spec.page_form, 1, spec.page_size)
    return PageRequest(url, key=url)


def next_request(
    spec: BoardSpec,
    url: str,
    page_url: str,
    page: ListPage,
    posts: PostbackForm | LinkPostback | None,
    number: int,
) -> PageRequest | None:
    """The request of list page `number`, after `page` (read from `page_url`; `url` is
    page 1's; `posts`: what reading `page` found to post back)."""
    if isinstance(posts, LinkPostback):  # next_page's link is a postback: as if clicked
        return _post_event(posts.form, page_url, posts.target, posts.argument, {})
    if spec.postback is not None:
        postback = spec.postback
        own = {k: fill(v, number, None) for k, v in postback.fields.items()}
        argument = fill(postback.argument, number, None)
        return _post_event(posts, page_url, postback.target, argument, own)
    if spec.page_url_template is None and spec.page_form is None:
        # by next_page's link (none without pagination)
        return PageRequest(page.next_url, key=page.next_url) if page.next_url else None
    if spec.page_url_template is not None:
        url = fill(spec.page_url_template, number, spec.page_size)
    if spec.page_form is not None:
        return _posted(url, spec.page_form, number, spec.page_size)
    return PageRequest(url, key=url)


def _posted(url: str, form: Mapping[str, str], number: int, size: int | None) -> PageRequest:
    data = {k: fill(v, number, size) for k, v in form.items()}
    return PageRequest(url, f"{url} {sorted(data.items())}", "POST", data)


def _post_event(
    form: PostbackForm | None, page_url: str, target: str, argument: str, own: dict[str, str]
) -> PageRequest:
    """A WebForms postback of the page's `form` (to `page_url` without one): its fields
    as they came, then the pager's event, then the configured fields `own`."""
    action = form.action if form else page_url
    data = {**dict(form.fields if form else ()), "__EVENTTARGET": target,
            "__EVENTARGUMENT": argument, **own}  # fmt: skip
    # The same event from the same state is the same page: a "next" LinkButton posts the
    # same event on every page, and only the state tells its pages apart.
    state = hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()[:16]
    return PageRequest(action, f"{action} {state}", "POST", data)
