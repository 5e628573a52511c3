"""State of the calls area: call records (deduplicated by channel and call id), running
totals per hotline, and the read offsets of followed files.

Totals (calls by outcome, the answer-wait histogram, quick hang-ups, transfer loops) are
counted once when a record is first stored, in the same transaction, so the exported
counters never go down when old records are pruned and a record delivered twice (MQTT QoS 1
redelivery, a file re-read after a crash) never counts twice.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from probes.model import CallRecord, Outcome

if TYPE_CHECKING:  # store.py imports this module for its DDL
    from probes.state.store import Store

DDL = """
CREATE TABLE IF NOT EXISTS call_records (
    channel   TEXT NOT NULL,
    call_id   TEXT NOT NULL,
    start     REAL NOT NULL,
    answer    REAL,
    end_      REAL NOT NULL,
    outcome   TEXT NOT NULL,
    hangup_by TEXT,
    transfers TEXT,
    loop      INTEGER NOT NULL DEFAULT 0,
    source    TEXT NOT NULL,
    PRIMARY KEY (channel, call_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS call_records_by_start ON call_records (channel, start);
CREATE TABLE IF NOT EXISTS call_totals (
    channel TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   REAL NOT NULL,
    PRIMARY KEY (channel, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS call_last (
    channel       TEXT PRIMARY KEY,
    last_record   REAL,
    last_answered REAL
);
-- Test calls (a robot's, or flagged `test`), the only ones that can show a line dead; a
-- table beside call_records so state files written before it need no migration.
CREATE TABLE IF NOT EXISTS call_tests (
    channel TEXT NOT NULL,
    call_id TEXT NOT NULL,
    start   REAL NOT NULL,
    PRIMARY KEY (channel, call_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS call_tests_by_start ON call_tests (channel, start);
CREATE TABLE IF NOT EXISTS call_offsets (
    source  TEXT PRIMARY KEY,
    inode   INTEGER NOT NULL,
    offset  INTEGER NOT NULL,
    updated REAL NOT NULL
);
-- What a followed file held when its offset was stored (see FileMarks); a table of its
-- own so files written before it need no migration.
CREATE TABLE IF NOT EXISTS call_offset_marks (
    source      TEXT PRIMARY KEY,
    offset      INTEGER NOT NULL,
    head_len    INTEGER NOT NULL,
    head_sha256 BLOB NOT NULL,
    mark        BLOB NOT NULL
);
"""

# Upper bounds of the answer-wait histogram; 15 s is the GB/T 33358 answer limit.
WAIT_BUCKETS: tuple[float, ...] = (1, 2, 5, 10, 15, 20, 30, 60, 120)
DEFAULT_QUICK_HANGUP = 10.0


_BUCKET_KEYS = (*(f"wait_le:{bound:g}" for bound in WAIT_BUCKETS), "wait_le:+Inf")
_CALLS_KEY = {o.value: "calls:" + o.value for o in Outcome}


def _bucket_key(wait: float) -> str:
    return _BUCKET_KEYS[bisect.bisect_left(WAIT_BUCKETS, wait)]


# Pairs per lookup of already stored call ids: 2 parameters each, well under SQLite's
# limit of 32,766 bound parameters.
_LOOKUP_CHUNK = 500


def _stored_keys(conn: sqlite3.Connection, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Those of the (channel, call id) keys already in call_records (a primary-key search
    each: a join on a VALUES list, since `(a, b) IN (VALUES ...)` scans the table)."""
    found: set[tuple[str, str]] = set()
    for i in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[i : i + _LOOKUP_CHUNK]
        values = ",".join(["(?,?)"] * len(chunk))
        rows = conn.execute(
            f"SELECT v.column1, v.column2 FROM (VALUES {values}) AS v "  # only placeholders
            "JOIN call_records AS c ON c.channel = v.column1 AND c.call_id = v.column2",
            [x for key in chunk for x in key],
        )
        found.update(rows)
    return found


def _key(row: tuple[object, ...]) -> tuple[object, object]:
    return row[0], row[1]


def insert_records(
    store: Store,
    records: Iterable[CallRecord],
    quick_hangup: Callable[[str], float] = lambda _channel: DEFAULT_QUICK_HANGUP,
    offset: tuple[str, int, int, float] | None = None,
) -> list[bool]:
    """Store records in one transaction; True for each record newly stored, False for a
    duplicate call id (kept as first seen, in the state file or earlier in the batch).
    Totals move only for new records.

    The batch costs one lookup of the stored keys and one `executemany` rather than a
    statement per record: the lookup runs inside the write transaction, so nothing can
    store the same key in between.

    offset: (source, inode, offset, now) of a followed file, committed with the records so
    a crash either keeps both or neither.
    """
    batch = list(records)
    fresh: list[bool] = []
    rows: list[tuple[object, ...]] = []
    tests: list[tuple[str, str, float]] = []
    totals: dict[tuple[str, str], float] = defaultdict(float)
    last: dict[str, list[float | None]] = {}
    with store.transaction() as conn:
        seen = _stored_keys(conn, sorted({(r.channel, r.call_id) for r in batch}))
        for r in batch:
            key = (r.channel, r.call_id)
            new = key not in seen
            fresh.append(new)
            if not new:
                continue
            seen.add(key)
            ch, outcome, answer = r.channel, r.outcome.value, r.answer
            loop = bool(r.transfers) and r.transfer_loop
            rows.append(
                (
                    ch, r.call_id, r.start, answer, r.end, outcome,
                    r.hangup_by.value if r.hangup_by else None,
                    json.dumps(r.transfers, ensure_ascii=False) if r.transfers else None,
                    int(loop), r.source,
                )
            )  # fmt: skip
            if r.test:
                tests.append((ch, r.call_id, r.start))
            totals[ch, _CALLS_KEY[outcome]] += 1
            seen_at = last.get(ch)
            if seen_at is None:
                seen_at = last[ch] = [None, None]
            seen_at[0] = r.start if seen_at[0] is None else max(seen_at[0], r.start)
            if loop:
                totals[ch, "transfer_loops"] += 1
            if answer is not None:  # answered: wait and talk known (see CallRecord)
                wait = answer - r.start
                totals[ch, _bucket_key(wait)] += 1
                totals[ch, "wait_sum"] += wait
                totals[ch, "wait_count"] += 1
                if r.end - answer <= quick_hangup(ch):
                    totals[ch, "quick_hangups"] += 1
                seen_at[1] = r.start if seen_at[1] is None else max(seen_at[1], r.start)
        # In key order: each B-tree page is visited once per batch rather than once per
        # record of a batch spread over many hotlines (half the insert's CPU).
        rows.sort(key=_key)
        tests.sort()
        conn.executemany("INSERT INTO call_records VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT OR IGNORE INTO call_tests VALUES (?,?,?)", tests)
        conn.executemany(
            "INSERT INTO call_totals VALUES (?,?,?) ON CONFLICT (channel, key) "
            "DO UPDATE SET value = value + excluded.value",
            [(ch, key, value) for (ch, key), value in sorted(totals.items())],
        )
        conn.executemany(
            "INSERT INTO call_last VALUES (?,?,?) ON CONFLICT (channel) DO UPDATE SET "
            "last_record = max(coalesce(last_record, excluded.last_record), "
            "coalesce(excluded.last_record, last_record)), "
            "last_answered = max(coalesce(last_answered, excluded.last_answered), "
            "coalesce(excluded.last_answered, last_answered))",
            [(ch, a, b) for ch, (a, b) in sorted(last.items())],
        )
        if offset is not None:
            set_offset(store, *offset)
    return fresh


@dataclass(frozen=True, slots=True)
class Totals:
    """Counters of one hotline since its first record."""

    calls: dict[Outcome, int]
    wait_buckets: tuple[tuple[float, int], ...]  # cumulative, ending with +Inf
    wait_sum: float
    wait_count: int
    quick_hangups: int
    transfer_loops: int
    last_record: float | None
    last_answered: float | None


def totals(store: Store, channel: str) -> Totals:
    values = dict(
        store.conn.execute("SELECT key, value FROM call_totals WHERE channel = ?", (channel,))
    )
    row = store.conn.execute(
        "SELECT last_record, last_answered FROM call_last WHERE channel = ?", (channel,)
    ).fetchone()
    cumulative, buckets = 0, []
    for bound in (*WAIT_BUCKETS, float("inf")):
        cumulative += int(values.get(f"wait_le:{bound:g}".replace("inf", "+Inf"), 0))
        buckets.append((bound, cumulative))
    return Totals(
        calls={o: int(values.get("calls:" + o.value, 0)) for o in Outcome},
        wait_buckets=tuple(buckets),
        wait_sum=float(values.get("wait_sum", 0.0)),
        wait_count=int(values.get("wait_count", 0)),
        quick_hangups=int(values.get("quick_hangups", 0)),
        transfer_loops=int(values.get("transfer_loops", 0)),
        last_record=row[0] if row else None,
        last_answered=row[1] if row else None,
    )


@dataclass(frozen=True, slots=True)
class StoredCall:
    """The columns statistics need of one stored record."""

    start: float
    answer: float | None
    end: float
    outcome: Outcome
    loop: bool


def calls_since(store: Store, channel: str, since: float) -> list[StoredCall]:
    """Records of a channel that started at or after `since`, oldest first."""
    rows = store.conn.execute(
        "SELECT start, answer, end_, outcome, loop FROM call_records "
        "WHERE channel = ? AND start >= ? ORDER BY start",
        (channel, since),
    )
    return [StoredCall(s, a, e, Outcome(o), bool(lp)) for s, a, e, o, lp in rows]


def newest_test_calls(
    store: Store, channel: str, since: float, before: float, sources: Sequence[str] = ()
) -> Iterator[StoredCall]:
    """Test calls of a channel started in [since, before), newest first, read lazily:
    records flagged as test calls, and every record from one of `sources` (a test-call
    robot's own feed)."""
    if not sources:
        rows = store.conn.execute(
            "SELECT c.start, c.answer, c.end_, c.outcome, c.loop FROM call_tests AS t "
            "JOIN call_records AS c ON c.channel = t.channel AND c.call_id = t.call_id "
            "WHERE t.channel = ? AND t.start >= ? AND t.start < ? ORDER BY t.start DESC",
            (channel, since, before),
        )
    else:
        marks = ",".join("?" * len(sources))
        rows = store.conn.execute(
            "SELECT c.start, c.answer, c.end_, c.outcome, c.loop FROM call_records AS c "
            "WHERE c.channel = ? AND c.start >= ? AND c.start < ? AND (c.source IN "
            f"({marks}) OR EXISTS (SELECT 1 FROM call_tests AS t WHERE "  # only placeholders
            "t.channel = c.channel AND t.call_id = c.call_id)) ORDER BY c.start DESC",
            (channel, since, before, *sources),
        )
    for s, a, e, o, lp in rows:
        yield StoredCall(s, a, e, Outcome(o), bool(lp))


def channels(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT channel FROM call_last ORDER BY channel")]


def prune(store: Store, before: float) -> int:
    """Delete records that started before `before`; returns how many. Totals and the last
    record/answer times are kept: the exported counters never go down."""
    deleted = 0
    for channel in channels(store):  # per channel: the (channel, start) index applies
        with store.transaction() as conn:
            cur = conn.execute(
                "DELETE FROM call_records WHERE channel = ? AND start < ?", (channel, before)
            )
            deleted += cur.rowcount
            conn.execute(
                "DELETE FROM call_tests WHERE channel = ? AND start < ?", (channel, before)
            )
    return deleted


def count_records(store: Store, channel: str | None = None) -> int:
    if channel is None:
        return int(store.conn.execute("SELECT count(*) FROM call_records").fetchone()[0])
    row = store.conn.execute("SELECT count(*) FROM call_records WHERE channel = ?", (channel,))
    return int(row.fetchone()[0])


def get_offset(store: Store, source: str) -> tuple[int, int] | None:
    """(inode, offset) stored for a followed file, or None the first time."""
    row = store.conn.execute(
        "SELECT inode, offset FROM call_offsets WHERE source = ?", (source,)
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def set_offset(store: Store, source: str, inode: int, offset: int, now: float) -> None:
    """Record a file's offset; call inside the transaction that stored its records."""
    store.conn.execute(
        "INSERT INTO call_offsets VALUES (?,?,?,?) ON CONFLICT (source) DO UPDATE SET "
        "inode = excluded.inode, offset = excluded.offset, updated = excluded.updated",
        (source, inode, offset, now),
    )


@dataclass(frozen=True, slots=True)
class FileMarks:
    """The identity of a followed file's content: the SHA-256 of its first `head_len`
    bytes and the bytes just before `offset` (`mark`), so a restart can tell the same file
    grown from one rewritten in place."""

    offset: int
    head_len: int
    head_sha256: bytes
    mark: bytes


def get_file_marks(store: Store, source: str) -> FileMarks | None:
    row = store.conn.execute(
        "SELECT offset, head_len, head_sha256, mark FROM call_offset_marks WHERE source = ?",
        (source,),
    ).fetchone()
    return (
        None if row is None else FileMarks(int(row[0]), int(row[1]), bytes(row[2]), bytes(row[3]))
    )


def set_file_marks(store: Store, source: str, marks: FileMarks) -> None:
    """Record a file's marks (after its offset was committed: marks of an older offset only
    make a restart read the file again, never skip any of it)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO call_offset_marks VALUES (?,?,?,?,?) ON CONFLICT (source) DO UPDATE "
            "SET offset = excluded.offset, head_len = excluded.head_len, "
            "head_sha256 = excluded.head_sha256, mark = excluded.mark",
            (source, marks.offset, marks.head_len, marks.head_sha256, marks.mark),
        )
