"""The calls state: batched storing keeps exactly one copy of each call and counts it once,
and retention deletes old records without moving the running totals."""

from __future__ import annotations

from probes.hotline.records import make_record
from probes.model import CallRecord, Outcome
from probes.state import calls
from probes.state.store import Store

NOW = 1_750_000_000.0


def _rec(i: int, channel: str = "h1", start: float | None = None) -> CallRecord:
    start = NOW - 3600 + i if start is None else start
    answered = i % 2 == 0
    return make_record(
        channel=channel, call_id=f"c{i}", start=start, answer=start + 5 if answered else None,
        end=start + 60, outcome=Outcome.ANSWERED if answered else Outcome.NO_ANSWER,
    )  # fmt: skip


def test_a_batch_larger_than_one_lookup_keeps_stored_and_repeated_calls_once() -> None:
    store = Store.open(":memory:")
    assert calls.insert_records(store, [_rec(i) for i in range(700)]) == [True] * 700
    # 700 already stored (more than one lookup chunk), 600 new, and a call repeated
    # within the batch itself: only the first copy of each new call is stored.
    batch = [_rec(i) for i in range(100, 1400)] + [_rec(1000), _rec(5, "h2")]
    fresh = calls.insert_records(store, batch)
    assert fresh == [False] * 600 + [True] * 700 + [False, True]
    assert calls.count_records(store) == 1401
    totals = calls.totals(store, "h1")
    assert totals.calls[Outcome.ANSWERED] + totals.calls[Outcome.NO_ANSWER] == 1400
    assert totals.wait_count == 700


def test_pruning_deletes_old_records_but_keeps_totals_and_last_times() -> None:
    store = Store.open(":memory:")
    old = [_rec(i, start=NOW - 40 * 86400 + i) for i in range(10)]
    recent = [_rec(i, start=NOW - 3600 + i) for i in range(10, 14)]
    calls.insert_records(store, old + recent)
    before = calls.totals(store, "h1")
    assert calls.prune(store, NOW - 35 * 86400) == 10
    assert calls.count_records(store) == 4
    assert calls.totals(store, "h1") == before
    assert [c.start for c in calls.calls_since(store, "h1", 0)] == [r.start for r in recent]
