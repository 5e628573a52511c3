"""The common path of every call record into the state file.

`Sink` takes parsed records from any source (MQTT, a followed file, a one-off import),
skips the ones for hotlines of another replica (`--shard`: a shared file or a topic
without `{channel}` reaches every replica), rejects the ones for channels no replica has
or dated in the future, stores the rest in one transaction per batch (deduplicated by
channel and call id), and counts all three in `IngestCounters`, which the exporter
renders as `zombie_hotline_records_ingested_total{source,outcome}` (stored, duplicate),
`zombie_hotline_records_not_mine_total{source}` and
`zombie_hotline_records_rejected_total{source,reason}`. A skipped record is expected
(each replica sees the others' records) and is neither logged nor rejected.

Error containment lives here, once for every source: `parse` turns a parser's
`RecordError` into a rejection and any other exception into an `internal` rejection
(logged once, with the record's position and the traceback, because it is a bug), and
`store_batch` stores a batch the database refuses one record at a time so a single bad
row cannot hold back the rest. Faults of the state file itself (locked, full, unreadable:
`StateWriteError` from the store) are not a record's fault and propagate, so the source
does not acknowledge what was not stored.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from probes.clock import Clock
from probes.config import ChannelConfig
from probes.hotline.records import RecordError, Rejected, RejectReason, check_not_future
from probes.model import CallRecord, one_line
from probes.state import calls
from probes.state.store import Store

log = logging.getLogger("probes.hotline")
# What the database raises for one row it will not take (as opposed to a state-file fault).
_ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError,
               OverflowError, ValueError, TypeError)  # fmt: skip


@dataclass
class IngestCounters:
    """Plain running counts, created by the process owner and passed to every source.

    `ingested` counts records stored per source, `duplicates` those whose channel and call
    id were already stored (a redelivery or a re-read file is an outcome of ingesting, not
    a bad record), `rejected` bad records by reason. `connected` says whether each MQTT or
    file source is connected to its broker or has its file open now.
    """

    ingested: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    rejected: dict[tuple[str, str], int] = field(default_factory=dict)
    not_mine: dict[str, int] = field(default_factory=dict)
    connected: dict[str, bool] = field(default_factory=dict)

    def declare(self, sources: Sequence[str]) -> None:
        """Create each configured source's counters at 0 and mark it not connected yet,
        so an alert on a source that never delivered has a series to fire on."""
        for source in sources:
            self.ingested.setdefault(source, 0)
            self.duplicates.setdefault(source, 0)
            self.connected.setdefault(source, False)

    def add_ingested(self, source: str, n: int = 1) -> None:
        if n:
            self.ingested[source] = self.ingested.get(source, 0) + n

    def add_duplicates(self, source: str, n: int = 1) -> None:
        if n:
            self.duplicates[source] = self.duplicates.get(source, 0) + n

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
            source, rejected.position or "?", one_line(rejected.detail), rejected.reason.value,
        )  # fmt: skip

    def reject_internal(self, source: str, position: str, exc: BaseException) -> None:
        """Count and log a record whose handling raised unexpectedly (a bug, not bad input)."""
        self.counters.add_rejected(source, RejectReason.INTERNAL.value)
        self.logger.error(
            "rejected call record from %s at %s: internal error %s: %s (internal)",
            source, position or "?", type(exc).__name__, one_line(str(exc)),
            exc_info=exc,
        )  # fmt: skip

    def parse(
        self, source: str, position: str, parse: Callable[[], CallRecord]
    ) -> CallRecord | None:
        """The record `parse()` returns, or None once its failure is counted and logged."""
        try:
            return parse()
        except RecordError as exc:
            self.reject(source, Rejected(exc.reason, exc.detail, position))
        except Exception as exc:  # noqa: BLE001 - one record's bug must not stop its source
            self.reject_internal(source, position, exc)
        return None

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
        broken: list[tuple[str, Exception]] = []
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
            except Exception as exc:  # noqa: BLE001 - as in `parse`
                broken.append((position, exc))
                continue
            accepted.append((record, position))
        stored_offset = None if offset is None else (source, offset[0], offset[1], now)
        try:
            fresh = self._insert([r for r, _ in accepted], stored_offset)
        except _ROW_ERRORS:
            accepted, fresh = self._insert_one_by_one(source, accepted, stored_offset)
        for rejected in refused:
            self.reject(source, rejected)
        for position, error in broken:
            self.reject_internal(source, position, error)
        if not_mine:
            self.counters.not_mine[source] = self.counters.not_mine.get(source, 0) + not_mine
        new = sum(fresh)
        self.counters.add_ingested(source, new)
        # A redelivered or re-read record is expected now and then (QoS 1, crash recovery):
        # an outcome of ingesting, not a rejection; logged at debug level only.
        self.counters.add_duplicates(source, len(fresh) - new)
        for (record, position), is_new in zip(accepted, fresh, strict=True):
            if not is_new:
                self.logger.debug("duplicate call %s/%s at %s", record.channel, record.call_id,
                                  position)  # fmt: skip
        return new

    def _insert(
        self, records: list[CallRecord], offset: tuple[str, int, int, float] | None
    ) -> list[bool]:
        known = self.known
        return calls.insert_records(
            self.store,
            records,
            quick_hangup=(lambda ch: known.get(ch, calls.DEFAULT_QUICK_HANGUP))
            if known is not None
            else (lambda _ch: calls.DEFAULT_QUICK_HANGUP),
            offset=offset,
        )

    def _insert_one_by_one(
        self,
        source: str,
        items: list[tuple[CallRecord, str]],
        offset: tuple[str, int, int, float] | None,
    ) -> tuple[list[tuple[CallRecord, str]], list[bool]]:
        """Store what the database takes of a batch it refused as a whole; the offset is
        committed after the records, so a crash in between re-reads (and deduplicates)."""
        kept: list[tuple[CallRecord, str]] = []
        fresh: list[bool] = []
        for record, position in items:
            try:
                fresh += self._insert([record], None)
            except _ROW_ERRORS as exc:
                self.reject_internal(source, position, exc)
                continue
            kept.append((record, position))
        if offset is not None:
            self._insert([], offset)
        return kept, fresh
