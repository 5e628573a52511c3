"""The scheduler: every check on its own interval, a global limit on checks in flight, a
check never overlapping itself, lateness measured, reloads applied without a restart.

One dispatcher loop keeps a heap of (due time, job) rather than one sleeping task per check:
a national deployment has about 100,000 checks and a task each would cost memory and
wake-ups for nothing. A job leaves the heap while it runs and goes back when it ends, which
is what keeps a check from overlapping itself. The first run of a new job gets a random
offset within its interval so a restart does not fire everything at once.

Lateness is the time between a job's due time and its start (after waiting for a slot
under `max_in_flight`): the `zombie_scheduler_lateness_seconds` histogram.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from probes.config import ChannelConfig, Config
from probes.config.base import CheckSpec
from probes.model import CheckResult, Verdict
from probes.runtime.changes import ChangeTracker
from probes.runtime.runner import Runtime, judge_latest, run_check
from probes.runtime.status import MonitorStatus
from probes.state import history

log = logging.getLogger("probes.runtime.scheduler")


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Whether a channel belongs to shard I of N (0 <= I < N) by a stable hash of its name:
    the same on every machine and Python version, so replicas split channels with no
    overlap and no gap."""
    if shard is None:
        return True
    index, count = shard
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count == index


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` with 0 <= I < N."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError as exc:
        raise ValueError(f"--shard {text!r}: expected I/N, for example 0/4") from exc
    if not 0 <= i < n:
        raise ValueError(f"--shard {text!r}: need 0 <= I < N")
    return i, n


@dataclass(eq=False)
class Job:
    channel: ChannelConfig
    check: str
    spec: CheckSpec
    due: float
    generation: int
    running: bool = False


@dataclass
class Scheduler:
    """Runs the checks of the channels in this replica's shard until stopped."""

    rt: Runtime
    status: MonitorStatus
    shard: tuple[int, int] | None = None
    spread: float | None = None  # max first-run offset; default min(interval, 5 min)
    rng: random.Random = field(default_factory=random.Random)
    on_result: Callable[[ChannelConfig, CheckResult], None] | None = None
    changes: ChangeTracker | None = None  # records state changes in the evidence history
    _jobs: dict[tuple[str, str], Job] = field(default_factory=dict)
    _heap: list[tuple[float, int, Job]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _generation: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _slots: asyncio.Semaphore | None = None
    _running: set[asyncio.Task[None]] = field(default_factory=set)
    _stopping: bool = False

    def apply(self, config: Config) -> list[ChannelConfig]:
        """Take a (new) config: keep the schedule of unchanged checks, add new ones with a
        random first offset, drop removed ones (a running one finishes, then is gone)."""
        self._generation += 1
        channels = [c for c in config.channels if in_shard(c.name, self.shard)]
        now = self.rt.clock.now()
        old, self._jobs = self._jobs, {}
        for channel in channels:
            for name, spec in channel.enabled_checks():
                key = (channel.name, name)
                prev = old.get(key)
                if prev is not None and prev.spec == spec:
                    due = prev.due
                else:
                    spread = self.spread if self.spread is not None else 300.0
                    due = now + self.rng.uniform(0, min(spec.every, spread))
                job = Job(channel, name, spec, due, self._generation)
                if prev is not None and prev.running:
                    job.running = True  # reschedules itself when the old run ends
                    prev.generation = self._generation
                    prev.channel, prev.spec = channel, spec
                    self._jobs[key] = prev
                    continue
                self._jobs[key] = job
        self._heap = [(j.due, next(self._seq), j) for j in self._jobs.values() if not j.running]
        heapq.heapify(self._heap)
        self._slots = asyncio.Semaphore(config.global_.max_in_flight)
        self.status.set_channels(channels)
        self._wake.set()
        return channels

    async def run(self) -> None:
        """Dispatch due checks until `stop()`; then wait for running checks to end."""
        clock = self.rt.clock
        while not self._stopping:
            self._wake.clear()
            now = clock.now()
            while self._heap and self._heap[0][0] <= now and not self._stopping:
                _, _, job = heapq.heappop(self._heap)
                if (
                    job.generation != self._generation
                    or self._jobs.get((job.channel.name, job.check)) is not job
                ):
                    continue
                job.running = True
                task = asyncio.create_task(self._run(job), name=f"{job.channel.name}/{job.check}")
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            delay = (self._heap[0][0] - now) if self._heap else 3600.0
            await self._wait(max(0.0, delay))
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _wait(self, delay: float) -> None:
        """Until `delay` seconds have passed on the clock or something woke the loop (a
        check ended, a reload, `stop()`)."""
        timer = self.rt.clock.call_later(delay, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()

    def stop(self) -> None:
        """Stop dispatching; `run()` returns once running checks have ended."""
        self._stopping = True
        self._wake.set()

    async def _run(self, job: Job) -> None:
        clock = self.rt.clock
        assert self._slots is not None
        slots = self._slots
        capture = self.changes.capture() if self.changes is not None else None
        async with slots:
            started = clock.now()
            self.status.lateness.observe(max(0.0, started - job.due))
            self.status.in_flight += 1
            try:
                result = await run_check(self.rt, job.channel, job.check, job.spec, capture)
            finally:
                self.status.in_flight -= 1
        self.status.record(job.channel.name, result)
        if job.channel.name in self.status.channels:
            verdict = self._judge(job.channel)
            self.status.verdicts[job.channel.name] = verdict
            if self.changes is not None and capture is not None:
                self.changes.observe(
                    job.channel, verdict, self.status.results, job.check, capture.pages
                )
        if self.on_result is not None:
            self.on_result(job.channel, result)
        job.running = False
        if self._jobs.get((job.channel.name, job.check)) is job and not self._stopping:
            # Skip missed slots rather than firing a burst after a long run.
            job.due = max(job.due + job.spec.every, clock.now())
            heapq.heappush(self._heap, (job.due, next(self._seq), job))
            self._wake.set()

    def restore(self) -> None:
        """Load the latest stored results and judge every channel (at start: a restart
        shows the last verdicts at once)."""
        for key, result in history.latest(self.rt.store).items():
            if key in self._jobs:
                self.status.results[key] = result
        for channel in self.status.channels.values():
            self.status.verdicts[channel.name] = self._judge(channel)

    def _judge(self, channel: ChannelConfig) -> Verdict:
        """Judge a channel from the latest results held in memory (restored from the store
        at start), sparing a read and a JSON decode of every result after each check."""
        results = self.status.results
        latest = {
            name: results[(channel.name, name)]
            for name, _ in channel.enabled_checks()
            if (channel.name, name) in results
        }
        return judge_latest(self.rt, channel, latest)
