"""Call-detail parsers against the real Asterisk and FreeSWITCH samples and bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from probes.clock import FrozenClock
from probes.hotline.formats import LAYOUTS, make_parser
from probes.hotline.records import RecordError, RejectReason
from probes.hotline.sink import IngestCounters, Sink
from probes.model import Outcome
from probes.state import calls
from probes.state.store import Store

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "calls"
ASTERISK = REALDATA / "asterisk_cdr_custom_master.csv"
FREESWITCH = REALDATA / "freeswitch_cdr_csv_master.csv"
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp()


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real sample {path} is absent (see ../shared/realdata/README.md)")
    return path


def _load(path: Path, fmt: str, columns: str | None) -> tuple[Store, IngestCounters]:
    parser = make_parser(fmt, source="import", columns=columns, channel="hotline-a")
    store = Store.open(":memory:")
    counters = IngestCounters()
    sink = Sink(store, counters, FrozenClock(NOW))
    items = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        items.append((parser.parse(line), f"line {n}"))
    sink.store_batch("import", items)
    return store, counters


def test_asterisk_custom_sample_imports_eleven_answered_three_unanswered() -> None:
    store, counters = _load(_need(ASTERISK), "asterisk-csv", "asterisk-custom-sample")
    totals = calls.totals(store, "hotline-a")
    assert totals.calls[Outcome.ANSWERED] == 11
    assert totals.calls[Outcome.NO_ANSWER] == 3
    assert counters.ingested == {"import": 14}
    assert counters.rejected == {}
    # First row: start 01:51:32, answer 01:51:50 Shanghai time -> an 18 s wait.
    first = calls.calls_since(store, "hotline-a", 0)[0]
    assert (
        first.start
        == dt.datetime(
            2023, 7, 26, 1, 51, 32, tzinfo=dt.timezone(dt.timedelta(hours=8))
        ).timestamp()
    )
    assert first.answer is not None
    assert first.answer - first.start == 18


def test_freeswitch_sample_counts_the_duplicate_rows_once() -> None:
    store, counters = _load(_need(FREESWITCH), "freeswitch-csv", None)
    totals = calls.totals(store, "hotline-a")
    # 10 rows, 8 distinct uuids: 7 with an answer stamp, 1 NO_USER_RESPONSE.
    assert totals.calls[Outcome.ANSWERED] == 7
    assert totals.calls[Outcome.NO_ANSWER] == 1
    assert counters.ingested == {"import": 8}
    assert counters.duplicates == {"import": 2}
    assert counters.rejected == {}


def test_freeswitch_minute_times_take_wait_from_duration_and_billsec() -> None:
    parser = make_parser("freeswitch-csv", source="t", channel="h")
    line = (
        "Outbound Call,1002,&,default,2020/2/10 22:40,2020/2/10 22:40,2020/2/10 22:41,"
        "64,61,NORMAL_CLEARING,b9d0a33e,,1002,PCMU,PCMU"
    )
    record = parser.parse(line)
    assert record.wait == 3
    assert record.talk == 61


STANDARD = (
    '"","1001","12345","from-internal","""Zhang"" <1001>","SIP/1001-0001","SIP/200-0002",'
    '"Dial","SIP/200,30","2026-11-20 09:00:00","{answer}","2026-11-20 09:01:00","60","{bill}",'
    '"{disp}","DOCUMENTATION","1763600400.1",""'
)


@pytest.mark.parametrize(
    ("answer", "bill", "disp", "outcome"),
    [
        ("2026-11-20 09:00:12", "48", "ANSWERED", Outcome.ANSWERED),
        ("", "0", "NO ANSWER", Outcome.NO_ANSWER),
        ("", "0", "BUSY", Outcome.BUSY),
        ("", "0", "FAILED", Outcome.FAILED),
        ("", "0", "CONGESTION", Outcome.CONGESTION),
    ],
)
def test_asterisk_standard_cdr_csv_order(
    answer: str, bill: str, disp: str, outcome: Outcome
) -> None:
    parser = make_parser("asterisk-csv", source="t", channel="h")
    record = parser.parse(STANDARD.format(answer=answer, bill=bill, disp=disp))
    assert record.outcome is outcome
    assert record.call_id == "1763600400.1"
    assert record.wait == (12 if outcome is Outcome.ANSWERED else None)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (STANDARD.format(answer="", bill="0", disp="RINGING"), RejectReason.BAD_OUTCOME),
        (STANDARD.format(answer="", bill="0", disp="ANSWERED"), RejectReason.INCONSISTENT),
        (
            STANDARD.replace("2026-11-20 09:00:00", "yesterday").format(
                answer="", bill="0", disp="BUSY"
            ),
            RejectReason.BAD_TIME,
        ),
        (
            STANDARD.replace("2026-11-20 09:01:00", "2026-11-20 08:01:00").format(
                answer="", bill="0", disp="BUSY"
            ),
            RejectReason.INCONSISTENT,
        ),
        ('"only","three","cells"', RejectReason.MALFORMED),
    ],
)
def test_bad_asterisk_lines_are_rejected_with_a_reason(line: str, reason: RejectReason) -> None:
    parser = make_parser("asterisk-csv", source="t", channel="h")
    with pytest.raises(RecordError) as info:
        parser.parse(line)
    assert info.value.reason is reason


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", RejectReason.MALFORMED),
        ('["a list"]', RejectReason.MALFORMED),
        ('{"channel":"h","start":1,"end":2,"outcome":"busy"}', RejectReason.MISSING_FIELD),
        (
            '{"channel":"h","call_id":"1","start":1,"end":2,"outcome":"hung"}',
            RejectReason.BAD_OUTCOME,
        ),
        (
            '{"channel":"h","call_id":"1","start":"soon","end":2,"outcome":"busy"}',
            RejectReason.BAD_TIME,
        ),
        (
            '{"channel":"h","call_id":"1","start":1790000000,"end":1790000020,'
            '"outcome":"answered"}',
            RejectReason.INCONSISTENT,
        ),
    ],
)
def test_bad_json_lines_are_rejected_with_a_reason(line: str, reason: RejectReason) -> None:
    parser = make_parser("jsonl", source="t")
    with pytest.raises(RecordError) as info:
        parser.parse(line)
    assert info.value.reason is reason


