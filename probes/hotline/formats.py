"""Parsers from call-detail lines to `CallRecord`: Asterisk `cdr_csv` and `cdr_custom`,
FreeSWITCH `cdr_csv`, and JSON (JSON Lines files and MQTT payloads).

A CSV layout is a list of column names in file order. Asterisk's `cdr_csv` standard order
and FreeSWITCH's default template are shipped, as is the `cdr_custom` layout of Asterisk's
`cdr_custom.conf.sample` (`asterisk-custom-sample`); any other layout is given as a list.
A parser reads the columns it needs by name and ignores the rest.

Times: CDRs hold local times (`2023-07-26 01:51:32`), read in the source's time zone;
spreadsheet-saved files drop the seconds (`2020/2/10 22:41`): then the wait and talk times
come from the `duration` and `billsec` columns, which are exact.

Hostile or broken input is a rejected record, never an exception other than `RecordError`:
JSON is refused before parsing when larger than `MAX_RECORD_BYTES` or nested deeper than
`MAX_DEPTH` (the page bodies' bracket scan, `probes.pages.extract.nested_deeper_than`, so
100,000 nested lists never reach the recursive decoder), `NaN`/`Infinity` literals are
refused, and numbers too large for a float (a 400-digit time), non-finite numbers (`nan`
in a CSV column, `1e400`) and times outside 2000-2100 are `bad_time` or `malformed` (see
`probes.hotline.records`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from probes.hotline.records import (
    MAX_DEPTH,
    MAX_RECORD_BYTES,
    RecordError,
    RejectReason,
    make_record,
)
from probes.model import CallRecord, HangupBy, Outcome
from probes.pages.extract import nested_deeper_than

LAYOUTS: dict[str, tuple[str, ...]] = {
    # Asterisk cdr_csv standard order, with uniqueid/userfield and the newcdrcolumns extras.
    "asterisk-cdr-csv": (
        "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
        "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
        "uniqueid", "userfield", "peeraccount", "linkedid", "sequence",
    ),
    # The `Master.csv =>` line of Asterisk's configs/samples/cdr_custom.conf.sample.
    "asterisk-custom-sample": (
        "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
        "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
        "accountcode", "uniqueid", "userfield", "sequence",
    ),
    # FreeSWITCH mod_cdr_csv default template.
    "freeswitch-default": (
        "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
        "answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid",
        "bleg_uuid", "accountcode", "read_codec", "write_codec",
    ),
}  # fmt: skip
DEFAULT_LAYOUT = {"asterisk-csv": "asterisk-cdr-csv", "freeswitch-csv": "freeswitch-default"}

_DISPOSITIONS = {
    "ANSWERED": Outcome.ANSWERED,
    "NO ANSWER": Outcome.NO_ANSWER,
    "NOANSWER": Outcome.NO_ANSWER,
    "BUSY": Outcome.BUSY,
    "FAILED": Outcome.FAILED,
    "CONGESTION": Outcome.CONGESTION,
}
# FreeSWITCH hangup causes of calls that were never answered (Q.850 names).
_FS_CAUSES = {
    "USER_BUSY": Outcome.BUSY,
    "NO_ANSWER": Outcome.NO_ANSWER,
    "NO_USER_RESPONSE": Outcome.NO_ANSWER,
    "ORIGINATOR_CANCEL": Outcome.NO_ANSWER,
    "ALLOTTED_TIMEOUT": Outcome.NO_ANSWER,
    "CALL_AWARDED_DELIVERED": Outcome.NO_ANSWER,
    "NORMAL_CIRCUIT_CONGESTION": Outcome.CONGESTION,
    "SWITCH_CONGESTION": Outcome.CONGESTION,
    "NORMAL_TEMPORARY_FAILURE": Outcome.CONGESTION,
}
_TIME = re.compile(
    r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*$"
)
TRANSFER_SEPARATOR = ">"


def resolve_layout(fmt: str, columns: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The column names of a CSV source: a named layout, an explicit list, or the default."""
    if columns is None:
        return LAYOUTS[DEFAULT_LAYOUT[fmt]]
    if isinstance(columns, str):
        if columns in LAYOUTS:
            return LAYOUTS[columns]
        names = tuple(c.strip() for c in columns.split(","))
        if len(names) < 2:
            raise ValueError(f"unknown column layout {columns!r} (known: {', '.join(LAYOUTS)})")
        return names
    return tuple(columns)


