"""Runs this replica's call-record sources (MQTT, followed files) into the state file.

The serve command creates the `IngestCounters` and the `Store`, and runs `run_sources` in
its task group until shutdown; `probes.hotline.sink` is the path every record takes.
"""

from __future__ import annotations

import asyncio

from probes.clock import Clock
from probes.config import ChannelConfig
from probes.config.calls import CallSourcesConfig
from probes.hotline import filetail, mqtt
from probes.hotline.sink import IngestCounters, Sink, quick_hangup_limits
from probes.state.store import Store

__all__ = ["IngestCounters", "Sink", "run_sources"]


async def run_sources(
    config: CallSourcesConfig,
    channels: list[ChannelConfig],
    store: Store,
    counters: IngestCounters,
    clock: Clock,
) -> None:
    """Run the MQTT and file sources of this replica's hotline channels until cancelled."""
    known = quick_hangup_limits(channels)
    sink = Sink(store, counters, clock, known)
    async with asyncio.TaskGroup() as tg:
        if config.mqtt is not None:
            tg.create_task(mqtt.run(config.mqtt, sorted(known), sink), name="calls-mqtt")
        for source in config.files:
            tg.create_task(filetail.follow(source, sink), name=f"calls-file-{source.path}")
