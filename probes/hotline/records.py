"""The call record: one call to one hotline, validated once at the edge.

Every source (MQTT JSON, Asterisk and FreeSWITCH CSV, JSON Lines) turns its input into a
`CallRecord` through `make_record`, or into a `Rejected` naming the reason from a fixed set
(the `reason` label of `zombie_hotline_records_rejected_total`), so a bad line is counted
and logged with its position and never stops ingestion.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from probes.model import CallRecord, HangupBy, Outcome

# Clock skew allowed between the PBX or robot and the monitor before a record is "future".
FUTURE_TOLERANCE = 300.0
# Timestamps with minute resolution (spreadsheet-saved CDRs) are off by up to a minute.
_TIME_SLACK = 1.0


class RejectReason(enum.StrEnum):
    """Why a record was not stored (bounded: the `reason` label of the rejected counter)."""

    MALFORMED = "malformed"  # not CSV/JSON of the expected shape
    MISSING_FIELD = "missing_field"
    BAD_TIME = "bad_time"
    BAD_OUTCOME = "bad_outcome"
    BAD_EVENT = "bad_event"  # a work-order event outside the lifecycle steps
    INCONSISTENT = "inconsistent"  # times out of order, answered without an answer time
    FUTURE = "future"
    UNKNOWN_CHANNEL = "unknown_channel"
    DUPLICATE = "duplicate"  # a call id already stored: counted once


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be accepted, with where it was and why."""

    reason: RejectReason
    detail: str
    position: str = ""  # "line 12", "offset 4096", "topic zombie/calls/x mid 7"


class RecordError(ValueError):
    """Raised by parsers for one bad record; turned into `Rejected` at the source."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def make_record(
    *,
    channel: str,
    call_id: str,
    start: float,
    answer: float | None,
    end: float,
    outcome: Outcome,
    hangup_by: HangupBy | None = None,
    transfers: tuple[str, ...] = (),
    source: str = "",
    test: bool = False,
) -> CallRecord:
    """A validated record, or `RecordError` naming what is wrong with it."""
    if not channel:
        raise RecordError(RejectReason.MISSING_FIELD, "no channel")
    if not call_id:
        raise RecordError(RejectReason.MISSING_FIELD, "no call id")
    if end + _TIME_SLACK < start:
        raise RecordError(RejectReason.INCONSISTENT, "call ends before it starts")
    if outcome is Outcome.ANSWERED:
        if answer is None:
            raise RecordError(RejectReason.INCONSISTENT, "answered call without an answer time")
        if answer + _TIME_SLACK < start or answer > end + _TIME_SLACK:
            raise RecordError(RejectReason.INCONSISTENT, "answer time outside the call")
        # Minute-resolution inputs can put answer a few seconds outside [start, end].
        answer = min(max(answer, start), max(end, start))
    else:
        # A PBX may write the start time as answer for unanswered calls: not an answer.
        answer = None
    end = max(end, start)
    return CallRecord(
        channel, call_id, start, answer, end, outcome, hangup_by, tuple(transfers), source, test
    )


def check_not_future(record: CallRecord, now: float) -> None:
    if record.start > now + FUTURE_TOLERANCE:
        raise RecordError(RejectReason.FUTURE, "call starts in the future")
