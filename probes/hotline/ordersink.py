"""The common path of every work-order event into the state file, and the runner of the
followed work-order files.

`OrderSink` is to events what `hotline.sink.Sink` is to call records: it refuses events of
channels this replica does not judge or dated in the future, stores the rest in one
transaction per batch (deduplicated by event key), and counts them in an `IngestCounters`
of its own, as calls are counted: stored and duplicate events (an event already stored:
an import run again, a file re-read) as `zombie_workorder_events_ingested_total{source,
outcome}`, refused ones as `zombie_workorder_events_rejected_total{source,reason}`.
Followed files reuse the call-record tail (`hotline.filetail`) with the work-order parser.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from probes.clock import Clock
from probes.config.workorders import OrderSourcesConfig
from probes.hotline import filetail
from probes.hotline.records import FUTURE_TOLERANCE, RecordError, Rejected, RejectReason
from probes.hotline.sink import IngestCounters
from probes.hotline.workorders import make_order_parser
from probes.model import WorkOrderEvent, one_line
from probes.state import workorders
from probes.state.store import Store

log = logging.getLogger("probes.hotline.orders")
PRUNE_EVERY = 3600.0


@dataclass
class OrderSink:
    """Validates, stores and counts work-order events.

    known: this replica's channels with a `workorders` check; events of others are
        rejected (`unknown_channel`). None accepts any channel (one-off imports without a
        config). elsewhere: configured channels another replica (`serve --shard`) judges;
        their events are skipped without a word, as a file shared by replicas holds them.
    """

    store: Store
    counters: IngestCounters
    clock: Clock
    known: Collection[str] | None = None
    logger: logging.Logger = log
    elsewhere: Collection[str] = ()

    def reject(self, source: str, rejected: Rejected) -> None:
        self.counters.add_rejected(source, rejected.reason.value)
        self.logger.warning(
            "rejected work-order event from %s at %s: %s (%s)",
            source, rejected.position or "?", rejected.detail, rejected.reason.value,
        )  # fmt: skip

    def reject_internal(self, source: str, position: str, exc: BaseException) -> None:
        """Count and log an event whose handling raised unexpectedly (a bug, not bad input)."""
        self.counters.add_rejected(source, RejectReason.INTERNAL.value)
        self.logger.error(
            "rejected work-order event from %s at %s: internal error %s: %s (internal)",
            source, position or "?", type(exc).__name__, one_line(str(exc)), exc_info=exc,
        )  # fmt: skip

    def parse(
        self, source: str, position: str, parse: Callable[[], WorkOrderEvent]
    ) -> WorkOrderEvent | None:
        """The event `parse()` returns, or None once its failure is counted and logged."""
        try:
            return parse()
        except RecordError as exc:
            self.reject(source, Rejected(exc.reason, exc.detail, position))
        except Exception as exc:  # noqa: BLE001 - one event's bug must not stop its source
            self.reject_internal(source, position, exc)
        return None

    def _admit(self, event: WorkOrderEvent, now: float) -> None:
        if event.time > now + FUTURE_TOLERANCE:
            raise RecordError(RejectReason.FUTURE, "event dated in the future")
        if self.known is not None and event.channel not in self.known:
            raise RecordError(RejectReason.UNKNOWN_CHANNEL, "no workorders check on this channel")

    def store_batch(
        self,
        source: str,
        items: Sequence[tuple[WorkOrderEvent, str]],
        offset: tuple[int, int] | None = None,
    ) -> int:
        """Store (event, position) pairs in one transaction; returns how many were new."""
        now = self.clock.now()
        accepted: list[WorkOrderEvent] = []
        for event, position in items:
            if event.channel in self.elsewhere:
                continue
            try:
                self._admit(event, now)
            except RecordError as exc:
                self.reject(source, Rejected(exc.reason, exc.detail, position))
                continue
            accepted.append(event)
        new = workorders.insert_events(
            self.store, accepted, None if offset is None else (source, *offset, now)
        )
        self.counters.add_ingested(source, new)
        # An event read twice (an import run again, a file re-read) is an outcome of
        # ingesting, not a bad event.
        self.counters.add_duplicates(source, len(accepted) - new)
        return new


def source_name(path: str) -> str:
    """The `source` label (and offset key) of a followed work-order file."""
    return "orders:" + Path(path).name


async def _prune_forever(store: Store, clock: Clock, keep: float) -> None:
    while True:
        deleted = workorders.prune(store, clock.now() - keep)
        if deleted:
            log.info("deleted %d work-order events older than %.0f days", deleted, keep / 86400)
        await asyncio.sleep(PRUNE_EVERY)


async def run_order_sources(
    config: OrderSourcesConfig,
    channels: Collection[str],
    store: Store,
    counters: IngestCounters,
    clock: Clock,
    elsewhere: Collection[str] = (),
) -> None:
    """Follow the configured work-order files into the state file until cancelled, for
    this replica's `channels` (events of the `elsewhere` ones are another replica's)."""
    sink = OrderSink(store, counters, clock, frozenset(channels), elsewhere=frozenset(elsewhere))
    async with asyncio.TaskGroup() as tg:
        tg.create_task(_prune_forever(store, clock, config.retention), name="orders-retention")
        for source in config.files:
            parser = make_order_parser(
                source.format, source=source_name(source.path), timezone=source.timezone,
                channel=source.channel,
            )  # fmt: skip
            tg.create_task(
                filetail.follow_with(source, sink, parser, source_name(source.path)),
                name=f"orders-file-{source.path}",
            )
