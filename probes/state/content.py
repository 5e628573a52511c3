"""State of the content area: one row per (channel, column) tracking its item list.

The fingerprint is taken over the extracted item list (titles and links), not the raw page,
so a rotating banner or a visitor counter does not count as a content change, and a
re-ordering of the same items does not either. A second fingerprint over the dates as
written tells fake freshness: the dates moved while the items stayed the same (a page
that prints today's date beside old items). Once seen, fake freshness stays flagged until
the item list itself changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from probes.state.store import Store

DDL = """
CREATE TABLE IF NOT EXISTS content_columns (
    channel     TEXT NOT NULL,
    column_     TEXT NOT NULL,
    items_fp    TEXT NOT NULL,   -- fingerprint of the item list (titles, links)
    dates_fp    TEXT NOT NULL,   -- fingerprint of the item dates as written
    changed     REAL NOT NULL,   -- when the item list last changed (epoch s)
    seen        REAL NOT NULL,   -- last observation
    fake_since  REAL,            -- dates changed while the items did not; NULL when not
    PRIMARY KEY (channel, column_)
);
"""


@dataclass(frozen=True, slots=True)
class ColumnChange:
    """What the history says of a column's current item list.

    last_change: when the item list last changed (on the first observation: the newest
        item's date when known, as the best estimate of when the list last changed).
    fake_since: when the dates were first seen changing while the items stayed the same,
        None when they never were (or the items changed since).
    first_seen: this is the first observation of the column.
    """

    last_change: float
    fake_since: float | None
    first_seen: bool


def fingerprint(parts: Iterable[tuple[str, ...]], *, ordered: bool = False) -> str:
    """A short stable hash of a list of string tuples (order ignored unless `ordered`)."""
    rows = ["\x1f".join(p) for p in parts]
    if not ordered:
        rows.sort()
    return hashlib.blake2b("\x1e".join(rows).encode(), digest_size=12).hexdigest()


def observe(
    store: Store,
    channel: str,
    column: str,
    *,
    items_fp: str,
    dates_fp: str,
    newest: float | None,
    now: float,
) -> ColumnChange:
    """Record this observation of a column and return its change history."""
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT items_fp, dates_fp, changed, fake_since FROM content_columns "
            "WHERE channel = ? AND column_ = ?",
            (channel, column),
        ).fetchone()
        if row is None:
            changed = newest if newest is not None and newest <= now else now
            conn.execute(
                "INSERT INTO content_columns VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (channel, column, items_fp, dates_fp, changed, now),
            )
            return ColumnChange(changed, None, True)
        old_items, old_dates, changed, fake_since = row
        if old_items != items_fp:
            changed, fake_since = now, None
        elif old_dates != dates_fp and fake_since is None:
            fake_since = now
        conn.execute(
            "UPDATE content_columns SET items_fp = ?, dates_fp = ?, changed = ?, seen = ?, "
            "fake_since = ? WHERE channel = ? AND column_ = ?",
            (items_fp, dates_fp, changed, now, fake_since, channel, column),
        )
        return ColumnChange(float(changed), fake_since, False)
