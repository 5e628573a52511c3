"""State of the work-order area: every lifecycle event of every order, deduplicated by
channel and event key (order, step, time, unit), so an event delivered twice (a file
re-read after a crash, an import run again) is stored once.

The lifecycle of an order is rebuilt from its events at check time; nothing derived is
stored, so a change of rule or threshold applies to the history already held.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from probes.model import OrderEvent, Satisfaction, WorkOrderEvent
from probes.state import calls

if TYPE_CHECKING:  # store.py imports this module for its DDL
    from probes.state.store import Store

DDL = """
CREATE TABLE IF NOT EXISTS order_events (
    channel      TEXT NOT NULL,
    key          TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    event        TEXT NOT NULL,
    time         REAL NOT NULL,
    department   TEXT NOT NULL,
    caller       TEXT NOT NULL,
    text         TEXT NOT NULL,
    address      TEXT NOT NULL,
    category     TEXT NOT NULL,
    satisfaction TEXT,
    source       TEXT NOT NULL,
    PRIMARY KEY (channel, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS order_events_by_time ON order_events (channel, time);
"""


def insert_events(
    store: Store,
    events: Iterable[WorkOrderEvent],
    offset: tuple[str, int, int, float] | None = None,
) -> int:
    """Store events in one transaction; returns how many were new (the rest were stored
    before or earlier in the batch). offset: a followed file's (source, inode, offset, now),
    committed with the events."""
    rows = [
        (
            e.channel, e.key, e.order_id, e.event.value, e.time, e.department, e.caller,
            e.text, e.address, e.category, e.satisfaction.value if e.satisfaction else None,
            e.source,
        )
        for e in events
    ]  # fmt: skip
    with store.transaction() as conn:
        before = conn.total_changes
        conn.executemany(
            "INSERT INTO order_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (channel, key) DO NOTHING",
            rows,
        )
        new = conn.total_changes - before
        if offset is not None:
            calls.set_offset(store, *offset)
    return new


def events_of_orders(
    store: Store, channel: str, active_since: float, open_since: float
) -> list[WorkOrderEvent]:
    """Every event of the channel's orders that had an event at or after `active_since`,
    or that had one at or after `open_since` and are still open (never closed, or reopened
    after their last closure), in order of order id and time."""
    rows = store.conn.execute(
        "WITH wanted AS ("
        " SELECT order_id FROM order_events WHERE channel = ?1 AND time >= ?2"
        " UNION"
        " SELECT order_id FROM order_events WHERE channel = ?1 AND time >= ?3"
        " GROUP BY order_id HAVING max(CASE WHEN event = 'closed' THEN time END) IS NULL"
        " OR max(CASE WHEN event = 'reopened' THEN time END)"
        "  > max(CASE WHEN event = 'closed' THEN time END))"
        " SELECT order_id, event, time, department, caller, text, address, category,"
        " satisfaction, source FROM order_events WHERE channel = ?1"
        " AND order_id IN (SELECT order_id FROM wanted) ORDER BY order_id, time",
        (channel, active_since, open_since),
    )
    return [
        WorkOrderEvent(
            channel, oid, OrderEvent(ev), t, dept, caller, text, addr, cat,
            Satisfaction(sat) if sat else None, src,
        )
        for oid, ev, t, dept, caller, text, addr, cat, sat, src in rows
    ]  # fmt: skip


def count_events(store: Store, channel: str) -> int:
    row = store.conn.execute("SELECT count(*) FROM order_events WHERE channel = ?", (channel,))
    return int(row.fetchone()[0])


def prune(store: Store, before: float) -> int:
    """Delete the events of orders whose last event is older than `before`."""
    with store.transaction() as conn:
        cur = conn.execute(
            "DELETE FROM order_events WHERE (channel, order_id) IN (SELECT channel, order_id "
            "FROM order_events GROUP BY channel, order_id HAVING max(time) < ?)",
            (before,),
        )
        return cur.rowcount
