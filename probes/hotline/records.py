"""The call record: one call to one hotline, validated once at the edge.

Every source (MQTT JSON, Asterisk and FreeSWITCH CSV, JSON Lines) turns its input into a
`CallRecord` through `make_record`, or into a `Rejected` naming the reason from a fixed set
(the `reason` label of `zombie_hotline_records_rejected_total`), so a bad line is counted
and logged with its position and never stops ingestion.

Every value is bounded here, whatever the source: times must be finite, after 2000 and
before 2100 (the far future relative to now is the sink's `future` check), a call lasts at
most a day, ids and department names are short, transfer chains are bounded. A record
past a bound is rejected with a reason rather than stored or allowed to fail the insert
that would store its whole batch.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from probes.model import CallRecord, HangupBy, Outcome

# Clock skew allowed between the PBX or robot and the monitor before a record is "future".
FUTURE_TOLERANCE = 300.0
# Timestamps with minute resolution (spreadsheet-saved CDRs) are off by up to a minute.
_TIME_SLACK = 1.0
# No call record predates 2000 or postdates 2100: outside that, a time is garbage (epoch
# milliseconds, a zero, a typo), not an old or scheduled call.
EARLIEST = 946_684_800.0  # 2000-01-01T00:00:00Z
LATEST = 4_102_444_800.0  # 2100-01-01T00:00:00Z
LONGEST_CALL = 86_400.0  # seconds from start to end
MAX_ID = 128  # characters of a call id (Asterisk uniqueid: ~30, UUIDs: 36)
MAX_NAME = 64  # characters of a channel or department name (channel names: 64)
MAX_TRANSFERS = 32  # departments in one transfer chain
MAX_RECORD_BYTES = 64 * 1024  # one MQTT payload or file line (a record is ~300 bytes)
MAX_DEPTH = 16  # JSON nesting (a record is an object holding one list: depth 2)


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
    TOO_LARGE = "too_large"  # a payload, line, id, chain or nesting past its bound
    INTERNAL = "internal"  # handling the record raised unexpectedly (a bug): skipped


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
    if len(channel) > MAX_NAME:
        raise RecordError(RejectReason.TOO_LARGE, f"channel longer than {MAX_NAME} characters")
    if len(call_id) > MAX_ID:
        raise RecordError(RejectReason.TOO_LARGE, f"call id longer than {MAX_ID} characters")
    if len(transfers) > MAX_TRANSFERS:
        raise RecordError(RejectReason.TOO_LARGE, f"more than {MAX_TRANSFERS} transfers")
    if transfers and any(len(t) > MAX_NAME for t in transfers):
        raise RecordError(RejectReason.TOO_LARGE, f"a department over {MAX_NAME} characters")
    check_time(start, "start")
    check_time(end, "end")
    if answer is not None:
        check_time(answer, "answer")
    if end - start > LONGEST_CALL:
        raise RecordError(RejectReason.BAD_TIME, "call lasts longer than a day")
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


def check_time(value: float, name: str) -> None:
    """`bad_time` unless `value` is a finite epoch time between 2000 and 2100."""
    if not math.isfinite(value):
        raise RecordError(RejectReason.BAD_TIME, f"{name} is not a finite number")
    if not EARLIEST <= value < LATEST:
        raise RecordError(RejectReason.BAD_TIME, f"{name} is not between 2000 and 2100")


def check_not_future(record: CallRecord, now: float) -> None:
    if record.start > now + FUTURE_TOLERANCE:
        raise RecordError(RejectReason.FUTURE, "call starts in the future")
