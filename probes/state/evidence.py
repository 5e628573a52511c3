"""The evidence history: every change of a channel's state (or of its set of reasons),
with the reasons, each check's evidence at that moment, and for checks that read pages
the compressed pages of the run that decided it.

Pages are zlib-compressed after being cut at a size limit; their bytes are kept as the
server sent them (with the codec they decode with), so `history --show-snapshot` writes
out the page the monitor read. Retention is by age (changes and pages separately) and by
the total compressed size of all pages (oldest first).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from probes.model import CheckResult, Reason, State, Verdict

if TYPE_CHECKING:
    from probes.state.store import Store

DDL = """
CREATE TABLE IF NOT EXISTS state_changes (
    id         INTEGER PRIMARY KEY,
    channel    TEXT NOT NULL,
    ts         REAL NOT NULL,
    from_state TEXT,             -- NULL for the first verdict the monitor reached
    to_state   TEXT NOT NULL,
    check_     TEXT NOT NULL,    -- the check whose run decided it ('' when none did)
    reasons    TEXT NOT NULL,    -- JSON list of {code, state, check, detail}
    evidence   TEXT NOT NULL     -- JSON {check: {success, failure, error, evidence, started}}
);
CREATE INDEX IF NOT EXISTS state_changes_by_channel ON state_changes (channel, ts);
CREATE TABLE IF NOT EXISTS evidence_pages (
    id           INTEGER PRIMARY KEY,
    change_id    INTEGER NOT NULL REFERENCES state_changes (id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    encoding     TEXT NOT NULL,
    size         INTEGER NOT NULL,  -- bytes of the page as received
    truncated    INTEGER NOT NULL,  -- 1 when cut at the size limit
    body         BLOB NOT NULL      -- zlib of the (cut) bytes
);
CREATE INDEX IF NOT EXISTS evidence_pages_by_change ON evidence_pages (change_id);
"""


@dataclass(frozen=True, slots=True)
class PageSnapshot:
    """A page to store with a change: its bytes as received (already cut)."""

    url: str
    status: int
    content_type: str
    encoding: str
    content: bytes
    size: int
    truncated: bool


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A stored page's description (its body is read with `page_body`)."""

    id: int
    url: str
    status: int
    content_type: str
    encoding: str
    size: int
    truncated: bool
    stored_bytes: int


@dataclass(frozen=True, slots=True)
class CheckEvidence:
    """What one check showed when the change was recorded."""

    check: str
    success: bool | None
    failure: str | None
    error: str
    evidence: tuple[str, ...]
    started: float


@dataclass(frozen=True, slots=True)
class StateChange:
    """One entry of a channel's timeline."""

    id: int
    channel: str
    ts: float
    from_state: State | None
    to_state: State
    decided_by: str
    reasons: tuple[Reason, ...]
    checks: tuple[CheckEvidence, ...]
    pages: tuple[StoredPage, ...]


def record_change(
    store: Store,
    previous: State | None,
    verdict: Verdict,
    results: Sequence[CheckResult],
    decided_by: str,
    pages: Sequence[PageSnapshot],
) -> int:
    """Store one change with its evidence and pages, atomically; returns its id."""
    reasons = [
        {"code": r.code, "state": r.state.value, "check": r.check, "detail": r.detail}
        for r in verdict.reasons
    ]
    evidence = {
        r.check: {
            "success": r.success,
            "failure": r.failure.value if r.failure else None,
            "error": r.error,
            "evidence": list(r.evidence),
            "started": r.started,
        }
        for r in results
    }
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO state_changes (channel, ts, from_state, to_state, check_, reasons, "
            "evidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                verdict.channel,
                verdict.judged_at,
                previous.value if previous else None,
                verdict.state.value,
                decided_by,
                json.dumps(reasons, ensure_ascii=False),
                json.dumps(evidence, ensure_ascii=False),
            ),
        )
        change_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO evidence_pages (change_id, url, status, content_type, encoding, size, "
            "truncated, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (change_id, p.url, p.status, p.content_type, p.encoding, p.size,
                 int(p.truncated), zlib.compress(p.content, 6))
                for p in pages
            ],
        )  # fmt: skip
    return change_id


def last_verdicts(store: Store) -> dict[str, tuple[State, tuple[str, ...]]]:
    """Each channel's latest recorded state and reason codes (what a change is against,
    so a restart does not record the same state again)."""
    rows = store.conn.execute(
        "SELECT channel, to_state, reasons FROM state_changes WHERE id IN "
        "(SELECT MAX(id) FROM state_changes GROUP BY channel)"
    )
    return {
        channel: (State(state), tuple(sorted({r["code"] for r in json.loads(reasons)})))
        for channel, state, reasons in rows
    }


