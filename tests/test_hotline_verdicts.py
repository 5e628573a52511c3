"""Hotline statistics and verdicts: the call robot's ground truth, service hours, a silent
feed, and the counters a redelivered record must not move."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from probes.clock import FrozenClock
from probes.config import ChannelConfig, parse_config
from probes.demo import callrobot
from probes.demo.truth import codes
from probes.hotline.formats import record_from_json
from probes.hotline.sink import IngestCounters, Sink
from probes.http.client import open_fetcher
from probes.kinds.pagework import open_page_workers
from probes.model import CheckResult, State, Verdict
from probes.runtime.runner import Runtime, run_channel
from probes.state.store import Store
from tests.measurements import measured

TZ = dt.timezone(dt.timedelta(hours=8))
# Wednesday 2026-11-18 10:00 Beijing time, a working day.
NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=TZ).timestamp()


def _channel(name: str, **spec: Any) -> ChannelConfig:
    checks = {"hotline": {"interval": 300, "timeout": 10, **spec}}
    return ChannelConfig.model_validate({"name": name, "kind": "hotline", "owner": "12345",
                                         "checks": checks})  # fmt: skip


def _ingest(store: Store, payloads: list[dict[str, Any]], now: float = NOW) -> IngestCounters:
    counters = IngestCounters()
    sink = Sink(store, counters, FrozenClock(now))
    tz = dt.timezone(dt.timedelta(hours=8))
    items = [(record_from_json(p, source="test", tz=tz), f"#{i}") for i, p in enumerate(payloads)]
    sink.store_batch("test", items)
    return counters


async def _verdict(
    store: Store, channel: ChannelConfig, now: float = NOW
) -> tuple[CheckResult, Verdict]:
    clock = FrozenClock(now)
    settings = parse_config("").global_
    # the kind makes no request
    async with open_fetcher(settings, clock=clock) as fetcher, open_page_workers() as pages:
        verdict, (result,) = await run_channel(
            Runtime(fetcher, store, clock, settings, pages), channel
        )
    return result, verdict


@pytest.mark.parametrize("name", sorted(callrobot.TRUTH))
async def test_robot_hotlines_get_their_ground_truth_verdict(name: str) -> None:
    store = Store.open(":memory:")
    _ingest(store, callrobot.records(NOW))
    _, verdict = await _verdict(store, _channel(name))
    truth = callrobot.TRUTH[name]
    assert (verdict.state, codes(verdict)) == (truth.state, truth.reasons), verdict.summary


async def test_redelivered_records_do_not_move_the_counters() -> None:
    store = Store.open(":memory:")
    payloads = [p for p in callrobot.records(NOW) if p["channel"] == "hotline-busy"]
    _ingest(store, payloads)
    first, _ = await _verdict(store, _channel("hotline-busy"))
    again = _ingest(store, payloads)
    second, _ = await _verdict(store, _channel("hotline-busy"))
    assert again.ingested == {}
    assert again.duplicates == {"test": len(payloads)}  # an outcome, not a rejection
    assert again.rejected == {}
    assert first.measurements == second.measurements
    assert measured(first, "hotline_calls", outcome="busy") == 2 * len(payloads) // 3


async def test_silent_feed_is_unknown_never_ok() -> None:
    store = Store.open(":memory:")
    _ingest(store, [p for p in callrobot.records(NOW) if p["channel"] == "hotline-healthy"])
    result, verdict = await _verdict(store, _channel("hotline-healthy"), NOW + 3 * 3600)
    assert result.success is None
    assert verdict.state is State.UNKNOWN
    assert codes(verdict) == {"hotline_feed_silent"}


async def test_no_record_ever_is_unknown() -> None:
    _, verdict = await _verdict(Store.open(":memory:"), _channel("hotline-healthy"))
    assert verdict.state is State.UNKNOWN


def _call(
    start: float, outcome: str = "no_answer", cid: str = "", test: bool = False
) -> dict[str, Any]:
    answer = start + 5 if outcome == "answered" else None
    return {"channel": "bureau", "call_id": cid or f"c{start}", "start": start, "answer": answer,
            "end": start + 60, "outcome": outcome, "test": test}  # fmt: skip


async def test_calls_outside_service_hours_do_not_count() -> None:
    store = Store.open(":memory:")
    # Answered during office hours on Tuesday; unanswered at night and on Saturday.
    tue = dt.datetime(2026, 11, 17, 9, 0, tzinfo=TZ).timestamp()
    night = [_call(tue + 13 * 3600 + i * 600) for i in range(6)]  # 22:00-22:50
    weekend = [
        _call(dt.datetime(2026, 11, 14, 11, 0, tzinfo=TZ).timestamp() + i * 60) for i in range(6)
    ]
    office = [_call(tue + i * 1800, "answered") for i in range(16)]  # 09:00-16:30
    morning = [_call(NOW - 1800 + i * 300, "answered") for i in range(5)]
    _ingest(store, night + weekend + office + morning)
    channel = _channel("bureau", service_hours="workdays 09:00-17:00")
    result, verdict = await _verdict(store, channel)
    assert verdict.state is State.OK, verdict.summary
    assert measured(result, "hotline_window_calls", window="24h", outcome="no_answer") == 0
    assert measured(result, "hotline_window_answered_ratio", window="24h") == 1.0
    # Around the clock the same records are a failing line.
    _, around = await _verdict(store, _channel("bureau"))
    assert (around.state, codes(around)) == (State.DEGRADED, {"hotline_unanswered"})


async def test_feed_silence_counts_service_time_only() -> None:
    store = Store.open(":memory:")
    friday_close = dt.datetime(2026, 11, 13, 16, 50, tzinfo=TZ).timestamp()
    _ingest(store, [_call(friday_close - 60 * i, "answered") for i in range(5)], friday_close)
    monday = dt.datetime(2026, 11, 16, 9, 30, tzinfo=TZ).timestamp()
    channel = _channel("bureau", service_hours="workdays 09:00-17:00", feed_silent_after="2h")
    result, verdict = await _verdict(store, channel, monday)
    assert result.success is True
    assert verdict.state is State.OK


@pytest.mark.parametrize(
    ("outcomes", "state", "reasons"),
    [
        (["answered"] * 20, State.OK, set()),
        (["answered"] * 19 + ["busy"], State.OK, set()),  # 95% exactly
        (["busy"] + ["answered"] * 18 + ["busy"], State.DEGRADED, {"hotline_unanswered"}),
        # Five missed citizens' calls in a row: the share judges them, never "dead".
        (["answered"] * 5 + ["no_answer"] * 5, State.DEGRADED, {"hotline_unanswered"}),
        (["no_answer"] * 11 + ["answered"] * 9, State.ZOMBIE, {"hotline_unanswered"}),
    ],
)
async def test_answered_share_thresholds(
    outcomes: list[str], state: State, reasons: set[str]
) -> None:
    store = Store.open(":memory:")
    _ingest(
        store, [_call(NOW - 1800 * len(outcomes) + i * 1800, o) for i, o in enumerate(outcomes)]
    )
    _, verdict = await _verdict(store, _channel("bureau"))
    assert (verdict.state, set(codes(verdict))) == (state, reasons), verdict.summary


@pytest.mark.parametrize(
    ("test_calls", "state", "reasons"),
    [(["no_answer"] * 5, State.ZOMBIE, {"hotline_dead"}),
     (["no_answer"] * 4 + ["answered"], State.OK, set()),
     (["no_answer"] * 4, State.OK, set())],  # fewer than the last 5: not judged
)  # fmt: skip
async def test_only_test_calls_can_show_a_line_dead(
    test_calls: list[str], state: State, reasons: set[str]
) -> None:
    # Citizens' calls, the last two missed, around the robot's test calls: the share (at
    # least 97%) stays above 95%.
    citizens = [_call(NOW - 60 * i, "no_answer" if i < 2 else "answered") for i in range(200)]
    robot = [
        _call(NOW - 600 * (i + 1), o, cid=f"t{i}", test=True) for i, o in enumerate(test_calls)
    ]
    store = Store.open(":memory:")
    _ingest(store, citizens + robot)
    _, verdict = await _verdict(store, _channel("bureau"))
    assert (verdict.state, set(codes(verdict))) == (state, reasons), verdict.summary


@pytest.mark.parametrize(("test_sources", "dead"), [([], False), (["file:robot.csv"], True)])
async def test_a_robots_own_feed_is_test_calls(test_sources: list[str], dead: bool) -> None:
    # The robot's file records carry no `test` flag: the spec names its source instead.
    citizens = [_call(NOW - 60 * i, "answered") for i in range(200)]
    robot = [{**_call(NOW - 600 * (i + 1), "no_answer", cid=f"r{i}"), "test": False}
             for i in range(5)]  # fmt: skip
    store = Store.open(":memory:")
    _ingest(store, citizens)
    sink = Sink(store, IngestCounters(), FrozenClock(NOW))
    tz = dt.timezone(dt.timedelta(hours=8))
    name = "file:robot.csv"
    sink.store_batch(name, [(record_from_json(p, source=name, tz=tz), "") for p in robot])
    _, verdict = await _verdict(store, _channel("bureau", test_sources=test_sources))
    assert ("hotline_dead" in codes(verdict)) is dead, verdict.summary


async def test_slow_answers_are_degraded() -> None:
    store = Store.open(":memory:")
    calls = [{**_call(NOW - 3600 + i * 60, "answered"), "answer": NOW - 3600 + i * 60 + 30}
             for i in range(10)]  # fmt: skip
    _ingest(store, calls)
    result, verdict = await _verdict(store, _channel("bureau"))
    assert codes(verdict) == {"hotline_slow_answer"}
    wait = next(m.value for m in result.measurements if m.name == "hotline_answer_wait_seconds")
    assert dict(wait.buckets)[15] == 0  # type: ignore[union-attr]
    assert dict(wait.buckets)[30] == 10  # type: ignore[union-attr]
