"""The `/metrics` body, kept current per channel so a scrape of a national deployment
joins text instead of rendering a million series.

Each channel's series are rendered by `ZombieCollector.render_channel` after its results
change (`MonitorStatus.dirty` names the channels whose text is out of date: a check ran,
a reload changed the channel set) and kept per family, so a body is, per family in
catalogue order, its HELP/TYPE header and the join of every channel's lines. The changed
channels are rendered every `REFRESH` seconds by `keep_current` (which `serve` runs beside
the scheduler) and whatever changed since by the scrape itself, so a body is never older
than the status and a scrape costs the changes of about one second, whatever the scrape
interval.
Rendering happens in slices of `SLICE` channels with the event loop let go between slices:
the loop never waits on the exporter for more than one slice (a few milliseconds) however
many channels changed (after a start or a reload, all of them). The monitor's own series
(scheduler, config, ingest) are few and rendered at each scrape, and client_python's
process collector (`process_*`, on the monitor's own registry) closes the body.
A channel's `zombie_channel_maintenance` depends on the time, not on a result: every
`MAINTENANCE_EVERY` seconds `keep_current` marks the channels whose window opened or
closed, so the series follows a window within that delay.

Headline and detail: families the catalogue marks `detail` (per column, per service step,
per latency percentile) hold most of a large deployment's series but feed no alert, so
they are left out unless `global.metrics_detail` is true (then they are kept current like
the rest) or a scrape asks for `?detail=true` (then they are rendered for that scrape, in
the same slices). `/probe?channel=NAME` always carries its channel's detail.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from prometheus_client import CollectorRegistry, generate_latest

from probes.catalogue import FAMILIES
from probes.clock import Clock
from probes.runtime.collector import DETAIL, HEADERS, HEADLINE, ZombieCollector

log = logging.getLogger("probes.runtime.exposition")

# Channels rendered between two yields to the event loop (~3-8 ms). Small, because a task
# that yields with sleep(0) may run its next slice before the timers that fell due meanwhile.
SLICE = 50
REFRESH = 1.0  # seconds between two renderings of the changed channels
MAINTENANCE_EVERY = 30.0  # seconds between two looks at which maintenance windows are open
PIECE = 2000  # channels' lines of one family joined into one piece of the body (~0.2 MB)


class Exposition:
    """Per-family, per-channel text for `/metrics`, brought up to date at each scrape."""

    def __init__(
        self,
        collector: ZombieCollector,
        *,
        detail: bool = False,
        process: CollectorRegistry | None = None,
    ) -> None:
        self.collector = collector
        self.status = collector.status
        self.keep_detail = detail
        self.process = process
        self._in_maintenance: dict[str, bool] = {}
        self._looked: float | None = None  # when maintenance windows were last looked at
        # family position -> channel name -> that channel's lines of the family
        self._text: list[dict[str, bytes]] = [{} for _ in FAMILIES]
        self._lock = asyncio.Lock()

    async def stream(self, detail: bool | None = None) -> AsyncIterator[bytes]:
        """A complete body in pieces; `detail` None follows `global.metrics_detail`.

        The channels' text is caught up and every family's lines are taken in one step (a
        consistent snapshot: references, no copy); the pieces are joined as they are sent,
        `PIECE` channels at a time, so no single join holds the loop for long."""
        want_detail = self.keep_detail if detail is None else detail
        async with self._lock:
            await self._follow_maintenance()
            await self._catch_up()
            extra = await self._detail() if want_detail and not self.keep_detail else {}
            own = self.collector.render_self()
            snapshot: list[tuple[bytes, list[bytes]]] = []
            for i, texts in enumerate(self._text):
                if i in DETAIL and not want_detail:
                    continue
                chunks = [*texts.values(), *extra.get(i, ()), *([own[i]] if i in own else ())]
                if chunks:
                    snapshot.append((HEADERS[i], chunks))
        for header, chunks in snapshot:
            yield header
            for start in range(0, len(chunks), PIECE):
                yield b"".join(chunks[start : start + PIECE])
                await asyncio.sleep(0)
        if self.process is not None:
            yield generate_latest(self.process)

    async def keep_current(self, clock: Clock) -> None:
        """Render the changed channels every REFRESH seconds, until cancelled."""
        while True:
            async with self._lock:
                await self._follow_maintenance()
                await self._catch_up()
            await clock.sleep(REFRESH)

    async def _follow_maintenance(self) -> None:
        """Every MAINTENANCE_EVERY seconds (on the collector's clock), mark dirty the
        channels whose maintenance window opened or closed."""
        clock = self.collector.clock
        if clock is None:
            return
        now = clock.now()
        if self._looked is not None and now - self._looked < MAINTENANCE_EVERY:
            return
        self._looked = now
        seen = self._in_maintenance
        channels = list(self.status.channels.values())
        for start in range(0, len(channels), SLICE * 20):
            for channel in channels[start : start + SLICE * 20]:
                planned = channel.maintenance_at(now) is not None
                if seen.get(channel.name, planned) != planned:
                    self.status.dirty.add(channel.name)
                seen[channel.name] = planned
            await asyncio.sleep(0)

    async def _catch_up(self) -> None:
        """Render every channel the status marked dirty (or drop it when it is gone)."""
        dirty = self.status.dirty
        while dirty:
            for _ in range(min(SLICE, len(dirty))):
                self._store(dirty.pop())
            await asyncio.sleep(0)

    def _store(self, name: str) -> None:
        channel = self.status.channels.get(name)
        skip = frozenset() if self.keep_detail else DETAIL
        try:
            rendered = {} if channel is None else self.collector.render_channel(channel, skip)
        except Exception:
            # A bug in one channel's rendering must not take /metrics (or serve, whose
            # task group runs the refresher) down: its previous series stay.
            log.exception("rendering the series of channel %s failed; its last ones stay", name)
            return
        for i, texts in enumerate(self._text):
            text = rendered.get(i)
            if text is None:
                texts.pop(name, None)
            else:
                texts[name] = text

    async def _detail(self) -> dict[int, list[bytes]]:
        """The detail families of every channel, rendered for one scrape."""
        out: dict[int, list[bytes]] = {}
        channels = list(self.status.channels.values())
        for start in range(0, len(channels), SLICE):
            for channel in channels[start : start + SLICE]:
                if channel.name not in self.status.channels:
                    continue  # removed by a reload while this scrape let the loop go
                for i, text in self.collector.render_channel(channel, HEADLINE).items():
                    out.setdefault(i, []).append(text)
            await asyncio.sleep(0)
        return out
