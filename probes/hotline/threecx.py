"""3CX call-detail records (the CDR service's CSV, no header) to `CallRecord`s, with the
transfer chain.

Columns, in 3CX's default order: historyid, callid, duration, time_start, time_answered,
time_end, reason_terminated, from_no, to_no, from_dn, to_dn, dial_no, reason_changed,
final_number, final_dn, bill_code, bill_rate, bill_cost, bill_name, chain, from_type,
to_type, final_type, from_dispname, to_dispname, final_dispname, missed_queue_calls.

Only calls from outside (`from_type` External) are calls to a hotline; internal and
outbound rows are skipped, not rejected. A call is answered when it has `time_answered`;
an unanswered one is busy (RouteBusy), failed (NoRouteExists, NotAvailable, Failed) or not
answered (cancelled or given up). `chain` ("Chain: caller,Ext.610,Ext.185,") lists every
hop; the hops after the caller are the call's transfers (Ext.610 passed it to Ext.185),
so a chain that comes back to an extension is a transfer loop. Times are local
(`2020/05/04 10:53:43`), read in the source's time zone.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass

from probes.hotline.formats import parse_local_time
from probes.hotline.records import RecordError, RejectReason, make_record
from probes.model import CallRecord, HangupBy, Outcome

COLUMNS = (
    "historyid", "callid", "duration", "time_start", "time_answered", "time_end",
    "reason_terminated", "from_no", "to_no", "from_dn", "to_dn", "dial_no", "reason_changed",
    "final_number", "final_dn", "bill_code", "bill_rate", "bill_cost", "bill_name", "chain",
    "from_type", "to_type", "final_type", "from_dispname", "to_dispname", "final_dispname",
    "missed_queue_calls",
)  # fmt: skip
_UNANSWERED = {
    "RouteBusy": Outcome.BUSY,
    "NoRouteExists": Outcome.FAILED,
    "NotAvailable": Outcome.FAILED,
    "Failed": Outcome.FAILED,
}
_HANGUP = {"TerminatedBySrc": HangupBy.CALLER, "TerminatedByDst": HangupBy.CALLEE}


def chain_hops(text: str) -> tuple[str, ...]:
    """The hops of a `Chain: a,b,c,` cell."""
    return tuple(h.strip() for h in text.removeprefix("Chain:").split(",") if h.strip())


@dataclass(frozen=True, slots=True)
class ThreeCxParser:
    """Parses one CDR line; None for a row that is not a call from outside."""

    channel: str
    tz: dt.tzinfo
    source: str

    def parse(self, line: str) -> CallRecord | None:
        try:
            cells = next(csv.reader([line.lstrip("\ufeff")]))
        except (csv.Error, StopIteration) as exc:
            raise RecordError(RejectReason.MALFORMED, f"not a CSV line: {exc}") from exc
        if len(cells) < COLUMNS.index("from_type") + 1:
            raise RecordError(RejectReason.MALFORMED, f"{len(cells)} columns, 3CX writes 27")
        row = dict(zip(COLUMNS, cells, strict=False))
        if row["from_type"].strip() != "External":
            return None
        start, _ = parse_local_time(row["time_start"], self.tz)
        end, _ = parse_local_time(row["time_end"], self.tz) if row["time_end"].strip() else (
            start, True)  # fmt: skip
        answered_text = row["time_answered"].strip()
        reason = row["reason_terminated"].strip()
        if answered_text:
            outcome, answer = Outcome.ANSWERED, parse_local_time(answered_text, self.tz)[0]
        else:
            outcome, answer = _UNANSWERED.get(reason, Outcome.NO_ANSWER), None
        hops = chain_hops(row["chain"])
        caller = row["from_no"].strip()
        transfers = hops[1:] if hops and hops[0] == caller else hops
        return make_record(
            channel=self.channel, call_id=row["callid"].strip() or row["historyid"].strip(),
            start=start, answer=answer, end=end, outcome=outcome,
            hangup_by=_HANGUP.get(reason), transfers=transfers, source=self.source,
        )  # fmt: skip
