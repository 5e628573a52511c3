"""Work-order events into the state file as users feed them: `orders import` of JSON Lines
and CSV exports (bad events counted by reason, duplicates once), a followed file, and the
generated streams through `orders import` then `check -c`, each giving exactly its reason."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from probes.cli import app
from probes.clock import FrozenClock
from probes.config.workorders import OrderFileSource
from probes.demo.orders import PATTERNS, generate
from probes.hotline import filetail
from probes.hotline.ordersink import OrderSink, source_name
from probes.hotline.sink import IngestCounters
from probes.hotline.workorders import make_order_parser
from probes.state import workorders
from probes.state.store import Store

TZ = dt.timezone(dt.timedelta(hours=8))
CONFIG = """\
channels:
  - name: h12345
    kind: hotline
    owner: 市政务服务中心
    checks:
      workorders: {}
"""


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_stream_of_one_pattern_gives_exactly_its_reason_through_import_and_check(
    pattern: str, tmp_path: Path
) -> None:
    # The command line runs on the system clock: the stream ends an hour ago.
    end = dt.datetime.now(TZ) - dt.timedelta(hours=1)
    stream = generate(pattern, orders=60, end=end, seed=11)
    events = tmp_path / "orders.jsonl"
    events.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in stream.events))
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    state = str(tmp_path / "state.db")
    run = CliRunner().invoke
    imported = run(app, ["orders", "import", str(events), "--format", "jsonl",
                         "--channel", "h12345", "--state", state])  # fmt: skip
    assert (imported.exit_code, imported.output.strip()) == (
        0,
        f"imported {len(stream.events)} events",
    )
    checked = run(app, ["check", "-c", str(config), "--channel", "h12345", "--state", state,
                        "--json"])  # fmt: skip
    [doc] = json.loads(checked.output)
    code = checked.exit_code
    want = set() if stream.expected is None else {stream.expected.value}
    assert {r["code"] for r in doc["reasons"]} == want
    assert code == (0 if not want else doc["exit_code"]) and code in ((0,) if not want else (1, 2))


GOOD = {"order_id": "GD1", "event": "received", "time": "2026-11-02T09:00:00+08:00",
        "caller": "u-1", "text": "路灯不亮", "address": "幸福路8号",
        "category": "市容环境"}  # fmt: skip
BAD_LINES = [
    ("not json", "malformed"),
    (json.dumps({**GOOD, "event": "escalated"}), "bad_event"),
    (json.dumps({**GOOD, "event": "assigned"}), "missing_field"),  # no department
    (json.dumps({**GOOD, "caller": "13812345678"}), "malformed"),  # a phone number
    (json.dumps({**GOOD, "event": "callback"}), "missing_field"),  # no satisfaction
    (json.dumps({**GOOD, "satisfaction": "satisfied"}), "inconsistent"),  # not a callback
    (json.dumps({**GOOD, "time": "yesterday"}), "bad_time"),
    (json.dumps({**GOOD, "order_id": ""}), "missing_field"),
    (json.dumps({**GOOD, "time": "2099-01-01T00:00:00+08:00"}), "future"),
    ("[" * 1000 + "]" * 1000, "too_large"),  # nested past the bound: refused before decoding
    (json.dumps(GOOD).replace('"received"', "NaN"), "malformed"),  # NaN is not JSON's
]  # fmt: skip


def test_import_counts_bad_events_by_reason_and_stores_a_duplicate_once(tmp_path: Path) -> None:
    lines = [json.dumps(GOOD), *(line for line, _ in BAD_LINES), json.dumps(GOOD),
             json.dumps({**GOOD, "event": "assigned", "department": "区城管局"})]  # fmt: skip
    events = tmp_path / "orders.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = tmp_path / "state.db"
    result = CliRunner().invoke(app, ["orders", "import", str(events), "--format", "jsonl",
                                      "--channel", "h12345", "--state", str(state)])  # fmt: skip
    reasons: dict[str, int] = {}
    for _, reason in BAD_LINES:
        reasons[reason] = reasons.get(reason, 0) + 1
    shown = ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items()))
    # The event seen twice is an outcome of importing (as a call seen twice), not refused.
    assert result.output.strip() == f"imported 2 events; 1 already stored; not stored: {shown}"
    again = CliRunner().invoke(app, ["orders", "import", str(events), "--format", "jsonl",
                                     "--channel", "h12345", "--state", str(state)])  # fmt: skip
    assert again.output.startswith("imported 0 events; 3 already stored; not stored: ")
    with Store.open(state) as store:
        assert workorders.count_events(store, "h12345") == 2


def test_csv_export_imports_through_a_column_mapping(tmp_path: Path) -> None:
    export = tmp_path / "工单导出.csv"
    export.write_text(
        "工单编号,环节,时间,处理单位,来电人,诉求内容,地址,类别,满意度\n"
        "GD9,受理,2026-11-02 09:00:00,12345热线,u-9,路灯不亮,幸福路8号,市容环境,\n"
        "GD9,派发,2026-11-02 10:00:00,区城管局,,,,,\n"
        "GD9,办结,2026-11-03 10:00:00,12345热线,,,,,\n"
        "GD9,回访,2026-11-04 10:00:00,12345热线,,,,,不满意\n"
        "GD9,催办,2026-11-04 11:00:00,12345热线,,,,,\n",
        encoding="utf-8-sig",
    )
    maps = ["order_id=工单编号", "event=环节", "time=时间", "department=处理单位",
            "caller=来电人", "text=诉求内容", "address=地址", "category=类别",
            "satisfaction=满意度"]  # fmt: skip
    state = tmp_path / "state.db"
    result = CliRunner().invoke(
        app, ["orders", "import", str(export), "--format", "csv", "--channel", "h12345",
              "--state", str(state), *(x for m in maps for x in ("--map", m))],
    )  # fmt: skip
    assert result.output.strip() == "imported 4 events; not stored: bad_event: 1"
    with Store.open(state) as store:
        stored = workorders.events_of_orders(store, "h12345", 0, 0)
    assert [(e.event.value, e.department) for e in stored] == [
        ("received", "12345热线"), ("assigned", "区城管局"), ("closed", "12345热线"),
        ("callback", "12345热线"),
    ]  # fmt: skip
    assert stored[-1].satisfaction is not None and stored[-1].satisfaction.value == "unsatisfied"


def test_csv_export_without_the_mapped_columns_is_one_clear_error(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("id,step,when\nGD1,受理,2026-11-02 09:00\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["orders", "import", str(export), "--format", "csv",
                                      "--channel", "h12345", "--state",
                                      str(tmp_path / "s.db")])  # fmt: skip
    assert result.exit_code == 2
    assert "the CSV header lacks columns: order_id, event, time" in result.output


def test_a_followed_file_resumes_at_its_offset_and_counts_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    source = OrderFileSource(path=str(path), channel="h12345")
    name = source_name(source.path)
    parser = make_order_parser("jsonl", source=name, channel="h12345")
    path.write_text(json.dumps(GOOD) + "\n{broken\n", encoding="utf-8")
    now = dt.datetime(2026, 11, 18, 10, tzinfo=TZ).timestamp()
    with Store.open(tmp_path / "state.db") as store:
        counters = IngestCounters()
        sink = OrderSink(store, counters, FrozenClock(now), frozenset({"h12345"}))
        current = filetail.poll_once(source, None, sink, parser, name)
        assert current is not None
        current.handle.close()
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**GOOD, "event": "assigned", "department": "区城管局"}) + "\n")
        # A restart: a new tail reads on from the stored offset, nothing twice.
        resumed = filetail.poll_once(source, None, sink, parser, name)
        assert resumed is not None
        resumed.handle.close()
        assert counters.ingested == {name: 2}
        assert counters.rejected == {(name, "malformed"): 1}
        assert workorders.count_events(store, "h12345") == 2


def test_a_file_shared_by_replicas_skips_the_other_replicas_channels(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    source = OrderFileSource(path=str(path))
    name = source_name(source.path)
    parser = make_order_parser("jsonl", source=name)
    lines = [{**GOOD, "channel": ch, "order_id": f"GD-{ch}"} for ch in ("mine", "theirs", "stray")]
    path.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
    now = dt.datetime(2026, 11, 18, 10, tzinfo=TZ).timestamp()
    with Store.open(tmp_path / "state.db") as store:
        counters = IngestCounters()
        sink = OrderSink(store, counters, FrozenClock(now), frozenset({"mine"}),
                         elsewhere=frozenset({"theirs"}))  # fmt: skip
        current = filetail.poll_once(source, None, sink, parser, name)
        assert current is not None
        current.handle.close()
        assert counters.ingested == {name: 1}
        # Another replica's channel is skipped; a channel no replica judges is refused.
        assert counters.rejected == {(name, "unknown_channel"): 1}


def test_a_work_order_file_in_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG + "orders:\n  files:\n    - path: /no/such/dir/orders.jsonl\n",
                      encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(app, ["config", "check", str(config)])
    assert result.exit_code != 0
    assert "orders.files[0].path" in result.output
    assert "/no/such/dir does not exist" in result.output