def parse_local_time(text: str, tz: dt.tzinfo) -> tuple[float, bool]:
    """Epoch seconds of a local CDR time and whether it had seconds."""
    match = _TIME.match(text)
    if not match:
        raise RecordError(RejectReason.BAD_TIME, f"unreadable time {text[:40]!r}")
    y, mo, d, h, mi = (int(g) for g in match.groups()[:5])
    sec = int(match.group(6) or 0)
    frac = float(match.group(7) or 0.0)
    try:
        when = dt.datetime(y, mo, d, h, mi, sec, tzinfo=tz)
        stamp = when.timestamp()
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError(RejectReason.BAD_TIME, f"impossible time {text[:40]!r}") from exc
    return stamp + frac, match.group(6) is not None


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise RecordError(RejectReason.MALFORMED, f"{name} is not a number: {text[:20]!r}") from exc
    if not math.isfinite(value):
        raise RecordError(RejectReason.MALFORMED, f"{name} is not a finite number")
    if value < 0:
        raise RecordError(RejectReason.MALFORMED, f"{name} is negative")
    return value


@dataclass(frozen=True, slots=True)
class CsvParser:
    """Parses one CSV line of a CDR file into a record.

    fmt: `asterisk-csv` or `freeswitch-csv`; columns: the layout; channel: a fixed channel,
    or channel_column + channels mapping a column value (the dialled number) to a channel.
    """

    fmt: str
    columns: tuple[str, ...]
    tz: dt.tzinfo
    source: str
    channel: str | None = None
    channel_column: str | None = None
    channels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        need = (
            ("start", "end", "disposition")
            if self.fmt == "asterisk-csv"
            else ("start_stamp", "end_stamp", "hangup_cause")
        )
        missing = [n for n in need if n not in self.columns]
        if self.channel_column is not None and self.channel_column not in self.columns:
            missing.append(self.channel_column)
        if missing:
            raise ValueError(f"the {self.fmt} layout lacks columns: {', '.join(missing)}")

    def parse(self, line: str) -> CallRecord:
        if len(line) > MAX_RECORD_BYTES:
            raise RecordError(RejectReason.TOO_LARGE, f"line longer than {MAX_RECORD_BYTES}")
        try:
            cells = next(csv.reader([line]))
        except (csv.Error, StopIteration) as exc:
            raise RecordError(RejectReason.MALFORMED, f"not a CSV line: {exc}") from exc
        if len(cells) < len(self.columns) - 5 or len(cells) > len(self.columns):
            # Optional trailing columns (uniqueid, newcdrcolumns) may be absent.
            raise RecordError(
                RejectReason.MALFORMED,
                f"{len(cells)} columns where the layout has {len(self.columns)}",
            )
        row = dict(zip(self.columns, cells, strict=False))
        channel = self._channel(row)
        if self.fmt == "asterisk-csv":
            return self._asterisk(row, channel, line)
        return self._freeswitch(row, channel, line)

    def _channel(self, row: dict[str, str]) -> str:
        if self.channel_column is not None:
            key = row.get(self.channel_column, "").strip()
            found = self.channels.get(key)
            if found is not None:
                return found
            if self.channel is None:
                raise RecordError(RejectReason.UNKNOWN_CHANNEL, "no channel for this number")
        assert self.channel is not None, "checked by the config model"
        return self.channel

    def _times(
        self, row: dict[str, str], start_col: str, answer_col: str, end_col: str, answered: bool
    ) -> tuple[float, float | None, float]:
        start, precise = parse_local_time(row.get(start_col, ""), self.tz)
        answer_text = row.get(answer_col, "").strip()
        duration_text = row.get("duration", "").strip()
        billsec_text = row.get("billsec", "").strip()
        if not precise and duration_text and billsec_text:
            # Minute resolution: the durations are the exact part.
            duration = _number(duration_text, "duration")
            billsec = _number(billsec_text, "billsec")
            end = start + duration
            return start, (end - billsec if answered else None), end
        end, _ = parse_local_time(row.get(end_col, ""), self.tz)
        answer = parse_local_time(answer_text, self.tz)[0] if answer_text else None
        return start, answer, end

    def _call_id(self, row: dict[str, str], column: str, line: str) -> str:
        value = row.get(column, "").strip()
        # Without a unique id column, an identical line is the same call.
        return value or "sha1:" + hashlib.sha1(line.encode()).hexdigest()[:20]

    def _extras(self, row: dict[str, str]) -> tuple[HangupBy | None, tuple[str, ...]]:
        chain = row.get("transfers", "").strip()
        transfers = tuple(p.strip() for p in chain.split(TRANSFER_SEPARATOR)) if chain else ()
        side = row.get("hangup_by", "").strip().lower()
        try:
            return (HangupBy(side) if side else None), transfers
        except ValueError as exc:
            raise RecordError(RejectReason.MALFORMED, f"unknown hang-up side {side!r}") from exc

    def _asterisk(self, row: dict[str, str], channel: str, line: str) -> CallRecord:
        disposition = row.get("disposition", "").strip().upper()
        outcome = _DISPOSITIONS.get(disposition)
        if outcome is None:
            raise RecordError(RejectReason.BAD_OUTCOME, f"unknown disposition {disposition!r}")
        start, answer, end = self._times(row, "start", "answer", "end", outcome is Outcome.ANSWERED)
        hangup_by, transfers = self._extras(row)
        return make_record(
            channel=channel, call_id=self._call_id(row, "uniqueid", line), start=start,
            answer=answer, end=end, outcome=outcome, hangup_by=hangup_by, transfers=transfers,
            source=self.source,
        )  # fmt: skip

    def _freeswitch(self, row: dict[str, str], channel: str, line: str) -> CallRecord:
        cause = row.get("hangup_cause", "").strip().upper()
        answered = bool(row.get("answer_stamp", "").strip())
        if answered:
            # The cause says how the call was torn down, not whether it was answered.
            outcome = Outcome.ANSWERED
        elif not cause:
            raise RecordError(RejectReason.MISSING_FIELD, "no hangup_cause")
        else:
            outcome = _FS_CAUSES.get(cause, Outcome.FAILED)
        start, answer, end = self._times(row, "start_stamp", "answer_stamp", "end_stamp", answered)
        hangup_by, transfers = self._extras(row)
        return make_record(
            channel=channel, call_id=self._call_id(row, "uuid", line), start=start,
            answer=answer, end=end, outcome=outcome, hangup_by=hangup_by, transfers=transfers,
            source=self.source,
        )  # fmt: skip


