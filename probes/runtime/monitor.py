"""The running monitor: the one owner of the HTTP client, the state store, the scheduler
and the call-record sources, opened in `async with` blocks and passed down.

`serve` and `demo` both run a `Monitor`; the HTTP server and signal handlers call its
`reload()` and `probe()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Metric, ProcessCollector
from prometheus_client.registry import Collector

from probes.clock import Clock, SystemClock
from probes.config import Config, ConfigError, load_config
from probes.config.apart import load_config_apart
from probes.hotline.ingest import IngestCounters, Ingestion, source_names
from probes.hotline.ordersink import source_name as order_source
from probes.model import one_line
from probes.runtime.changes import ChangeTracker
from probes.runtime.collector import ZombieCollector, assemble
from probes.runtime.exposition import Exposition
from probes.runtime.probe import ProbeAnswer
from probes.runtime.runner import Runtime, open_runtime
from probes.runtime.scheduler import Scheduler
from probes.runtime.status import MonitorStatus
from probes.state import evidence, history
from probes.state.errors import StateWriteError
from probes.state.store import SHORT_BUSY_TIMEOUT

log = logging.getLogger("probes.runtime.monitor")

# Settings that shape objects opened once at start; a reload that changes them is applied
# for everything else and says that these need a restart.
RESTART_ONLY = ("listen", "state_path", "user_agent", "verify_tls", "http_transport",
                "max_body", "max_redirects", "per_host_concurrency", "metrics_detail",
                "location")  # fmt: skip
PRUNE_EVERY = 3600.0
# Config files larger than this are loaded (at start and on reload) in a child process
# (`probes.config.apart`): loading one in a thread would hold the GIL long enough to stall
# /metrics (a 2 MiB file of 20,000 channels for about a second at a time) and leave the
# parse's memory resident; a smaller file loads in a thread in well under the 0.4 s a child
# process costs to start.
APART_FROM_BYTES = 256 * 1024


@dataclass
class Monitor:
    config_path: Path | None
    config: Config
    rt: Runtime
    status: MonitorStatus
    scheduler: Scheduler
    ingest: IngestCounters
    exposition: Exposition
    order_ingest: IngestCounters
    ingestion: Ingestion
    location: str | None = None  # the vantage point's `location` label, fixed at start
    _reloading: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: set[asyncio.Task[tuple[bool, str]]] = field(default_factory=set)

    async def reload(self) -> tuple[bool, str]:
        """Load the config file again; a bad one is rejected and the old one keeps running.

        Whatever makes the reload fail (a bad file, an unreadable one, a bug), the answer is
        (False, one message), the old config stays and the reload metric drops to 0. The
        file is read and validated off the event loop (a large one in a child process,
        see `APART_FROM_BYTES`); reloads run one at a time.
        """
        if self.config_path is None:
            return False, "no config file to reload (the built-in demo config is fixed)"
        async with self._reloading:
            try:
                new = await load_config_file(self.config_path)
                channels = self.scheduler.apply(new)
            except ConfigError as exc:
                return self._reload_failed(str(exc))
            except Exception as exc:  # noqa: BLE001 - any failure keeps the old config
                reason = f"{type(exc).__name__}: {one_line(str(exc))}"
                return self._reload_failed(f"{self.config_path}: reload failed: {reason}", exc)
            old = self.config.global_
            changed = [k for k in RESTART_ONLY if getattr(new.global_, k) != getattr(old, k)]
            self.config = new
            if self.scheduler.changes is not None:
                self.scheduler.changes.config = new.global_.evidence
            hotlines = [c for c in channels if c.kind == "hotline"]
            others = [c.name for c in new.channels if c.kind == "hotline"]
            changed += self.ingestion.apply(new.calls, hotlines, others=others)
            self.status.reload_ok = True
            self.status.reload_ts = self.rt.clock.now()
            message = f"config reloaded: {len(channels)} channels"
            if changed:
                message += f" (restart to apply: {', '.join(changed)})"
            log.info("%s", message)
            return True, message

    def _reload_failed(self, message: str, bug: Exception | None = None) -> tuple[bool, str]:
        self.status.reload_ok = False
        # A config error names file, line and field; a traceback would only add noise.
        log.error("config reload rejected, keeping the running config:\n%s", message,
                  exc_info=bug)  # fmt: skip
        return False, message

    def reload_soon(self) -> None:
        """Start a reload from a signal handler (which cannot await one)."""
        task = asyncio.get_running_loop().create_task(self.reload())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def probe(self, name: str) -> ProbeAnswer | None:
        """A configured channel's checks, fresh or run now (see `probes.runtime.probe`);
        None when this replica has no such channel (nothing is fetched)."""
        channel = self.status.channels.get(name)
        if channel is None:
            return None
        started = self.rt.clock.monotonic()
        results = await self.scheduler.fresh_or_run(channel)
        verdict = self.status.verdicts.get(name) or self.scheduler.judge(channel)
        duration = self.rt.clock.monotonic() - started
        return ProbeAnswer(channel, verdict, tuple(results), duration)

    def probe_metrics(self, name: str) -> bytes:
        """One channel's `zombie_` series, as /metrics shows them."""
        channel = self.status.channels[name]
        return assemble([self.exposition.collector.render_channel(channel)])

    def metrics(self, detail: bool | None = None) -> AsyncIterator[bytes]:
        """The /metrics body, in pieces; `detail` None follows `global.metrics_detail`."""
        return self.exposition.stream(detail)


