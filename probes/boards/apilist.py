"""A board's messages from one page of its JSON list API (`BoardSpec.api`).

Each item gives its id, title and posting time by the configured JSON paths. Whether it is
answered: its status text when the board gives one (`probes.boards.status`); a reply that
only acknowledges or forwards is no answer whatever the status says; without a status, a
real reply is an answer and an empty reply is none (人民网 leaves `stateInfo` out of
waiting messages and fills `answerContent` once answered). An item without an id or a
posting time is skipped and counted, like an unreadable HTML row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from probes.boards.boilerplate import Acknowledgement
from probes.boards.cells import MAX_TITLE
from probes.boards.parse import MAX_REPLY, ListPage
from probes.boards.status import StatusWords
from probes.config.board import BoardApi
from probes.model import ParsedMessage
from probes.pages.jsonlist import moment, value_at


def api_page(
    items: tuple[Any, ...],
    api: BoardApi,
    *,
    now: dt.datetime,
    words: StatusWords,
    interim: Acknowledgement,
) -> ListPage:
    """The messages of one API page."""
    messages: list[ParsedMessage] = []
    skipped: list[str] = []
    for item in items:
        parsed = _message(item, api, now, words, interim)
        if isinstance(parsed, str):
            skipped.append(parsed)
        else:
            messages.append(parsed)
    return ListPage(tuple(messages), None, len(items), tuple(skipped), f"api: {api.items}")


def _message(
    item: Any, api: BoardApi, now: dt.datetime, words: StatusWords, interim: Acknowledgement
) -> ParsedMessage | str:
    f = api.fields
    mid = value_at(item, f.id)
    if mid is None:
        return f"an item without {f.id}"
    title = " ".join((value_at(item, f.title) or "").split())
    posted = moment(value_at(item, f.posted), now=now)
    if posted is None:
        return f"no posting time at {f.posted} in item {mid}"
    status_text = value_at(item, f.status) if f.status else None
    status = words.status(status_text) if status_text else None
    reply = value_at(item, f.reply_text) if f.reply_text else None
    replied = moment(value_at(item, f.reply_time), now=now) if f.reply_time else None
    answered: bool | None = None if status is None else status.answered
    if reply is not None and interim.only(reply):
        answered = False  # an interim reply: in progress
    elif answered is None and f.reply_text is not None:
        answered = reply is not None
    if answered is None and replied is not None:
        answered = True
    url = api.link.replace("{id}", mid) if api.link else value_at(item, f.url) if f.url else None
    return ParsedMessage(
        id=mid[:200],
        title=title[:MAX_TITLE],
        url=url or "",  # no message page: nothing to follow up
        posted=posted.timestamp(),
        answered=answered,
        replied=replied.timestamp() if replied is not None and answered else None,
        reply_text=reply[:MAX_REPLY] if reply else None,
    )
