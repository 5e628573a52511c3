"""Runs one configured check once: the deadline, the dispatch, the envelope, the
recording, the verdict.

The scheduler, `/probe` and the CLI all come through here, so a check behaves the same
however it was started. A kind returns a `Report`; the runner stamps the check name, the
start and the duration, turns a kind that overran its deadline into a timeout failure and a
kind that crashed into an unknown result (a bug, logged with its traceback), and for a
kind whose rule judges history computes the window of past runs once, with this run in it.

`Runtime` holds what one owner opened with `open_runtime()` (`serve`, `demo` and `check`)
and passes down: the fetcher on its shared client, the page-work pool, the store, the
clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from probes.clock import Clock, Timer
from probes.config import ChannelConfig, GlobalConfig
from probes.config.base import CheckSpec, HttpCheckSpec
from probes.http.client import open_fetcher
from probes.http.fetcher import Fetcher, Page, QueueTime
from probes.kinds import KINDS, CheckContext
from probes.kinds.pagework import PageWorkers, open_page_workers
from probes.model import CheckResult, Failure, Report, Verdict, one_line
from probes.state import history
from probes.state.errors import StateWriteError
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
    pages: PageWorkers
    # The windows of the checks run here, kept current in memory (`history.RunWindows`).
    windows: history.RunWindows = field(default_factory=history.RunWindows)


@asynccontextmanager
async def open_runtime(
    settings: GlobalConfig,
    *,
    clock: Clock,
    state_path: str | Path,
    write_timeout: float | None = None,
) -> AsyncIterator[Runtime]:
    """Open the shared HTTP client and fetcher, the page-work pool and the state store for
    `settings`; close them on exit. `state_path` may be `:memory:` (one-off checks);
    `write_timeout` is the store's busy timeout once open (see `Store.open`)."""
    async with open_fetcher(settings, clock=clock) as fetcher, open_page_workers() as pages:
        with Store.open(state_path, write_timeout=write_timeout, clock=clock) as store:
            yield Runtime(fetcher=fetcher, pages=pages, store=store, clock=clock, settings=settings)


async def run_check(
    rt: Runtime,
    channel: ChannelConfig,
    name: str,
    spec: CheckSpec,
    on_page: Callable[[Page], None] | None = None,
) -> CheckResult:
    """Run one check with its deadline, record the result, and return it; `on_page` is
    told of every page the run fetched (the evidence history keeps some).

    The deadline counts the target's time only: while the run is blocked by the monitor's
    own per-host queue (`QueueTime`), both the deadline and the hard stop stand still."""
    clock = rt.clock
    kind = KINDS[name]
    started_wall, started = clock.now(), clock.monotonic()
    queue = QueueTime(clock)
    past = None
    if kind.window_span is not None:
        span = kind.window_span(spec)
        # Runs inside maintenance windows do not count toward the official window.
        planned = channel.maintenance_spans(started_wall - span, started_wall)
        past = rt.windows.window(
            rt.store, channel.name, name, span, started_wall, planned,
            retention=rt.settings.history_retention,
        )  # fmt: skip
    ctx = CheckContext(
        fetcher=_fetcher(rt, channel, spec, on_page).for_check(queue),
        pages=rt.pages,
        clock=clock,
        store=rt.store,
        log=logging.getLogger(f"probes.kinds.{name}"),
        channel=channel,
        settings=rt.settings,
        deadline=started + spec.deadline,
        queue=queue,
    )
    try:
        report = await _within(clock, spec.deadline + HARD_STOP_GRACE, kind.check(spec, ctx), queue)
    except TimeoutError:
        report = Report(
            False, failure=Failure.TIMEOUT,
            error=f"timeout: the check did not finish within {spec.deadline:g}s",
        )  # fmt: skip
    except StateWriteError as exc:
        # The kind could not record what it tracks (board messages, column fingerprints):
        # the monitor's fault, not the target's, so the check could not tell.
        report = Report(None, error=f"could not record the check's state: {exc}")
    except Exception as exc:
        # A bug in a kind must not end the monitor: log it with its traceback and show the
        # check as unknown with the error.
        log.exception("check %s/%s crashed", channel.name, name)
        report = Report(None, error=f"internal error in the {name} check: {exc!r}")
    window = past
    if past is not None and channel.maintenance_at(started_wall) is None:
        window = past.including(report.success)
    shown = () if window is None else kind.window_measurements(window)
    result = CheckResult(
        check=name,
        success=report.success,
        started=started_wall,
        duration=clock.monotonic() - started,
        failure=report.failure,
        error=one_line(report.error),  # whatever a kind or an exception wrote
        evidence=report.evidence,
        measurements=report.measurements + shown,
        findings=report.findings,
        window=window,
    )
    rt.windows.record(rt.store, channel.name, result)
    return result


async def _within(
    clock: Clock, seconds: float, work: Awaitable[Report], queue: QueueTime
) -> Report:
    """`await work`, stopped with TimeoutError once `seconds` have passed on the clock (the
    event loop's time on the system clock; a frozen clock's when a test advances it), not
    counting the time the monitor's own per-host queue alone held the run (`queue`)."""
    async with asyncio.timeout(None) as hard_stop:
        stop = _HardStop(clock, seconds, hard_stop)
        queue.pause_with(stop)
        try:
            return await work
        finally:
            queue.detach(stop)
            stop.cancel()


class _HardStop:
    """A clock timer that expires an `asyncio.timeout`, paused while the queue blocks."""

    def __init__(self, clock: Clock, seconds: float, timeout: asyncio.Timeout) -> None:
        self.clock, self.timeout = clock, timeout
        self.loop = asyncio.get_running_loop()
        self.left = seconds
        self.fired = False
        self.timer: Timer | None = None
        self.resume()

    def _fire(self) -> None:
        self.fired, self.timer = True, None
        self.timeout.reschedule(self.loop.time())

    def pause(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.left = max(0.0, self.due - self.clock.monotonic())

    def resume(self) -> None:
        if self.timer is None and not self.fired:
            self.due = self.clock.monotonic() + self.left
            self.timer = self.clock.call_later(self.left, self._fire)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def _fetcher(
    rt: Runtime, channel: ChannelConfig, spec: CheckSpec, on_page: Callable[[Page], None] | None
) -> Fetcher:
    """The fetcher of one run: the check's own TLS settings, the evidence capture."""
    fetcher = rt.fetcher
    if isinstance(spec, HttpCheckSpec) and spec.tls is not None:
        host = channel.url.host if channel.url is not None else None
        fetcher = fetcher.with_tls(spec.tls, host)
    return fetcher if on_page is None else fetcher.observed(on_page)


async def run_channel(rt: Runtime, channel: ChannelConfig) -> tuple[Verdict, list[CheckResult]]:
    """Run every enabled check of a channel concurrently, then judge it from those results
    (they are every check's latest: no need to read them back from the store)."""
    checks = channel.enabled_checks()
    results = await asyncio.gather(*(run_check(rt, channel, n, s) for n, s in checks))
    verdict = judge_latest(rt, channel, {result.check: result for result in results})
    return verdict, list(results)


def judge_latest(rt: Runtime, channel: ChannelConfig, latest: Mapping[str, CheckResult]) -> Verdict:
    """The verdict on a channel from the latest result of each of its checks, now."""
    return judge(channel, latest, JudgeContext(channel, rt.clock.now()))