def since(store: Store) -> dict[str, tuple[State, float]]:
    """Each channel's latest recorded state and since when it has held it: the earliest
    change of the unbroken run of changes into that state (a change of reasons alone
    does not reset it)."""
    out: dict[str, tuple[State, float]] = {}
    settled: set[str] = set()
    rows = store.conn.execute(
        "SELECT channel, to_state, ts FROM state_changes ORDER BY channel, ts DESC, id DESC"
    )
    for channel, state, ts in rows:
        if channel in settled:
            continue
        current = out.get(channel)
        if current is None or current[0].value == state:
            out[channel] = (State(state), ts)
        else:
            settled.add(channel)
    return out


def timeline(store: Store, channel: str, since: float) -> list[StateChange]:
    """The channel's changes since `since`, oldest first, with their stored pages; the
    change in force at `since` (the latest one before it) comes first, so the timeline
    always says what the state was at its start."""
    first = store.conn.execute(
        "SELECT MAX(id) FROM state_changes WHERE channel = ? AND ts < ?", (channel, since)
    ).fetchone()[0]
    rows = store.conn.execute(
        "SELECT id, channel, ts, from_state, to_state, check_, reasons, evidence "
        "FROM state_changes WHERE channel = ? AND (ts >= ? OR id = ?) ORDER BY ts, id",
        (channel, since, first if first is not None else -1),
    ).fetchall()
    pages: dict[int, list[StoredPage]] = {}
    ids = [row[0] for row in rows]
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        for row in store.conn.execute(
            "SELECT change_id, id, url, status, content_type, encoding, size, truncated, "
            f"length(body) FROM evidence_pages WHERE change_id IN ({marks}) ORDER BY id",
            part,
        ):
            pages.setdefault(row[0], []).append(_stored(row[1:]))
    return [_change(row, tuple(pages.get(row[0], ()))) for row in rows]


def page_body(store: Store, channel: str, page_id: int) -> tuple[StoredPage, bytes] | None:
    """A stored page of the channel and its bytes as received (None when it has no such
    page)."""
    row = store.conn.execute(
        "SELECT p.id, url, status, content_type, encoding, size, truncated, length(body), body "
        "FROM evidence_pages p JOIN state_changes c ON c.id = p.change_id "
        "WHERE p.id = ? AND c.channel = ?",
        (page_id, channel),
    ).fetchone()
    if row is None:
        return None
    return _stored(row[:8]), zlib.decompress(row[8])


def prune(
    store: Store, changes_before: float, pages_before: float, max_total: int
) -> tuple[int, int]:
    """Drop changes older than `changes_before`, pages of changes older than
    `pages_before`, then the oldest pages until all pages take at most `max_total` bytes.
    The change in force for each channel is kept however old, so `history` can still say
    since when a channel has been in its state. Returns (changes, pages) deleted."""
    with store.transaction() as conn:
        pages = conn.execute(
            "DELETE FROM evidence_pages WHERE change_id IN "
            "(SELECT id FROM state_changes WHERE ts < ?)",
            (pages_before,),
        ).rowcount
        # (pages of a change deleted here go with it: ON DELETE CASCADE)
        changes = conn.execute(
            "DELETE FROM state_changes WHERE ts < ? AND id NOT IN "
            "(SELECT MAX(id) FROM state_changes GROUP BY channel)",
            (changes_before,),
        ).rowcount
        total = conn.execute("SELECT COALESCE(SUM(length(body)), 0) FROM evidence_pages")
        excess = int(total.fetchone()[0]) - max_total
        if excess > 0:
            doomed, freed = [], 0
            for page_id, size in conn.execute(
                "SELECT id, length(body) FROM evidence_pages ORDER BY id"
            ):
                if freed >= excess:
                    break
                doomed.append((page_id,))
                freed += size
            conn.executemany("DELETE FROM evidence_pages WHERE id = ?", doomed)
            pages += len(doomed)
    return changes, pages


def _stored(row: tuple[Any, ...]) -> StoredPage:
    """A page description from (id, url, status, content_type, encoding, size,
    truncated, stored length)."""
    page_id, url, status, ctype, encoding, size, truncated, stored = row
    return StoredPage(page_id, url, status, ctype, encoding, size, bool(truncated), stored)


def _change(row: tuple[Any, ...], pages: tuple[StoredPage, ...]) -> StateChange:
    change_id, channel, ts, from_state, to_state, check, reasons, evidence = row
    checks = tuple(
        CheckEvidence(
            name, e["success"], e["failure"], e["error"], tuple(e["evidence"]), e["started"]
        )
        for name, e in json.loads(evidence).items()
    )
    return StateChange(
        id=int(change_id),
        channel=channel,
        ts=float(ts),
        from_state=State(from_state) if from_state is not None else None,
        to_state=State(to_state),
        decided_by=check,
        reasons=tuple(
            Reason(r["code"], State(r["state"]), r["detail"], r["check"])
            for r in json.loads(reasons)
        ),
        checks=checks,
        pages=pages,
    )
