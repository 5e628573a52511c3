"""Check-result history: every run's outcome (for window rules such as the official
"site unreachable" share and "K consecutive failures"), and the latest full result of each
check (so a restart shows the last verdicts at once and loses none of the week).

A check's window is counted from the stored runs (`window`) once, then kept current in
memory (`RunWindows`): each run adds to it, and each read subtracts the runs that left
the window since the last read, one indexed read of those few rows, so a week of runs is
not counted again on every check. What it answers is what `window` answers from the file
(a restart counts the window from the file and judges the same).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from probes.findings import FINDINGS
from probes.model import CheckResult, Failure, Findings, Histogram, Measurement, RunWindow

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
# The shape of a stored result: findings and the run window since 2 (1 held a `details`
# dict, read by nothing now).
FORMAT = 2

log = logging.getLogger("probes.state.history")


def record(store: Store, channel: str, result: CheckResult) -> None:
    """Append a run and replace the check's latest result, atomically; while the state
    file cannot be written the rows are kept and stored later, in order (`Store.write`)."""
    success = None if result.success is None else int(result.success)
    failure = result.failure.value if result.failure else None
    run = (channel, result.check, result.started, success, failure, result.duration)
    latest = (channel, result.check, json.dumps(_to_json(result), ensure_ascii=False))

    def rows(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO check_runs VALUES (?, ?, ?, ?, ?, ?)", run)
        conn.execute("INSERT OR REPLACE INTO check_latest VALUES (?, ?, ?)", latest)

    store.write(rows)


def window(
    store: Store,
    channel: str,
    check: str,
    span: float,
    now: float,
    exclude: Sequence[tuple[float, float]] = (),
) -> RunWindow:
    """The runs of a check in the `span` seconds up to `now`, leaving out runs that started
    inside one of the `exclude` intervals [start, end) (maintenance windows)."""
    since = now - span
    outside = "".join(" AND NOT (ts >= ? AND ts < ?)" for _ in exclude)
    spans = [t for interval in exclude for t in interval]
    row = store.conn.execute(
        "SELECT COUNT(success), COALESCE(SUM(success = 0), 0) FROM check_runs "
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
    return RunWindow(span, int(row[0]), int(row[1]), consecutive)


@dataclass(slots=True)
class _Held:
    """A window kept in memory: the stored runs from `since` on, counted."""

    since: float
    runs: int
    failures: int
    consecutive: int
    last: float  # the start of the latest run counted


class RunWindows:
    """The windows of the checks run by one runtime, kept current in memory (see above).

    Exact by construction: a window is counted from the file, runs are added as they are
    recorded, and runs leaving it are read back from the file. Where that could differ
    from counting afresh, the file is counted instead: a window with maintenance spans
    left out; a span longer than `retention` (the pruning could drop runs still in it);
    a window asked for from earlier than it holds (a longer span after a reload); a run
    recorded out of order (it started before one already counted); and while the store
    holds writes it could not make yet (its file unwritable), since the file lacks them:
    the windows held go on counting the runs recorded meanwhile and take up again once
    those are written. A run the store gave up writing (over `MAX_PENDING` waiting) would
    stay counted and never leave: every window is counted afresh after the store drops
    one."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], _Held] = {}
        self._dropped = 0  # the store's dropped writes when the windows were counted

    def window(
        self,
        store: Store,
        channel: str,
        check: str,
        span: float,
        now: float,
        exclude: Sequence[tuple[float, float]] = (),
        retention: float = float("inf"),
    ) -> RunWindow:
        """`window(store, ...)`, from memory where it is held; `retention` is how long
        the file keeps runs (`history_retention`)."""
        key = (channel, check)
        if store.health.dropped != self._dropped:
            self._held.clear()
            self._dropped = store.health.dropped
        if exclude or span > retention or store.pending:
            return window(store, channel, check, span, now, exclude)
        since = now - span
        held = self._held.get(key)
        if held is None or since < held.since:
            counted = window(store, channel, check, span, now)
            row = store.conn.execute(
                "SELECT MAX(ts) FROM check_runs WHERE channel = ? AND check_ = ? AND ts >= ? "
                "AND success IS NOT NULL",
                (channel, check, since),
            ).fetchone()
            self._held[key] = _Held(
                since, counted.runs, counted.failures, counted.consecutive_failures,
                row[0] if row[0] is not None else float("-inf"),
            )  # fmt: skip
            return counted
        if since > held.since:
            # The runs that left the window since the last read: usually one or none.
            gone, failed = store.conn.execute(
                "SELECT COUNT(success), COALESCE(SUM(success = 0), 0) FROM check_runs "
                "WHERE channel = ? AND check_ = ? AND ts >= ? AND ts < ?",
                (channel, check, held.since, since),
            ).fetchone()
            held.since = since
            held.runs -= gone
            held.failures -= failed
            # Leaving from the oldest end shortens the failures in a row only when they
            # were all the window held.
            held.consecutive = min(held.consecutive, held.runs)
        return RunWindow(span, held.runs, held.failures, held.consecutive)

    def record(self, store: Store, channel: str, result: CheckResult) -> None:
        """`record` the run, and count it in its window if that is held."""
        record(store, channel, result)
        key = (channel, result.check)
        held = self._held.get(key)
        if held is None or result.success is None or result.started < held.since:
            return
        if result.started < held.last:
            del self._held[key]  # out of order: counted afresh on the next read
            return
        held.last = result.started
        held.runs += 1
        if result.success:
            held.consecutive = 0
        else:
            held.failures += 1
            held.consecutive += 1