def _json(**fields: object) -> str:
    good: dict[str, object] = {
        "channel": "h", "call_id": "c1", "start": 1790000000, "answer": 1790000004,
        "end": 1790000030, "outcome": "answered",
    }  # fmt: skip
    return json.dumps({**good, **fields})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (_json().replace("1790000000", "NaN"), RejectReason.MALFORMED),
        (_json().replace("1790000030", "Infinity"), RejectReason.MALFORMED),
        (_json().replace("1790000004", "-Infinity"), RejectReason.MALFORMED),
        (_json().replace("1790000000", "1e400"), RejectReason.BAD_TIME),
        (_json().replace("1790000000", "9" * 400), RejectReason.BAD_TIME),
        (_json().replace("1790000000", "9" * 5000), RejectReason.MALFORMED),
        (_json(start=1790000000000, answer=None, outcome="busy"), RejectReason.BAD_TIME),
        (_json(start=0, answer=None, outcome="busy"), RejectReason.BAD_TIME),
        (
            _json(start="0001-01-01T00:00:00+14:00", answer=None, outcome="busy"),
            RejectReason.BAD_TIME,
        ),
        (
            _json(start="2150-01-01T00:00:00+08:00", answer=None, outcome="busy"),
            RejectReason.BAD_TIME,
        ),
        (_json(end=1790000000 + 3 * 86400), RejectReason.BAD_TIME),
        (_json(call_id="x" * 200), RejectReason.TOO_LARGE),
        (_json(channel="h" * 100), RejectReason.TOO_LARGE),
        (_json(transfers=["局"] * 40), RejectReason.TOO_LARGE),
        (_json(transfers=["局" * 100]), RejectReason.TOO_LARGE),
        (_json(note="x" * 70_000), RejectReason.TOO_LARGE),
        ("[" * 100_000 + "]" * 100_000, RejectReason.TOO_LARGE),
        ("[" * 60_000, RejectReason.TOO_LARGE),  # never closed, still never decoded
        ("[]" * 30_000, RejectReason.MALFORMED),  # many brackets, none deep: just not a record
        (_json(extra="X").replace('"X"', "[" * 10_000 + "]" * 10_000), RejectReason.TOO_LARGE),
        # Brackets inside strings are text, not nesting.
        (_json(note="[" * 100, start="soon"), RejectReason.BAD_TIME),
    ],
)
def test_hostile_json_records_are_refused_with_a_reason(line: str, reason: RejectReason) -> None:
    parser = make_parser("jsonl", source="t")
    with pytest.raises(RecordError) as info:
        parser.parse(line)
    assert info.value.reason is reason


FS_MINUTES = (
    "Outbound Call,1002,&,default,2020/2/10 22:40,2020/2/10 22:40,2020/2/10 22:41,"
    "{duration},{billsec},NORMAL_CLEARING,{uuid},,1002,PCMU,PCMU"
)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (FS_MINUTES.format(duration="nan", billsec="0", uuid="u1"), RejectReason.MALFORMED),
        (FS_MINUTES.format(duration="64", billsec="inf", uuid="u1"), RejectReason.MALFORMED),
        (FS_MINUTES.format(duration="1e400", billsec="1", uuid="u1"), RejectReason.MALFORMED),
        (FS_MINUTES.format(duration="1e300", billsec="1", uuid="u1"), RejectReason.BAD_TIME),
        (FS_MINUTES.format(duration="64", billsec="61", uuid="u" * 200), RejectReason.TOO_LARGE),
        (
            FS_MINUTES.format(duration="64", billsec="61", uuid="u1").replace("2020/", "1999/"),
            RejectReason.BAD_TIME,
        ),
        (FS_MINUTES.format(duration="64", billsec="61", uuid="u" * 70_000), RejectReason.TOO_LARGE),
    ],
)
def test_hostile_csv_lines_are_refused_with_a_reason(line: str, reason: RejectReason) -> None:
    parser = make_parser("freeswitch-csv", source="t", channel="h")
    with pytest.raises(RecordError) as info:
        parser.parse(line)
    assert info.value.reason is reason


def test_json_record_with_iso_times_and_a_transfer_loop() -> None:
    parser = make_parser("jsonl", source="t")
    record = parser.parse(
        '{"channel":"h","call_id":"c1","start":"2026-11-20T09:00:00+08:00",'
        '"answer":"2026-11-20T09:00:05+08:00","end":"2026-11-20T09:03:00","outcome":"answered",'
        '"hangup_by":"callee","transfers":["市场监管局","住建局","市场监管局"]}'
    )
    assert record.wait == 5
    assert record.talk == 175  # a naive end time is read in Asia/Shanghai
    assert record.transfer_loop


def test_shipped_layouts_name_the_columns_parsers_need() -> None:
    assert {"start", "answer", "end", "disposition", "uniqueid"} <= set(
        LAYOUTS["asterisk-custom-sample"]
    )
    assert {"start_stamp", "answer_stamp", "end_stamp", "hangup_cause", "uuid"} <= set(
        LAYOUTS["freeswitch-default"]
    )
