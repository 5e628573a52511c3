"""Whole-file call-centre formats for `calls import`: Asterisk `queue_log` (a call is
several rows, grouped by call id) and 3CX CDRs (one row a call, internal rows skipped).
The line formats (Asterisk and FreeSWITCH CDR CSV, JSON Lines) are in `formats`."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from probes.hotline.queuelog import QueueLogReader
from probes.hotline.records import RecordError, Rejected
from probes.hotline.threecx import ThreeCxParser
from probes.model import CallRecord

FORMATS = ("asterisk-queue-log", "3cx-cdr")


@dataclass
class CallCentreFile:
    """Reads one file of a call-centre format; after `records`, `skipped` counts the rows
    that are not hotline calls and `incomplete` the calls without an outcome in the file."""

    fmt: str
    channel: str
    timezone: str = "Asia/Shanghai"
    source: str = "import"
    skipped: int = 0
    incomplete: int = 0

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown call-centre format {self.fmt!r} ({', '.join(FORMATS)})")
        self.tz = zoneinfo.ZoneInfo(self.timezone)

    def records(self, lines: Iterable[str]) -> Iterator[tuple[CallRecord | Rejected, str]]:
        """(record or rejection, position) for the file's lines."""
        if self.fmt == "asterisk-queue-log":
            reader = QueueLogReader(self.channel, self.source)
            for item in reader.read(lines):
                yield item, item.position if isinstance(item, Rejected) else item.call_id
            self.skipped, self.incomplete = reader.skipped, reader.incomplete
            return
        parser = ThreeCxParser(self.channel, self.tz, self.source)
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = parser.parse(line.rstrip("\r\n"))
            except RecordError as exc:
                yield Rejected(exc.reason, exc.detail, f"line {n}"), f"line {n}"
                continue
            if record is None:
                self.skipped += 1
            else:
                yield record, f"line {n}"