def latest(store: Store) -> dict[tuple[str, str], CheckResult]:
    """The latest stored result of every (channel, check). A result stored in a shape this
    version does not read (an older release's) is left out, so its check counts as not
    checked yet until it runs again."""
    out = {}
    for channel, check, text in store.conn.execute("SELECT * FROM check_latest"):
        try:
            out[(channel, check)] = _from_json(check, json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning(
                "stored result of %s/%s not read (%s): not checked yet until its next run",
                channel, check, _one_line(exc),
            )  # fmt: skip
    return out


def prune(store: Store, before: float) -> int:
    """Delete runs older than `before`; returns how many went."""
    with store.transaction() as conn:
        return conn.execute("DELETE FROM check_runs WHERE ts < ?", (before,)).rowcount


def _to_json(r: CheckResult) -> dict[str, Any]:
    findings = None
    if r.findings is not None:
        findings = _adapter(type(r.findings)).dump_python(r.findings, mode="json")
    return {
        "format": FORMAT,
        "check": r.check,
        "success": r.success,
        "started": r.started,
        "duration": r.duration,
        "failure": r.failure.value if r.failure else None,
        "error": r.error,
        "evidence": list(r.evidence),
        "measurements": [_m_to_json(m) for m in r.measurements],
        "findings": findings,
        "window": None if r.window is None else _WINDOW.dump_python(r.window, mode="json"),
    }


def _m_to_json(m: Measurement) -> dict[str, Any]:
    value: Any = m.value
    if isinstance(value, Histogram):
        value = {"buckets": value.buckets, "sum": value.sum, "count": value.count}
    return {"name": m.name, "value": value, "labels": m.labels}


def _from_json(check: str, d: dict[str, Any]) -> CheckResult:
    if d.get("format") != FORMAT:
        raise ValueError(f"stored in format {d.get('format', 1)}, this version reads {FORMAT}")
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
    findings: Findings | None = None
    if d["findings"] is not None:
        kind = FINDINGS.get(check)
        if kind is None:
            raise ValueError(f"no findings type for the {check} check")
        findings = _adapter(kind).validate_python(d["findings"])
    window = None if d["window"] is None else _WINDOW.validate_python(d["window"])
    return CheckResult(
        check=d["check"],
        success=d["success"],
        started=d["started"],
        duration=d["duration"],
        failure=Failure(d["failure"]) if d["failure"] else None,
        error=d["error"],
        evidence=tuple(d["evidence"]),
        measurements=tuple(ms),
        findings=findings,
        window=window,
    )


def _adapter(kind: type[Findings]) -> TypeAdapter[Any]:
    return _ADAPTERS[kind]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


# Findings are frozen dataclasses; pydantic's adapters turn them into JSON and back,
# checking every field, so a stored shape that no longer fits is an error, not a crash.
_ADAPTERS: dict[type[Findings], TypeAdapter[Any]] = {
    kind: TypeAdapter(kind) for kind in FINDINGS.values()
}
_WINDOW: TypeAdapter[RunWindow] = TypeAdapter(RunWindow)
