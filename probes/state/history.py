"""Check-result history: every run's outcome (for window rules such as the official
"site unreachable" share and "K consecutive failures"), and the latest full result of each
check (so a restart shows the last verdicts at once and loses none of the week)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from probes.model import CheckResult, Failure, Histogram, Measurement

if TYPE_CHECKING:
    from probes.state.store import Store

DDL = """
CREATE TABLE IF NOT EXISTS check_runs (
    channel  TEXT NOT NULL,
    check_   TEXT NOT NULL,
    ts       REAL NOT NULL,
    success  INTEGER,          -- 1 ok, 0 failed, NULL could not tell
    failure  TEXT,
    duration REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS check_runs_by_time ON check_runs (channel, check_, ts);
CREATE TABLE IF NOT EXISTS check_latest (
    channel TEXT NOT NULL,
    check_  TEXT NOT NULL,
    result  TEXT NOT NULL,     -- JSON of the CheckResult
    PRIMARY KEY (channel, check_)
);
"""


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Runs of one check in a window: how many told success or failure, how many failed,
    and how many failed in a row up to the latest run (runs that could not tell are
    neither)."""

    runs: int
    failures: int
    consecutive_failures: int
    first_ts: float | None


def record(store: Store, channel: str, result: CheckResult) -> None:
    """Append a run and replace the check's latest result, atomically."""
    success = None if result.success is None else int(result.success)
    failure = result.failure.value if result.failure else None
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO check_runs VALUES (?, ?, ?, ?, ?, ?)",
            (channel, result.check, result.started, success, failure, result.duration),
        )
        conn.execute(
            "INSERT OR REPLACE INTO check_latest VALUES (?, ?, ?)",
            (channel, result.check, json.dumps(_to_json(result), ensure_ascii=False)),
        )


def window(
    store: Store,
    channel: str,
    check: str,
    since: float,
    exclude: Sequence[tuple[float, float]] = (),
) -> WindowStats:
    """Counts of the runs of a check since `since` (epoch seconds), leaving out runs that
    started inside one of the `exclude` intervals [start, end) (maintenance windows)."""
    outside = "".join(" AND NOT (ts >= ? AND ts < ?)" for _ in exclude)
    spans = [t for span in exclude for t in span]
    row = store.conn.execute(
        "SELECT COUNT(success), COALESCE(SUM(success = 0), 0), MIN(ts) FROM check_runs "
        "WHERE channel = ? AND check_ = ? AND ts >= ?" + outside,
        (channel, check, since, *spans),
    ).fetchone()
    consecutive = 0
    cur = store.conn.execute(
        "SELECT success FROM check_runs WHERE channel = ? AND check_ = ? AND ts >= ? "
        "AND success IS NOT NULL" + outside + " ORDER BY ts DESC",
        (channel, check, since, *spans),
    )
    for (success,) in cur:
        if success:
            break
        consecutive += 1
    return WindowStats(int(row[0]), int(row[1]), consecutive, row[2])


def latest(store: Store) -> dict[tuple[str, str], CheckResult]:
    """The latest stored result of every (channel, check)."""
    out = {}
    for channel, check, text in store.conn.execute("SELECT * FROM check_latest"):
        out[(channel, check)] = _from_json(json.loads(text))
    return out


def latest_for(store: Store, channel: str) -> dict[str, CheckResult]:
    """The latest stored result of each check of one channel."""
    rows = store.conn.execute(
        "SELECT check_, result FROM check_latest WHERE channel = ?", (channel,)
    )
    return {check: _from_json(json.loads(text)) for check, text in rows}


def prune(store: Store, before: float) -> int:
    """Delete runs older than `before`; returns how many went."""
    with store.transaction() as conn:
        return conn.execute("DELETE FROM check_runs WHERE ts < ?", (before,)).rowcount


def _to_json(r: CheckResult) -> dict[str, Any]:
    return {
        "check": r.check,
        "kind": r.kind,
        "success": r.success,
        "started": r.started,
        "duration": r.duration,
        "failure": r.failure.value if r.failure else None,
        "error": r.error,
        "evidence": list(r.evidence),
        "measurements": [_m_to_json(m) for m in r.measurements],
        "details": r.details,
    }


def _m_to_json(m: Measurement) -> dict[str, Any]:
    value: Any = m.value
    if isinstance(value, Histogram):
        value = {"buckets": value.buckets, "sum": value.sum, "count": value.count}
    return {"name": m.name, "value": value, "labels": m.labels}


def _from_json(d: dict[str, Any]) -> CheckResult:
    ms = []
    for m in d["measurements"]:
        value = m["value"]
        if isinstance(value, dict):
            value = Histogram(
                tuple((float(le), float(c)) for le, c in value["buckets"]),
                value["sum"],
                value["count"],
            )
        ms.append(Measurement(m["name"], value, tuple(tuple(x) for x in m["labels"])))
    return CheckResult(
        check=d["check"],
        kind=d["kind"],
        success=d["success"],
        started=d["started"],
        duration=d["duration"],
        failure=Failure(d["failure"]) if d["failure"] else None,
        error=d["error"],
        evidence=tuple(d["evidence"]),
        measurements=tuple(ms),
        details=d["details"],
    )
