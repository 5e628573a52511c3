"""The scheduler: intervals, no self-overlap, the in-flight limit, lateness, reloads and
sharding. A fake `availability` kind stands in for the network so these pin scheduling;
time is a frozen clock the tests step, so nothing waits for real seconds."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from probes import kinds
from probes.clock import FrozenClock
from probes.config import Config, parse_config
from probes.kinds import Kind
from probes.kinds.context import CheckContext
from probes.model import Report
from probes.runtime.runner import Runtime, open_runtime
from probes.runtime.scheduler import Scheduler, in_shard, parse_shard
from probes.runtime.status import MonitorStatus


def _config(n: int, interval: str = "2s", max_in_flight: int = 64, timeout: str = "5s") -> Config:
    channels = "".join(
        f"""
  - name: site-{i}
    kind: website
    owner: 局{i}
    url: http://site-{i}.example.gov.cn/
    checks: {{availability: {{interval: {interval}}}}}"""
        for i in range(n)
    )
    return parse_config(
        f"global: {{timeout: {timeout}, max_in_flight: {max_in_flight}}}\nchannels:{channels}"
    )


class FakeKind:
    """Records when each channel's check runs and how many run at once."""

    def __init__(self, duration: float = 0.0) -> None:
        self.duration = duration
        self.starts: Counter[str] = Counter()
        self.running: Counter[str] = Counter()
        self.max_same = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, spec: Any, ctx: CheckContext) -> Report:
        name = ctx.channel.name
        self.starts[name] += 1
        self.running[name] += 1
        self.in_flight += 1
        self.max_same = max(self.max_same, self.running[name])
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await ctx.clock.sleep(self.duration)
        finally:
            self.running[name] -= 1
            self.in_flight -= 1
        return Report(True)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    clock = FrozenClock(1_794_967_200.0)
    async with open_runtime(_config(1).global_, clock=clock, state_path=tmp_path / "s.db") as rt:
        yield rt


STEP = 1 / 64  # seconds of frozen time per step: exact in binary, finer than any interval


async def _settle() -> None:
    """Let every task that can run do so before the clock moves again (the fake kind and
    the runner do no real I/O, so a bounded number of loop turns is enough)."""
    for _ in range(50):
        await asyncio.sleep(0)


async def _step(runtime: Runtime, seconds: float) -> None:
    """Advance the frozen clock by `seconds`, in small steps, letting tasks run between."""
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    for _ in range(round(seconds / STEP)):
        await _settle()
        clock.advance(STEP)
    await _settle()


async def _run_for(scheduler: Scheduler, seconds: float) -> None:
    task = asyncio.create_task(scheduler.run())
    await _step(scheduler.rt, seconds)
    scheduler.stop()
    # Running checks end in their own time, then `run()` returns.
    for _ in range(round(10 / STEP)):
        await _step(scheduler.rt, STEP)
        if task.done():
            break
    await task


async def test_each_check_runs_on_its_interval(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeKind()
    monkeypatch.setitem(kinds.KINDS, "availability", Kind(fake))
    scheduler = Scheduler(runtime, MonitorStatus(), spread=0.0)
    scheduler.apply(_config(3, interval="2.5s"))
    await _run_for(scheduler, 11)
    # t = 0, 2.5, 5, 7.5, 10: five runs each, allowing one of jitter either way
    assert set(fake.starts) == {"site-0", "site-1", "site-2"}
    assert all(4 <= n <= 6 for n in fake.starts.values()), fake.starts


async def test_a_slow_check_never_overlaps_itself(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeKind(duration=5)
    monkeypatch.setitem(kinds.KINDS, "availability", Kind(fake))
    scheduler = Scheduler(runtime, MonitorStatus(), spread=0.0)
    scheduler.apply(_config(1, interval="1s"))
    await _run_for(scheduler, 16)
    assert fake.max_same == 1
    assert 2 <= fake.starts["site-0"] <= 4  # back to back, missed slots skipped, no burst


async def test_checks_in_flight_never_exceed_the_global_limit(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeKind(duration=2)
    monkeypatch.setitem(kinds.KINDS, "availability", Kind(fake))
    status = MonitorStatus()
    scheduler = Scheduler(runtime, status, spread=0.0)
    scheduler.apply(_config(12, interval="100s", max_in_flight=3))
    await _run_for(scheduler, 12)
    assert fake.max_in_flight == 3
    assert sum(fake.starts.values()) == 12
    # 12 checks due at once through 3 slots of 2 s: the last ones start ~6 s late
    snapshot = status.lateness.snapshot()
    assert snapshot.count == 12
    assert snapshot.sum > 6


async def test_reload_keeps_unchanged_schedules_adds_new_and_drops_removed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeKind()
    monkeypatch.setitem(kinds.KINDS, "availability", Kind(fake))
    status = MonitorStatus()
    scheduler = Scheduler(runtime, status, spread=0.0)
    scheduler.apply(_config(2, interval="2s"))
    task = asyncio.create_task(scheduler.run())
    await _step(runtime, 5)
    before = fake.starts["site-0"]
    channels = scheduler.apply(_config(3, interval="2s").model_copy(
        update={"channels": _config(3, interval="2s").channels[1:]}
    ))  # fmt: skip
    assert [c.name for c in channels] == ["site-1", "site-2"]
    await _step(runtime, 5)
    scheduler.stop()
    await task
    assert fake.starts["site-0"] == before  # removed: no more runs
    assert fake.starts["site-2"] >= 2  # added: runs
    assert set(status.channels) == {"site-1", "site-2"}


async def test_a_crashing_check_is_unknown_and_scheduling_goes_on(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = Counter[str]()

    async def broken(spec: Any, ctx: CheckContext) -> Report:
        calls["n"] += 1
        raise RuntimeError("bug in a kind")

    monkeypatch.setitem(kinds.KINDS, "availability", Kind(broken))
    status = MonitorStatus()
    scheduler = Scheduler(runtime, status, spread=0.0)
    scheduler.apply(_config(1, interval="2s"))
    await _run_for(scheduler, 5)
    assert calls["n"] >= 2
    result = status.results[("site-0", "availability")]
    assert result.success is None
    assert "bug in a kind" in result.error
    assert status.verdicts["site-0"].state.value == "unknown"


def test_shards_split_channels_with_no_overlap_and_no_gap() -> None:
    names = [f"gov-site-{i}" for i in range(5000)]
    for n in (1, 2, 3, 7):
        owners = [[i for i in range(n) if in_shard(name, (i, n))] for name in names]
        assert all(len(o) == 1 for o in owners)
        sizes = Counter(o[0] for o in owners)
        assert min(sizes.values()) > 0.8 * len(names) / n  # roughly even


def test_shard_assignment_is_pinned_so_replicas_agree_across_versions() -> None:
    # sha256 of the name, not Python's per-process salted hash(): pinned values.
    assert [i for i in range(4) if in_shard("city-portal", (i, 4))] == [2]
    assert [i for i in range(3) if in_shard("mayor-mailbox", (i, 3))] == [2]


@pytest.mark.parametrize("text", ["4/4", "-1/3", "a/b", "3", "1/0"])
def test_bad_shard_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        parse_shard(text)
