"""A check's window kept in memory answers exactly what counting the stored runs afresh
answers, as a restarted monitor does: runs added, runs leaving the week, failures in a
row cut short by the window's edge, runs recorded out of order, spans that change, runs
the store gave up writing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.clock import FrozenClock
from probes.model import CheckResult, Failure, RunWindow
from probes.state import history
from probes.state import store as store_module
from probes.state.store import Store

DAY = 86400.0
START = 1_794_967_200.0
STEPS = st.lists(
    st.tuples(
        st.floats(0, 2 * DAY),  # time passing before the run
        st.sampled_from([True, False, False, None]),  # its outcome
        st.sampled_from([0.0, 0.0, 0.0, 3 * DAY]),  # recorded this much after its start
        st.sampled_from([DAY, 7 * DAY, 7 * DAY, 3 * DAY]),  # the span asked for
        st.booleans(),  # a maintenance span left out of this read
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_windows_in_memory_equal_the_stored_runs_counted_afresh(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[float, bool | None, float, float, bool]],
) -> None:
    path = tmp_path_factory.mktemp("windows") / "state.db"
    windows = history.RunWindows()
    now = START
    with Store.open(path) as store:
        for passed, success, late, span, maintenance in steps:
            now += passed
            exclude = [(now - DAY, now - DAY / 2)] if maintenance else []
            kept = windows.window(store, "portal", "availability", span, now, exclude)
            assert kept == history.window(store, "portal", "availability", span, now, exclude)
            result = CheckResult(
                "availability", success, now - late, 0.1,
                failure=Failure.CONNECT if success is False else None,
            )  # fmt: skip
            windows.record(store, "portal", result)


def test_a_span_longer_than_the_retention_is_counted_from_the_file(store: Store) -> None:
    windows = history.RunWindows()
    for i in range(10):
        windows.record(store, "portal", CheckResult("availability", False, START + i * DAY, 0.1))
    windows.window(store, "portal", "availability", 7 * DAY, START + 10 * DAY, retention=5 * DAY)
    history.prune(store, START + 5 * DAY)  # what the monitor's hourly pruning does
    now = START + 10.5 * DAY
    kept = windows.window(store, "portal", "availability", 7 * DAY, now, retention=5 * DAY)
    assert kept == history.window(store, "portal", "availability", 7 * DAY, now)
    assert kept.runs == 5


@pytest.mark.parametrize("max_pending", [2, 1000], ids=["writes-given-up", "writes-late"])
def test_windows_while_the_state_file_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_pending: int
) -> None:
    monkeypatch.setattr(store_module, "MAX_PENDING", max_pending)
    clock = FrozenClock(START)
    windows = history.RunWindows()
    with Store.open(tmp_path / "state.db", write_timeout=0.05, clock=clock) as store:

        def same(now: float) -> RunWindow:
            kept = windows.window(store, "portal", "availability", 7 * DAY, now)
            assert kept == history.window(store, "portal", "availability", 7 * DAY, now)
            return kept

        windows.record(store, "portal", CheckResult("availability", True, START, 0.1))
        same(START + 0.5)  # held in memory from here on
        holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the file
        for i in range(1, 5):  # failed runs kept waiting (two given up with a limit of 2)
            windows.record(store, "portal", CheckResult("availability", False, START + i, 0.1))
            same(START + i + 0.5)
        holder.execute("ROLLBACK")
        holder.close()
        clock.advance(10.0)  # the store's next write attempt is due
        windows.record(store, "portal", CheckResult("availability", True, START + 5, 0.1))
        assert not store.pending
        kept = same(START + 120)
        assert (kept.runs, kept.failures) == (6 - store.health.dropped, 4 - store.health.dropped)
        # A week later the runs of the outage leave the window.
        windows.record(store, "portal", CheckResult("availability", False, START + 130, 0.1))
        for later in (7 * DAY + 2, 7 * DAY + 4.5, 7 * DAY + 6):
            same(START + later)
