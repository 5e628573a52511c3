"""Runs one configured check once: the deadline, the dispatch, the recording, the verdict.

The scheduler, `/probe` and the CLI all come through here, so a check behaves the same
however it was started. `Runtime` holds what one owner opened (`async with` in `serve`,
`demo` or `check`) and passes down: the fetcher on its shared client, the store, the clock.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from probes.clock import Clock
from probes.config import ChannelConfig, GlobalConfig
from probes.config.base import CheckSpec
from probes.http.fetcher import Fetcher, QueueTime
from probes.kinds import KINDS, CheckContext
from probes.model import CheckResult, Failure, Verdict
from probes.state import history
from probes.state.store import Store
from probes.verdict import JudgeContext, judge

# A kind gets its full timeout for its own work; the runner's hard stop comes this much
# later so the kind's own (per-request) deadline fires first and reports what it was doing.
HARD_STOP_GRACE = 1.0

log = logging.getLogger("probes.runtime.runner")


@dataclass(frozen=True, slots=True)
class Runtime:
    """The shared resources every check run uses."""

    fetcher: Fetcher
    store: Store
    clock: Clock
    settings: GlobalConfig


async def run_check(rt: Runtime, channel: ChannelConfig, name: str, spec: CheckSpec) -> CheckResult:
    """Run one check with its deadline, record the result, and return it.

    The deadline counts the target's time only: while the run is blocked by the monitor's
    own per-host queue (`QueueTime`), both the deadline and the hard stop stand still."""
    clock = rt.clock
    started_wall, started = clock.now(), clock.monotonic()
    queue = QueueTime()
    ctx = CheckContext(
        fetcher=rt.fetcher.for_check(queue),
        clock=clock,
        store=rt.store,
        log=logging.getLogger(f"probes.kinds.{name}"),
        channel=channel,
        settings=rt.settings,
        deadline=started + spec.deadline,
        queue=queue,
    )
    try:
        async with asyncio.timeout(spec.deadline + HARD_STOP_GRACE) as stop:
            queue.pause_with(stop)
            try:
                result = await KINDS[name](spec, ctx)
            finally:
                queue.detach(stop)
    except TimeoutError:
        result = CheckResult(
            name, name, False, started_wall, clock.monotonic() - started,
            failure=Failure.TIMEOUT,
            error=f"timeout: the check did not finish within {spec.deadline:g}s",
        )  # fmt: skip
    history.record(rt.store, channel.name, result)
    return result


async def run_channel(rt: Runtime, channel: ChannelConfig) -> tuple[Verdict, list[CheckResult]]:
    """Run every enabled check of a channel concurrently, then judge it from those results
    (they are every check's latest: no need to read them back from the store)."""
    checks = channel.enabled_checks()
    results = await asyncio.gather(*(run_check(rt, channel, n, s) for n, s in checks))
    latest = {result.check: result for result in results}
    verdict = judge(channel, latest, JudgeContext(channel, rt.store, rt.clock.now()))
    return verdict, list(results)


def judge_channel(rt: Runtime, channel: ChannelConfig) -> Verdict:
    """The verdict on a channel from its latest stored results (checks run one by one)."""
    latest = history.latest_for(rt.store, channel.name)
    return judge(channel, latest, JudgeContext(channel, rt.store, rt.clock.now()))
