"""The common path of every call record into the state file.

`Sink` takes parsed records from any source (MQTT, a followed file, a one-off import),
skips the ones for hotlines of another replica (`--shard`: a shared file or a topic
without `{channel}` reaches every replica), rejects the ones for channels no replica has
or dated in the future, stores the rest in one transaction per batch (deduplicated by
channel and call id), and counts all three in `IngestCounters`, which the exporter
renders as `zombie_hotline_records_ingested_total{source}`,
`zombie_hotline_records_not_mine_total{source}` and
`zombie_hotline_records_rejected_total{source,reason}`. A skipped record is expected
(each replica sees the others' records) and is neither logged nor rejected.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from probes.clock import Clock
from probes.config import ChannelConfig
from probes.hotline.records import RecordError, Rejected, RejectReason, check_not_future
from probes.model import CallRecord
from probes.state import calls
from probes.state.store import Store

log = logging.getLogger("probes.hotline")


@dataclass
class IngestCounters:
    """Plain running counts, created by the process owner and passed to every source."""

    ingested: dict[str, int] = field(default_factory=dict)
    rejected: dict[tuple[str, str], int] = field(default_factory=dict)
    not_mine: dict[str, int] = field(default_factory=dict)

    def add_ingested(self, source: str, n: int = 1) -> None:
        if n:
            self.ingested[source] = self.ingested.get(source, 0) + n

    def add_rejected(self, source: str, reason: str, n: int = 1) -> None:
        if n:
            key = (source, reason)
            self.rejected[key] = self.rejected.get(key, 0) + n


def quick_hangup_limits(channels: Sequence[ChannelConfig]) -> dict[str, float]:
    """Channel name -> its quick hang-up limit, for the hotline channels given."""
    out: dict[str, float] = {}
    for ch in channels:
        spec = ch.checks.hotline
        if ch.kind == "hotline" and spec is not None:
            out[ch.name] = spec.quick_hangup
    return out


@dataclass
class Sink:
    """Validates, stores and counts records.

    known: channel -> quick hang-up limit; records for other channels are rejected
        (`unknown_channel`). None accepts any channel (one-off imports without a config).
    others: hotlines of the config that other replicas own; their records are skipped
        and counted as not mine.
    """

    store: Store
    counters: IngestCounters
    clock: Clock
    known: Mapping[str, float] | None = None
    logger: logging.Logger = log
    others: frozenset[str] = frozenset()

    def reject(self, source: str, rejected: Rejected) -> None:
        self.counters.add_rejected(source, rejected.reason.value)
        self.logger.warning(
            "rejected call record from %s at %s: %s (%s)",
            source, rejected.position or "?", rejected.detail, rejected.reason.value,
        )  # fmt: skip

    def _admit(self, record: CallRecord, now: float) -> None:
        check_not_future(record, now)
        if self.known is not None and record.channel not in self.known:
            raise RecordError(RejectReason.UNKNOWN_CHANNEL, "not a hotline of this replica")

    def store_batch(
        self,
        source: str,
        items: Sequence[tuple[CallRecord, str]],
        offset: tuple[int, int] | None = None,
    ) -> int:
        """Store (record, position) pairs in one transaction; returns how many were new.

        offset: (inode, byte offset) of a followed file, committed with the records.
        Raises `StateWriteError` when the state file cannot be written now; nothing is
        counted then, so the caller can retry the same batch (and must not acknowledge it).
        """
        now = self.clock.now()
        accepted: list[tuple[CallRecord, str]] = []
        refused: list[Rejected] = []
        not_mine = 0
        for record, position in items:
            if record.channel in self.others:
                not_mine += 1
                continue
            try:
                self._admit(record, now)
            except RecordError as exc:
                refused.append(Rejected(exc.reason, exc.detail, position))
                continue
            accepted.append((record, position))
        known = self.known
        fresh = calls.insert_records(
            self.store,
            [r for r, _ in accepted],
            quick_hangup=(lambda ch: known.get(ch, calls.DEFAULT_QUICK_HANGUP))
            if known is not None
            else (lambda _ch: calls.DEFAULT_QUICK_HANGUP),
            offset=None if offset is None else (source, offset[0], offset[1], now),
        )
        for rejected in refused:
            self.reject(source, rejected)
        if not_mine:
            self.counters.not_mine[source] = self.counters.not_mine.get(source, 0) + not_mine
        new = sum(fresh)
        self.counters.add_ingested(source, new)
        # A redelivered or re-read record is expected now and then (QoS 1, crash recovery):
        # counted, logged at debug level only.
        self.counters.add_rejected(source, RejectReason.DUPLICATE.value, len(fresh) - new)
        for (record, position), is_new in zip(accepted, fresh, strict=True):
            if not is_new:
                self.logger.debug("duplicate call %s/%s at %s", record.channel, record.call_id,
                                  position)  # fmt: skip
        return new
