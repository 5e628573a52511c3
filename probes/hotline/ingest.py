"""Runs this replica's call-record sources (MQTT, followed files) into the state file.

The serve command creates the `IngestCounters` and the `Store`, and runs `run_sources` in
its task group until shutdown; `probes.hotline.sink` is the path every record takes.
Records older than `calls.retention` (never less than a hotline's longest window) are
deleted hourly; the running totals stay. A record redelivered after its copy was pruned
would count again, so retention is meant to be far longer than any delivery delay.

Each source runs supervised: a source that fails as a whole (an exception it does not
handle itself: an unreadable file, a state-file fault, a bug) is logged and restarted
after a back-off that doubles up to a bound (the MQTT source's `reconnect_min`/`max`, a
file's `poll` up to a minute), and never ends the process or the other sources. The
back-off starts again once a source has run longer than its longest delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from probes.clock import Clock
from probes.config import ChannelConfig
from probes.config.calls import CallSourcesConfig, FileSource
from probes.hotline import filetail, mqtt
from probes.hotline.sink import IngestCounters, Sink, quick_hangup_limits
from probes.model import one_line
from probes.state import calls
from probes.state.errors import StateWriteError
from probes.state.store import Store

__all__ = ["IngestCounters", "Sink", "prune_forever", "run_sources", "source_names"]

log = logging.getLogger("probes.hotline")
PRUNE_EVERY = 3600.0
FILE_RETRY_MAX = 60.0  # longest wait before a failed file source is tried again


async def prune_forever(store: Store, clock: Clock, keep: float) -> None:
    """Delete call records older than `keep` now and then every hour (totals stay)."""
    while True:
        try:
            deleted = calls.prune(store, clock.now() - keep)
        except StateWriteError:  # counted and logged by the store; the next round prunes
            deleted = 0
        if deleted:
            log.info("deleted %d call records older than %.0f days", deleted, keep / 86400)
        await asyncio.sleep(PRUNE_EVERY)


def source_names(config: CallSourcesConfig) -> list[str]:
    """The `source` label of every configured source (MQTT, each followed file)."""
    names = [mqtt.SOURCE] if config.mqtt is not None else []
    return names + [filetail.source_name(f) for f in config.files]


async def supervise(
    name: str, run: Callable[[], Awaitable[None]], clock: Clock, first: float, longest: float
) -> None:
    """Run `run()` until it returns or is cancelled, restarting it after each failure."""
    delay = first
    while True:
        started = clock.monotonic()
        try:
            await run()
        except Exception as exc:  # a failed source restarts; it never ends the process
            if clock.monotonic() - started > longest:
                delay = first
            # The reason on the first line too, for log views that show only that line.
            log.exception(
                "call source %s failed: %s: %s; restarting in %gs",
                name, type(exc).__name__, one_line(str(exc)), delay,  # noqa: TRY401
            )  # fmt: skip
        else:
            return
        await clock.sleep(delay)
        delay = min(delay * 2, longest)


async def run_sources(
    config: CallSourcesConfig,
    channels: list[ChannelConfig],
    store: Store,
    counters: IngestCounters,
    clock: Clock,
    *,
    shard: tuple[int, int] | None = None,
    others: Collection[str] = (),
) -> None:
    """Run the MQTT and file sources of this replica's hotline channels until cancelled.

    shard: this replica's `--shard`, which makes its MQTT client id its own.
    others: the config's hotlines that other replicas own (their records are skipped).
    """
    known = quick_hangup_limits(channels)
    sink = Sink(store, counters, clock, known, others=frozenset(others) - set(known))
    windows = [ch.checks.hotline.long_window for ch in channels if ch.checks.hotline]
    keep = max([config.retention, *windows])
    jobs: list[tuple[str, Callable[[], Awaitable[None]], float, float]] = [
        ("retention", lambda: prune_forever(store, clock, keep), 60.0, PRUNE_EVERY)
    ]
    if (cfg := config.mqtt) is not None:
        names = sorted(known)
        client_id = mqtt.session_id(cfg.client_id, shard)
        jobs.append(("mqtt", lambda: mqtt.run(cfg, names, sink, client_id=client_id),
                     cfg.reconnect_min, cfg.reconnect_max))  # fmt: skip
    for source in config.files:
        jobs.append((filetail.source_name(source), _follower(source, sink), source.poll,
                     max(source.poll, FILE_RETRY_MAX)))  # fmt: skip
    async with asyncio.TaskGroup() as tg:
        for name, run, first, longest in jobs:
            tg.create_task(supervise(name, run, clock, first, longest), name=f"calls-{name}")


def _follower(source: FileSource, sink: Sink) -> Callable[[], Awaitable[None]]:
    return lambda: filetail.follow(source, sink)
