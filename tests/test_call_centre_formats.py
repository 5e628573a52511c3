"""Call-centre formats on the real samples in realdata/calls (figures from its README):
an Asterisk queue_log exported from MySQL, and 3CX CDRs with transfer chains; the file
queue_log shape Asterisk writes; and `calls import` of both."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from probes.cli import app
from probes.hotline.callcentre import CallCentreFile
from probes.hotline.records import Rejected
from probes.model import CallRecord, HangupBy, Outcome

ROOT = Path(__file__).resolve().parents[1]
CALLS = ROOT.parent / "shared" / "realdata" / "calls"
QUEUE_LOG = CALLS / "asterisk_queue_log_voipreports.csv"
THREE_CX = CALLS / "3cx_cdr_transfer_chains.csv"


def read(fmt: str, path: Path, timezone: str = "Asia/Shanghai") -> tuple[
    CallCentreFile, list[CallRecord], list[Rejected]
]:  # fmt: skip
    reader = CallCentreFile(fmt, "hotline", timezone)
    with path.open(encoding="utf-8-sig") as handle:
        items = [item for item, _ in reader.records(handle)]
    records = [i for i in items if isinstance(i, CallRecord)]
    return reader, records, [i for i in items if isinstance(i, Rejected)]


def test_real_queue_log_gives_the_queue_waits_and_abandonment() -> None:
    reader, records, rejected = read("asterisk-queue-log", QUEUE_LOG)
    assert rejected == []
    # 108 calls entered the queue: 93 CONNECT, 12 ABANDON, 1 EXITWITHTIMEOUT, 2 unresolved.
    assert (len(records), reader.incomplete) == (106, 2)
    answered = [r for r in records if r.outcome is Outcome.ANSWERED]
    assert len(answered) == 93
    gave_up = Counter(r.hangup_by for r in records if r.outcome is Outcome.NO_ANSWER)
    assert gave_up == {HangupBy.CALLER: 12, HangupBy.SYSTEM: 1}
    waits = [r.wait for r in answered if r.wait is not None]
    assert statistics.median(waits) == 22
    assert max(waits) == 279
    assert sum(w <= 15 for w in waits) == 39
    abandoned = [r.end - r.start for r in records if r.hangup_by is HangupBy.CALLER
                 and r.outcome is Outcome.NO_ANSWER]  # fmt: skip
    assert (min(abandoned), statistics.median(abandoned), max(abandoned)) == (5, 72, 201)
    assert len({r.call_id for r in records}) == 106


def test_real_3cx_cdrs_give_inbound_calls_with_their_transfer_chains() -> None:
    reader, records, rejected = read("3cx-cdr", THREE_CX, "Europe/Paris")
    assert rejected == []
    # 444 rows come from outside; the other 960 are internal or outbound.
    assert (len(records), reader.skipped) == (444, 960)
    assert Counter(r.outcome for r in records) == {Outcome.ANSWERED: 431, Outcome.FAILED: 13}
    transfers = Counter(len(r.transfers) for r in records)
    # Chains of 3 hops (caller, first extension, the one it was passed to): one transfer.
    assert transfers == {2: 293, 1: 120, 3: 17, 0: 13, 4: 1}
    assert not any(r.transfer_loop for r in records)
    first = next(r for r in records if r.call_id == "00000171DEE41BB3_2501")
    assert first.transfers == ("Ext.610", "Ext.185")
    assert first.hangup_by is HangupBy.CALLEE


PIPE_LOG = """\
1700000000|NONE|NONE|NONE|QUEUESTART|
1700000100|c1|12345|NONE|ENTERQUEUE||10000000001|1
1700000108|c1|12345|SIP/agent1|CONNECT|8|c1b|3
1700000230|c1|12345|SIP/agent1|COMPLETECALLER|8|122|1
1700000300|c2|12345|NONE|ENTERQUEUE||10000000002|1
1700000345|c2|12345|NONE|ABANDON|1|1|45
1700000400|c3|12345|NONE|ENTERQUEUE||10000000003|1
1700000430|c3|12345|SIP/agent2|CONNECT|30|c3b|5
1700000500|c3|12345|SIP/agent2|BLINDTRANSFER|8001@from-internal|1|30|70
1700000600|c4|12345|NONE|ENTERQUEUE||10000000004|1
1700000900|c4|12345|NONE|EXITWITHTIMEOUT|1|1|300
1700001000|c5|12345|NONE|ENTERQUEUE||10000000005|1
1700001010|c5|12345|SIP/agent1|CONNECT|ten|c5b|3
"""


def test_the_queue_log_file_asterisk_writes_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(PIPE_LOG, encoding="utf-8")
    reader, records, rejected = read("asterisk-queue-log", path)
    got = {r.call_id: (r.outcome, r.wait, r.end - r.start, r.transfers) for r in records}
    assert got == {
        "c1": (Outcome.ANSWERED, 8, 130, ("SIP/agent1",)),
        "c2": (Outcome.NO_ANSWER, None, 45, ()),
        "c3": (Outcome.ANSWERED, 30, 100, ("SIP/agent2", "8001@from-internal")),
        "c4": (Outcome.NO_ANSWER, None, 300, ()),
    }
    assert [r.reason.value for r in rejected] == ["malformed"]  # a hold time of "ten"
    assert reader.incomplete == 1  # c5: its CONNECT was unreadable


@pytest.mark.parametrize(
    ("fmt", "path", "summary"),
    [("asterisk-queue-log", QUEUE_LOG,
      "imported 106 calls; skipped 695 rows that are not hotline calls, "
      "2 calls without an outcome"),
     ("3cx-cdr", THREE_CX, "imported 444 calls; skipped 960 rows that are not hotline calls")],
)  # fmt: skip
def test_calls_import_of_call_centre_files_stores_each_call_once(
    fmt: str, path: Path, summary: str, tmp_path: Path
) -> None:
    state = str(tmp_path / "state.db")
    args = ["calls", "import", str(path), "--format", fmt, "--channel", "hotline",
            "--state", state]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.output.strip() == summary
    again = CliRunner().invoke(app, args)
    assert again.output.startswith(f"imported 0 calls; {summary.split()[1]} already stored;")


ROW = ('Call 1,C{n},{dur},2020/05/04 10:00:00,{answered},2020/05/04 10:00:30,{reason},'
       '{src},10000,{src},610,610,,,,,,,,"Chain: {src},Ext.610,",{from_type},Internal,'
       'Internal,a,b,c,')  # fmt: skip


@pytest.mark.parametrize(
    ("answered", "reason", "from_type", "outcome", "hangup"),
    [("2020/05/04 10:00:05", "TerminatedBySrc", "External", Outcome.ANSWERED, HangupBy.CALLER),
     ("", "RouteBusy", "External", Outcome.BUSY, None),
     ("", "NoRouteExists", "External", Outcome.FAILED, None),
     ("", "Failed_Cancelled", "External", Outcome.NO_ANSWER, None),
     ("", "TerminatedBySrc", "Internal", None, None)],  # an internal call: not a hotline call
)  # fmt: skip
def test_3cx_rows_map_to_outcomes(
    tmp_path: Path, answered: str, reason: str, from_type: str, outcome: Outcome | None,
    hangup: HangupBy | None,
) -> None:  # fmt: skip
    path = tmp_path / "cdr.csv"
    path.write_text(ROW.format(n=1, dur="00:00:25" if answered else "", answered=answered,
                               reason=reason, src="1000000001", from_type=from_type) + "\n",
                    encoding="utf-8")  # fmt: skip
    reader, records, rejected = read("3cx-cdr", path)
    assert rejected == []
    got = [(r.outcome, r.hangup_by, r.transfers) for r in records]
    assert got == ([] if outcome is None else [(outcome, hangup, ("Ext.610",))])
    assert reader.skipped == (1 if outcome is None else 0)