def _refuse_nan(literal: str) -> object:
    raise RecordError(RejectReason.MALFORMED, f"{literal} is not a number a record can hold")


# One decoder for every record: `json.loads` with an argument builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_nan)


def decode_json(data: bytes | bytearray | str) -> object:
    """One JSON value of a record, refused (`RecordError`) when too large, nested too deep,
    holding NaN or Infinity, or not JSON at all. Bytes are UTF-8 (RFC 8259), a byte-order
    mark allowed."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(RejectReason.TOO_LARGE, f"more than {MAX_RECORD_BYTES} bytes")
    # The page bodies' depth scan (a count, scanning only the rare rest).
    if nested_deeper_than(bytes(raw), MAX_DEPTH):
        raise RecordError(RejectReason.TOO_LARGE, f"nested deeper than {MAX_DEPTH}")
    try:
        return _DECODER.decode(data if isinstance(data, str) else raw.decode("utf-8-sig"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
        raise RecordError(RejectReason.MALFORMED, "not JSON") from exc


_OUTCOMES = {o.value: o for o in Outcome}


def json_time(value: object, name: str, tz: dt.tzinfo) -> float:
    """Epoch seconds of a JSON time: a number, ISO 8601 (no offset: in `tz`) or a CDR time."""
    if type(value) is float:  # the common case first
        return value
    if isinstance(value, bool):
        raise RecordError(RejectReason.BAD_TIME, f"{name} is a boolean")
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError as exc:  # an integer of hundreds of digits
            raise RecordError(RejectReason.BAD_TIME, f"{name} is too large a number") from exc
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            return parse_local_time(value, tz)[0]
        if when.tzinfo is None:
            when = when.replace(tzinfo=tz)
        try:
            return when.timestamp()
        except (OverflowError, OSError, ValueError) as exc:  # year 1 or 9999 near the edges
            raise RecordError(RejectReason.BAD_TIME, f"{name} is out of range") from exc
    raise RecordError(RejectReason.BAD_TIME if value is not None else RejectReason.MISSING_FIELD,
                      f"{name} missing or unreadable")  # fmt: skip


def record_from_json(
    obj: object, *, source: str, tz: dt.tzinfo, channel: str | None = None
) -> CallRecord:
    """A record from one decoded JSON object.

    Fields: channel (or from the topic), call_id, start, answer (null when unanswered), end,
    outcome, and optional hangup_by, transfers (a list of departments) and test (true for
    a test call, such as a robot's). Times are epoch seconds or ISO 8601 (a time without
    offset is in `tz`).
    """
    if not isinstance(obj, dict):
        raise RecordError(RejectReason.MALFORMED, "a record must be a JSON object")
    own = obj.get("channel")
    if own is not None and not isinstance(own, str):
        raise RecordError(RejectReason.MALFORMED, "channel must be a string")
    if channel is not None and own is not None and own != channel:
        raise RecordError(RejectReason.UNKNOWN_CHANNEL, "record's channel differs from topic's")
    call_id = obj.get("call_id")
    if isinstance(call_id, int) and not isinstance(call_id, bool):
        call_id = str(call_id)
    if not isinstance(call_id, str):
        raise RecordError(RejectReason.MISSING_FIELD, "call_id missing or not a string")
    outcome = _OUTCOMES.get(str(obj.get("outcome")))
    if outcome is None:
        raise RecordError(RejectReason.BAD_OUTCOME, "unknown outcome")
    answer_raw = obj.get("answer")
    transfers = obj.get("transfers") or ()
    if not isinstance(transfers, list | tuple) or (
        transfers and not all(isinstance(t, str) for t in transfers)
    ):
        raise RecordError(RejectReason.MALFORMED, "transfers must be a list of strings")
    test = obj.get("test", False)
    if not isinstance(test, bool):
        raise RecordError(RejectReason.MALFORMED, "test must be true or false")
    side = obj.get("hangup_by")
    try:
        hangup_by = HangupBy(side) if side is not None else None
    except ValueError as exc:
        raise RecordError(RejectReason.MALFORMED, "unknown hang-up side") from exc
    return make_record(
        channel=channel or own or "",
        call_id=call_id,
        start=json_time(obj.get("start"), "start", tz),
        answer=None if answer_raw is None else json_time(answer_raw, "answer", tz),
        end=json_time(obj.get("end"), "end", tz),
        outcome=outcome,
        hangup_by=hangup_by,
        transfers=tuple(transfers),
        source=source,
        test=test,
    )


@dataclass(frozen=True, slots=True)
class JsonParser:
    """Parses one JSON Lines line."""

    tz: dt.tzinfo
    source: str
    channel: str | None = None

    def parse(self, line: str) -> CallRecord:
        obj = decode_json(line)
        return record_from_json(obj, source=self.source, tz=self.tz, channel=self.channel)


LineParser = CsvParser | JsonParser


def bounded_lines(handle: TextIO, limit: int) -> Iterator[str | None]:
    """The lines of a text file, None for each longer than `limit` characters (skipped to
    its end without holding it in memory)."""
    while line := handle.readline(limit + 1):
        if line.endswith("\n") or len(line) <= limit:
            yield line
            continue
        while (rest := handle.readline(limit)) and not rest.endswith("\n"):
            pass
        yield None


def make_parser(
    fmt: str,
    *,
    source: str,
    timezone: str = "Asia/Shanghai",
    columns: str | list[str] | None = None,
    channel: str | None = None,
    channel_column: str | None = None,
    channels: Mapping[str, str] | None = None,
) -> LineParser:
    """The parser of a file format (`asterisk-csv`, `freeswitch-csv`, `jsonl`)."""
    tz = zoneinfo.ZoneInfo(timezone)
    if fmt == "jsonl":
        return JsonParser(tz, source, channel)
    if fmt not in DEFAULT_LAYOUT:
        raise ValueError(f"unknown format {fmt!r} (asterisk-csv, freeswitch-csv, jsonl)")
    if channel is None and channel_column is None:
        raise ValueError("a CSV source needs a channel or a channel column with a mapping")
    return CsvParser(
        fmt, resolve_layout(fmt, columns), tz, source, channel, channel_column, dict(channels or {})
    )
