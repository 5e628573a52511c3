"""Board messages seen, per channel: every message any run found, with its posted time and,
once known, its reply time and text, so a message that leaves page 1 is still followed
until it is answered and a restart forgets nothing.

The detector's last boilerplate count is kept with a fingerprint of its input, so runs
that found no new reply do not compare every reply again (the detector is the costly part
of a board check on a large board).

`answered_seen` is when a run first saw the message answered: the reply time when the
board does not print one (an upper bound, exact to one check interval).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from probes.model import ParsedMessage
    from probes.state.store import Store

DDL = """
CREATE TABLE IF NOT EXISTS board_messages (
    channel       TEXT NOT NULL,
    id            TEXT NOT NULL,
    title         TEXT NOT NULL,
    url           TEXT NOT NULL,
    posted        REAL NOT NULL,
    first_seen    REAL NOT NULL,
    last_seen     REAL NOT NULL,
    answered      INTEGER,          -- 1 answered, 0 waiting, NULL not told
    replied       REAL,             -- reply time the board shows
    answered_seen REAL,             -- when a run first saw it answered
    reply_text    TEXT,
    PRIMARY KEY (channel, id)
);
CREATE INDEX IF NOT EXISTS board_messages_waiting ON board_messages (channel, answered);
CREATE TABLE IF NOT EXISTS board_boilerplate (
    channel     TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,    -- of the replies compared and the detector settings
    replies     INTEGER NOT NULL,
    flagged     INTEGER NOT NULL,
    example     TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class TrackedMessage:
    """A message as the state knows it."""

    id: str
    title: str
    url: str
    posted: float
    first_seen: float
    last_seen: float
    answered: bool | None
    replied: float | None
    answered_seen: float | None
    reply_text: str | None

    @property
    def reply_time(self) -> float | None:
        """The reply time shown by the board; else when a run first saw it answered, if an
        earlier run saw it waiting (a message answered before it was first seen has no
        known reply time: its first sighting says nothing about when it was answered)."""
        if self.replied is not None:
            return self.replied
        if self.answered_seen is not None and self.answered_seen > self.first_seen:
            return self.answered_seen
        return None


def upsert(store: Store, channel: str, messages: Iterable[ParsedMessage], now: float) -> int:
    """Record what a run saw; returns how many messages were new. Known facts are not
    erased by a page that says less (a list row without the reply time keeps the time a
    detail page gave)."""
    new = 0
    with store.transaction() as conn:
        for m in messages:
            answered = None if m.answered is None else int(m.answered)
            seen_answered = now if m.answered else None
            cur = conn.execute(
                "INSERT INTO board_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (channel, id) DO NOTHING",
                (channel, m.id, m.title, m.url, m.posted, now, now, answered, m.replied,
                 seen_answered, m.reply_text),
            )  # fmt: skip
            if cur.rowcount:
                new += 1
                continue
            conn.execute(
                "UPDATE board_messages SET title = ?, url = ?, last_seen = ?, "
                "answered = COALESCE(?, answered), replied = COALESCE(?, replied), "
                "answered_seen = CASE WHEN ? = 1 THEN COALESCE(answered_seen, ?) "
                "                     WHEN ? = 0 THEN NULL ELSE answered_seen END, "
                "reply_text = COALESCE(?, reply_text) WHERE channel = ? AND id = ?",
                (m.title or "", m.url, now, answered, m.replied, answered, now, answered,
                 m.reply_text, channel, m.id),
            )  # fmt: skip
    return new


def update_reply(
    store: Store,
    channel: str,
    message_id: str,
    *,
    answered: bool | None,
    replied: float | None,
    reply_text: str | None,
    now: float,
) -> None:
    """What a message's own page said about its reply (and that it was read now). A page
    that says "not answered" (only an interim reply) clears when it was seen answered, so
    the answer time is that of the first real answer."""
    flag = None if answered is None else int(answered)
    with store.transaction() as conn:
        conn.execute(
            "UPDATE board_messages SET answered = COALESCE(?, answered), "
            "replied = COALESCE(?, replied), reply_text = COALESCE(?, reply_text), "
            "answered_seen = CASE WHEN ? = 1 THEN COALESCE(answered_seen, ?) "
            "                     WHEN ? = 0 THEN NULL ELSE answered_seen END, last_seen = ? "
            "WHERE channel = ? AND id = ?",
            (flag, replied, reply_text, flag, now, flag, now, channel, message_id),
        )


def messages(store: Store, channel: str) -> list[TrackedMessage]:
    """Every tracked message of a channel, oldest first."""
    rows = store.conn.execute(
        "SELECT id, title, url, posted, first_seen, last_seen, answered, replied, "
        "answered_seen, reply_text FROM board_messages WHERE channel = ? ORDER BY posted, id",
        (channel,),
    )
    return [
        TrackedMessage(r[0], r[1], r[2], r[3], r[4], r[5],
                       None if r[6] is None else bool(r[6]), r[7], r[8], r[9])
        for r in rows
    ]  # fmt: skip


def posted_times(store: Store, channel: str, ids: Iterable[str]) -> dict[str, float]:
    """The posting times of those of `ids` already tracked (list rows without a date
    need their message page only once)."""
    wanted = list(ids)
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = store.conn.execute(
        f"SELECT id, posted FROM board_messages WHERE channel = ? AND id IN ({marks})",
        (channel, *wanted),
    )
    return {str(r[0]): float(r[1]) for r in rows}


def count(store: Store, channel: str) -> int:
    """How many messages a channel has tracked."""
    row = store.conn.execute(
        "SELECT COUNT(*) FROM board_messages WHERE channel = ?", (channel,)
    ).fetchone()
    return int(row[0])


def boilerplate_cached(store: Store, channel: str, fingerprint: str) -> tuple[int, int, str] | None:
    """(replies, flagged, example) from the last detector run, if its input was the same."""
    row = store.conn.execute(
        "SELECT replies, flagged, example FROM board_boilerplate "
        "WHERE channel = ? AND fingerprint = ?",
        (channel, fingerprint),
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]), str(row[2]))


def boilerplate_store(
    store: Store, channel: str, fingerprint: str, replies: int, flagged: int, example: str
) -> None:
    """Keep the detector's result for the next run with the same replies."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO board_boilerplate VALUES (?, ?, ?, ?, ?)",
            (channel, fingerprint, replies, flagged, example),
        )
