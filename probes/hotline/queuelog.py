"""Asterisk `queue_log`: call-centre queue events grouped into one `CallRecord` per call
that entered a queue.

Two shapes are read: the file Asterisk writes (`/var/log/asterisk/queue_log`, lines
`epoch|callid|queue|agent|EVENT|data1|data2|...`) and the table of the realtime/ODBC
backend exported as CSV with a header (`uid,date_time,callid,queue_name,type,event,param1,
param2,param3,entpos,expos,htime,ttime,time`, where `type` holds the agent and the hold
and talk times are split out into `htime`/`ttime`). Times are the epoch seconds of each
row (`date_time`), so no time zone is needed.

A call starts at ENTERQUEUE. CONNECT answers it after the queue wait (its hold time: the
GB/T 33358 answer-within-15-s rule is about this wait); ABANDON (the caller gave up),
EXITWITHTIMEOUT, EXITEMPTY and EXITWITHKEY end it unanswered; COMPLETECALLER /
COMPLETEAGENT and BLINDTRANSFER / ATTENDEDTRANSFER end an answered call (their talk time
gives the end). Agent, member and queue housekeeping rows (ADDMEMBER, AGENTLOGIN, PAUSE,
QUEUESTART, CONFIGRELOAD, RINGNOANSWER, outbound OUTDIAL…) are not calls and are skipped.
A call whose outcome the log does not hold (it ends first) is not emitted: `incomplete`
counts them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from probes.hotline.records import RecordError, Rejected, RejectReason, make_record
from probes.model import CallRecord, HangupBy, Outcome

UNANSWERED = {
    "ABANDON": HangupBy.CALLER,
    "EXITWITHKEY": HangupBy.CALLER,
    "EXITWITHTIMEOUT": HangupBy.SYSTEM,
    "EXITEMPTY": HangupBy.SYSTEM,
}
ENDS_ANSWERED = {"COMPLETECALLER", "COMPLETEAGENT", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
TRANSFERS = {"BLINDTRANSFER", "ATTENDEDTRANSFER"}
EXPORT_HEADER = ("date_time", "callid", "queue_name", "event")


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """One row, in the terms both shapes share: wait is the hold time where the row
    states it (CONNECT, ABANDON, EXIT*, COMPLETE*), talk the call time."""

    time: float
    callid: str
    queue: str
    agent: str
    event: str
    wait: float | None = None
    talk: float | None = None
    target: str = ""  # the number or extension a transfer went to


def _num(text: str, what: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise RecordError(RejectReason.MALFORMED, f"{what} is not a number: {text[:20]!r}") from exc
    if not 0 <= value < float("inf"):
        raise RecordError(RejectReason.MALFORMED, f"{what} is negative or not a number")
    return value


def _from_pipe(line: str) -> QueueEvent:
    parts = line.split("|")
    if len(parts) < 5:
        raise RecordError(RejectReason.MALFORMED, "not a queue_log line (time|callid|queue|…)")
    when = _num(parts[0], "time")
    if when is None:
        raise RecordError(RejectReason.BAD_TIME, "no time")
    event, data = parts[4].strip().upper(), [*parts[5:], "", "", "", "", ""]
    wait = talk = None
    target = ""
    if event == "CONNECT" or event in ("COMPLETECALLER", "COMPLETEAGENT"):
        wait = _num(data[0], "hold time")
        talk = _num(data[1], "call time") if event != "CONNECT" else None
    elif event in UNANSWERED:
        wait = _num(data[2], "wait time")
    elif event in TRANSFERS:
        target = data[0].strip()
        wait, talk = _num(data[2], "hold time"), _num(data[3], "call time")
    return QueueEvent(when, parts[1].strip(), parts[2].strip(), parts[3].strip(), event,
                      wait, talk, target)  # fmt: skip


def _from_export(row: dict[str, str]) -> QueueEvent:
    when = _num(row.get("date_time", ""), "date_time")
    if when is None:
        raise RecordError(RejectReason.BAD_TIME, "no date_time")
    event = row.get("event", "").strip().upper()
    target = row.get("param1", "").strip() if event in TRANSFERS else ""
    return QueueEvent(when, row.get("callid", "").strip(), row.get("queue_name", "").strip(),
                      row.get("type", "").strip(), event, _num(row.get("htime", ""), "htime"),
                      _num(row.get("ttime", ""), "ttime"), target)  # fmt: skip


@dataclass
class _Call:
    start: float | None = None
    answer: float | None = None
    end: float | None = None
    outcome: Outcome | None = None
    hangup_by: HangupBy | None = None
    agents: list[str] = field(default_factory=list)
    last: float = 0.0


@dataclass
class QueueLogReader:
    """Reads a whole queue_log (either shape) into call records; `incomplete` counts the
    calls the log holds no outcome for, `skipped` the rows that are not about calls."""

    channel: str
    source: str
    incomplete: int = 0
    skipped: int = 0

    def events(self, lines: Iterable[str]) -> Iterator[QueueEvent | Rejected]:
        it = iter(enumerate(lines, 1))
        first = next(it, None)
        if first is None:
            return
        first_n, first_line = first
        header = next(csv.reader([first_line]))
        if all(h in header for h in EXPORT_HEADER):
            for n, line in it:
                if not line.strip():
                    continue
                try:
                    cells = next(csv.reader([line]))
                    if len(cells) != len(header):
                        raise RecordError(
                            RejectReason.MALFORMED,
                            f"{len(cells)} columns where the header has {len(header)}",
                        )
                    yield _from_export(dict(zip(header, cells, strict=True)))
                except RecordError as exc:
                    yield Rejected(exc.reason, exc.detail, f"line {n}")
            return
        for n, line in ((first_n, first_line), *it):
            if not line.strip():
                continue
            try:
                yield _from_pipe(line.rstrip("\r\n"))
            except RecordError as exc:
                yield Rejected(exc.reason, exc.detail, f"line {n}")

    def read(self, lines: Iterable[str]) -> Iterator[CallRecord | Rejected]:
        calls: dict[str, _Call] = {}
        for item in self.events(lines):
            if isinstance(item, Rejected):
                yield item
                continue
            if item.event not in {"ENTERQUEUE", "CONNECT", *UNANSWERED, *ENDS_ANSWERED}:
                self.skipped += 1
                continue
            call = calls.setdefault(item.callid, _Call())
            call.last = max(call.last, item.time)
            self._step(call, item)
        for callid, call in calls.items():
            if call.outcome is None or call.start is None:
                self.incomplete += 1
                continue
            try:
                yield make_record(
                    channel=self.channel, call_id=callid, start=call.start, answer=call.answer,
                    end=call.end if call.end is not None else call.last, outcome=call.outcome,
                    hangup_by=call.hangup_by, transfers=tuple(call.agents), source=self.source,
                )  # fmt: skip
            except RecordError as exc:
                yield Rejected(exc.reason, exc.detail, f"call {callid}")

    @staticmethod
    def _step(call: _Call, e: QueueEvent) -> None:
        if e.event == "ENTERQUEUE":
            call.start = e.time if call.start is None else min(call.start, e.time)
        elif e.event == "CONNECT":
            wait = e.wait or 0.0
            # The hold time is the queue's own measure of the wait (rows have whole seconds).
            call.start = e.time - wait if call.start is None else call.start
            call.answer, call.outcome = call.start + wait, Outcome.ANSWERED
            if e.agent:
                call.agents.append(e.agent)
        elif e.event in UNANSWERED:
            if call.start is None and e.wait is not None:
                call.start = e.time - e.wait
            call.outcome, call.hangup_by, call.end = Outcome.NO_ANSWER, UNANSWERED[e.event], e.time
        elif e.event in ENDS_ANSWERED and call.answer is not None:
            call.end = call.answer + e.talk if e.talk is not None else e.time
            if e.event == "COMPLETECALLER":
                call.hangup_by = HangupBy.CALLER
            elif e.event == "COMPLETEAGENT":
                call.hangup_by = HangupBy.CALLEE
            elif e.target:
                call.agents.append(e.target)