async def load_config_file(path: Path) -> Config:
    """The config of `path`, for `serve`'s start and every reload: a large file in a child
    process (`probes.config.apart`), so a reload never stalls /metrics and the serving
    process never keeps the memory of a large YAML parse (freed, but left fragmented: a
    28,000-channel file leaves 864 MB resident against 275 MB for the same config loaded
    apart); a small one in a thread."""
    if await asyncio.to_thread(_file_size, path) > APART_FROM_BYTES:
        return await load_config_apart(path)
    return await asyncio.to_thread(load_config, path)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # load_config names the file and why it cannot be read
        return 0


class _Located(Collector):
    """A collector's series with this vantage point's `location` label added, so the
    process series of two monitors at different locations stay apart like the rest."""

    def __init__(self, inner: Collector, location: str) -> None:
        self.inner = inner
        self.location = location

    def collect(self) -> Iterator[Metric]:
        for family in self.inner.collect():
            located = Metric(family.name, family.documentation, family.type, family.unit)
            for s in family.samples:
                labels = {**s.labels, "location": self.location}
                located.add_sample(s.name, labels, s.value, s.timestamp, s.exemplar)
            yield located


@asynccontextmanager
async def open_monitor(
    config: Config,
    config_path: Path | None = None,
    *,
    shard: tuple[int, int] | None = None,
    clock: Clock | None = None,
    state_path: str | None = None,
    first_run_spread: float | None = None,
    location: str | None = None,
) -> AsyncIterator[Monitor]:
    """Open everything a running monitor owns; close it all on exit. `location` (else
    `global.location`) labels every series with the vantage point."""
    settings = config.global_
    location = location or settings.location
    clock = clock or SystemClock()
    async with open_runtime(
        settings, clock=clock, state_path=state_path or settings.state_path,
        write_timeout=SHORT_BUSY_TIMEOUT,
    ) as rt:  # fmt: skip
        status = MonitorStatus(reload_ts=clock.now())
        changes = ChangeTracker(rt.store, settings.evidence)
        scheduler = Scheduler(rt, status, shard=shard, spread=first_run_spread, changes=changes)
        scheduler.apply(config)
        scheduler.restore()
        ingest, order_ingest = IngestCounters(), IngestCounters()
        if config.calls is not None:
            ingest.declare(source_names(config.calls))
        if config.orders is not None:
            order_ingest.declare([order_source(f.path) for f in config.orders.files])
        # The monitor's own CPU, memory and file descriptors (`process_*`), on a registry
        # of its own: never the library's global one.
        process = CollectorRegistry(auto_describe=False)
        own: Collector = ProcessCollector(registry=None)
        process.register(own if location is None else _Located(own, location))
        exposition = Exposition(
            ZombieCollector(
                status,
                ingest,
                state=rt.store,
                clock=clock,
                order_ingest=order_ingest,
                location=location,
            ),
            detail=settings.metrics_detail,
            process=process,
        )
        ingestion = Ingestion(rt.store, ingest, clock, shard=shard)
        yield Monitor(
            config_path, config, rt, status, scheduler, ingest, exposition, order_ingest,
            ingestion, location,
        )  # fmt: skip


async def prune_forever(monitor: Monitor) -> None:
    """Drop history older than `history_retention` and evidence past its bounds, hourly."""
    while True:
        now = monitor.rt.clock.now()
        settings = monitor.config.global_
        try:
            removed = history.prune(monitor.rt.store, now - settings.history_retention)
        except StateWriteError:  # counted and logged by the store; the next round prunes
            removed = 0
        if removed:
            log.info("pruned %d check runs older than the retention", removed)
        kept = settings.evidence
        try:
            changes, pages = evidence.prune(
                monitor.rt.store,
                now - kept.retention,
                now - kept.snapshot_retention,
                kept.snapshot_max_total,
            )
        except StateWriteError:  # counted and logged by the store; the next round prunes
            changes, pages = 0, 0
        if changes or pages:
            log.info("pruned %d state changes and %d evidence pages", changes, pages)
        await monitor.rt.clock.sleep(PRUNE_EVERY)
