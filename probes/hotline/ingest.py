"""Runs this replica's call-record sources (MQTT, followed files) into the state file.

The serve command creates the `IngestCounters` and the `Store`, and runs `run_sources` in
its task group until shutdown; `probes.hotline.sink` is the path every record takes.
Records older than `calls.retention` (never less than a hotline's longest window) are
deleted hourly; the running totals stay. A record redelivered after its copy was pruned
would count again, so retention is meant to be far longer than any delivery delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from probes.clock import Clock
from probes.config import ChannelConfig
from probes.config.calls import CallSourcesConfig
from probes.hotline import filetail, mqtt
from probes.hotline.sink import IngestCounters, Sink, quick_hangup_limits
from probes.state import calls
from probes.state.errors import StateWriteError
from probes.state.store import Store

__all__ = ["IngestCounters", "Sink", "prune_forever", "run_sources"]

log = logging.getLogger("probes.hotline")
PRUNE_EVERY = 3600.0


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
    async with asyncio.TaskGroup() as tg:
        tg.create_task(prune_forever(store, clock, keep), name="calls-retention")
        if config.mqtt is not None:
            client_id = mqtt.session_id(config.mqtt.client_id, shard)
            tg.create_task(
                mqtt.run(config.mqtt, sorted(known), sink, client_id=client_id), name="calls-mqtt"
            )
        for source in config.files:
            tg.create_task(filetail.follow(source, sink), name=f"calls-file-{source.path}")
