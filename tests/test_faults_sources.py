"""Fault suite, call-record sources: hostile records over a real mosquitto, a source that
fails as a whole, followed files rewritten under the tail. The monitor keeps ingesting,
stores every good record once and counts every bad one with its reason."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest

from probes.clock import SystemClock
from probes.config import ChannelConfig
from probes.config.calls import CallSourcesConfig, FileSource
from probes.demo.portal import RunningPortal
from probes.hotline import filetail, formats, mqtt
from probes.hotline.ingest import IngestCounters, run_sources
from probes.hotline.sink import Sink
from probes.model import CallRecord
from probes.state import calls
from probes.state.store import Store
from tests.mosquitto import Mosquitto, available

pytestmark = [pytest.mark.integration, pytest.mark.fault]
DEADLINE = 60.0  # generous for a loaded CI machine; every wait polls


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    if not available():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    with Mosquitto() as b:
        yield b


def _channels(*names: str) -> list[ChannelConfig]:
    return [
        ChannelConfig.model_validate(
            {"name": n, "kind": "hotline", "owner": "x", "checks": {"hotline": {}}}
        )
        for n in names
    ]


def _good(i: int, channel: str | None = None) -> str:
    start = time.time() - 3600 + i
    rec: dict[str, Any] = {"call_id": f"c{i}", "start": start, "answer": start + 3,
                           "end": start + 40, "outcome": "answered"}  # fmt: skip
    if channel is not None:
        rec["channel"] = channel
    return json.dumps(rec)


HOSTILE: dict[str, bytes] = {
    "nan start": _good(900).replace('"start": ', '"start": NaN, "x": ', 1).encode(),
    "400-digit time": _good(901).replace('"end": ', '"end": ' + "9" * 400 + ', "x": ').encode(),
    "100,000-deep JSON": b"[" * 100_000 + b"]" * 100_000,
    "2,000-deep JSON": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "1e400 answer": _good(902).replace('"answer": ', '"answer": 1e400, "x": ').encode(),
    "not UTF-8": b'{"call_id": "\xff\xfe"}',
    "empty": b"",
}
EXPECTED_REASONS = {"malformed": 3, "bad_time": 2, "too_large": 2}


def _sources(port: int, client_id: str) -> CallSourcesConfig:
    return CallSourcesConfig.model_validate(
        {"mqtt": {"host": "127.0.0.1", "port": port, "client_id": client_id,
                  "reconnect_min": 0.1, "reconnect_max": 0.5}}
    )  # fmt: skip


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM call_records").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


async def _until(what: str, done: Any) -> None:
    deadline = time.monotonic() + DEADLINE
    while not done():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def _until_async(what: str, value: Any, at_least: float) -> None:
    deadline = time.monotonic() + DEADLINE
    while await value() < at_least:
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def _subscribed(caplog: pytest.LogCaptureFixture, n: int = 1) -> None:
    await _until(
        "the monitor did not subscribe",
        lambda: sum("subscribed" in r.getMessage() for r in caplog.records) >= n,
    )


async def test_hostile_mqtt_records_are_counted_acknowledged_and_never_stop_ingestion(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "state.db"
    caplog.set_level(logging.INFO, logger="probes.hotline.mqtt")
    with Store.open(db) as store:
        counters = IngestCounters()
        cfg = _sources(broker.port, "fault-monitor")
        monitor = asyncio.create_task(
            run_sources(cfg, _channels("h1"), store, counters, SystemClock())
        )
        await _subscribed(caplog)
        async with aiomqtt.Client("127.0.0.1", broker.port, identifier="pub") as pub:
            for i, payload in enumerate(HOSTILE.values()):
                await pub.publish("zombie/calls/h1", _good(2 * i), qos=1)
                await pub.publish("zombie/calls/h1", payload, qos=1)
                await pub.publish("zombie/calls/h1", _good(2 * i + 1), qos=1)
        good = 2 * len(HOSTILE)
        await _until("good records stored", lambda: _count(db) >= good)
        await _until(
            "hostile records counted",
            lambda: sum(counters.rejected.values()) >= len(HOSTILE),
        )
        assert not monitor.done(), "the sources ended"
        assert _count(db) == good
        assert counters.ingested == {"mqtt": good}
        assert {r: n for (_, r), n in counters.rejected.items()} == EXPECTED_REASONS
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)

        # A restart on the same persistent session gets nothing again: every hostile
        # message was acknowledged once counted, so none comes back to be rejected anew.
        again = IngestCounters()
        monitor = asyncio.create_task(
            run_sources(cfg, _channels("h1"), store, again, SystemClock())
        )
        await _subscribed(caplog, 2)
        async with aiomqtt.Client("127.0.0.1", broker.port, identifier="pub2") as pub:
            await pub.publish("zombie/calls/h1", _good(500), qos=1)
        await _until("the record after the restart", lambda: _count(db) == good + 1)
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)
        assert again.rejected == {}
        assert again.ingested == {"mqtt": 1}


async def test_a_record_whose_handling_raises_is_rejected_as_internal_and_the_rest_stored(
    broker: Mosquitto,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = formats.record_from_json

    def buggy(obj: object, **kwargs: Any) -> CallRecord:
        if isinstance(obj, dict) and obj.get("call_id") == "c3":
            raise KeyError("a bug that only this record reaches")
        return real(obj, **kwargs)

    monkeypatch.setattr(mqtt, "record_from_json", buggy)
    caplog.set_level(logging.INFO, logger="probes.hotline")
    with Store.open(tmp_path / "state.db") as store:
        counters = IngestCounters()
        monitor = asyncio.create_task(
            run_sources(
                _sources(broker.port, "buggy"), _channels("h1"), store, counters, SystemClock()
            )
        )
        await _subscribed(caplog)
        async with aiomqtt.Client("127.0.0.1", broker.port, identifier="pub") as pub:
            for i in range(6):
                await pub.publish("zombie/calls/h1", _good(i), qos=1)
        await _until("records handled", lambda: sum(counters.ingested.values()) == 5)
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)
        assert counters.rejected == {("mqtt", "internal"): 1}
        assert calls.count_records(store) == 5
    internal = [r for r in caplog.records if "internal error" in r.getMessage()]
    assert len(internal) == 1
    assert "topic zombie/calls/h1 mid" in internal[0].getMessage()
    assert "KeyError" in internal[0].getMessage()


async def test_a_file_source_that_fails_as_a_whole_restarts_and_the_others_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.mkdir()  # opening it fails until an operator puts the file there
    healthy = tmp_path / "healthy.jsonl"
    healthy.write_text("".join(_good(i, "h1") + "\n" for i in range(3)))
    config = CallSourcesConfig(
        files=[
            FileSource(path=str(broken), format="jsonl", poll=0.01),
            FileSource(path=str(healthy), format="jsonl", poll=0.01),
        ]
    )
    caplog.set_level(logging.INFO, logger="probes.hotline")
    with Store.open(tmp_path / "state.db") as store:
        monitor = asyncio.create_task(
            run_sources(config, _channels("h1"), store, IngestCounters(), SystemClock())
        )
        await _until(
            "failed restarts logged",
            lambda: (
                len([r for r in caplog.records if "broken.jsonl failed" in r.getMessage()]) >= 3
            ),
        )
        await _until("healthy file read", lambda: calls.count_records(store) == 3)
        failures = [r.getMessage() for r in caplog.records if "broken.jsonl failed" in
                    r.getMessage()]  # fmt: skip
        # The back-off doubles: 0.01 s, 0.02 s, 0.04 s ...
        assert [m.rsplit(" ", 1)[1] for m in failures[:3]] == ["0.01s", "0.02s", "0.04s"]
        assert "IsADirectoryError" in failures[0]
        broken.rmdir()
        broken.write_text("".join(_good(i, "h1") + "\n" for i in range(10, 14)))
        await _until("the repaired source read", lambda: calls.count_records(store) == 7)
        assert not monitor.done()
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)


def _tail(tmp_path: Path) -> tuple[Path, FileSource, Sink, IngestCounters]:
    log = tmp_path / "calls.jsonl"
    store = Store.open(tmp_path / "state.db")
    counters = IngestCounters()
    return (
        log,
        FileSource(path=str(log), format="jsonl", poll=0.01),
        Sink(store, counters, SystemClock(), {"h1": 10.0}),
        counters,
    )


def _lines(ids: range) -> str:
    return "".join(_good(i, "h1") + "\n" for i in ids)


def test_a_truncate_then_rewrite_past_the_old_offset_within_one_poll_loses_nothing(
    tmp_path: Path,
) -> None:
    log, source, sink, _ = _tail(tmp_path)
    parser = filetail.parser_for(source)
    log.write_text(_lines(range(10)))
    current = filetail.poll_once(source, None, sink, parser)
    assert current is not None
    read_to = current.offset
    # Between two polls the file is truncated and rewritten (same inode) with more
    # records than it had: its size is past the old offset, so size alone sees growth.
    with log.open("r+") as f:
        f.truncate(0)
        f.seek(0)
        f.write(_lines(range(100, 130)))
    assert log.stat().st_size > read_to
    current = filetail.poll_once(source, current, sink, parser)
    assert current is not None
    current.handle.close()
    assert calls.count_records(sink.store) == 40
    sink.store.close()


def test_a_rewrite_keeping_the_first_bytes_is_still_seen_by_the_bytes_before_the_offset(
    tmp_path: Path,
) -> None:
    log, source, sink, _ = _tail(tmp_path)
    parser = filetail.parser_for(source)
    head = _lines(range(200))  # more than the hashed head
    log.write_text(head + _lines(range(200, 205)))
    current = filetail.poll_once(source, None, sink, parser)
    assert current is not None
    log.write_text(head + _lines(range(300, 320)))
    current = filetail.poll_once(source, current, sink, parser)
    assert current is not None
    current.handle.close()
    assert calls.count_records(sink.store) == 225
    sink.store.close()


def test_a_line_longer_than_a_chunk_is_skipped_as_too_large_and_the_tail_goes_on(
    tmp_path: Path,
) -> None:
    log, source, sink, counters = _tail(tmp_path)
    parser = filetail.parser_for(source)
    log.write_text(_lines(range(3)) + "x" * (filetail.CHUNK + 10))  # no newline yet
    current = filetail.poll_once(source, None, sink, parser)
    with log.open("a") as f:
        f.write("y" * 100 + "\n" + _lines(range(3, 6)))
    current = filetail.poll_once(source, current, sink, parser)
    assert current is not None
    current.handle.close()
    assert calls.count_records(sink.store) == 6
    assert counters.rejected == {("file:calls.jsonl", "too_large"): 1}
    sink.store.close()


async def test_calls_import_of_a_hostile_csv_stores_the_good_lines_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    from tests.test_cli import zp

    row = (
        "Outbound Call,1002,&,default,2024/2/10 22:40,2024/2/10 22:40,2024/2/10 22:41,"
        "{duration},9,NORMAL_CLEARING,{uuid},,1002,PCMU,PCMU\n"
    )
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(
        row.format(duration=64, uuid="u1")
        + row.format(duration="nan", uuid="u2")
        + row.format(duration="inf", uuid="u3")
        + "x" * 200_000 + "\n"
        + row.format(duration=64, uuid="u" * 300)
        + row.format(duration=64, uuid="u4")
    )  # fmt: skip
    code, out, _ = await zp(
        "calls", "import", str(cdr), "--format", "freeswitch-csv", "--channel", "h1",
        "--state", str(tmp_path / "state.db"),
    )  # fmt: skip
    assert code == 0
    assert out.strip().endswith("; not stored: malformed: 2, too_large: 2")
    assert out.startswith("imported 2 records into ")


def test_a_file_rewritten_while_the_monitor_was_down_is_read_from_the_start(
    tmp_path: Path,
) -> None:
    log, source, sink, _ = _tail(tmp_path)
    parser = filetail.parser_for(source)
    log.write_text(_lines(range(10)))
    current = filetail.poll_once(source, None, sink, parser)
    assert current is not None
    current.handle.close()
    # Rewritten in place (same inode) with longer records: the stored offset now falls
    # inside a line.
    with log.open("r+") as f:
        f.truncate(0)
        f.seek(0)
        f.write(_lines(range(1000, 1030)))
    assert log.read_bytes()[current.offset - 1 : current.offset] != b"\n"
    resumed = filetail.poll_once(source, None, sink, parser)
    assert resumed is not None
    resumed.handle.close()
    assert calls.count_records(sink.store) == 40
    sink.store.close()


async def test_serve_keeps_watching_and_stores_every_good_record_among_hostile_ones(
    broker: Mosquitto, portal: RunningPortal, tmp_path: Path
) -> None:
    from tests.test_serve import CONFIG, Served, free_port, start, stop, wait_healthy

    config = tmp_path / "config.yaml"
    broken_file = tmp_path / "calls-dir"
    broken_file.mkdir()  # a file source that cannot be opened: restarted, never fatal
    config.write_text(
        CONFIG.format(interval="1s", state=tmp_path / "state.db", portal=portal.base_url)
        + "  - {name: h1, kind: hotline, owner: x, checks: {hotline: {}}}\n"
        + f"calls:\n  mqtt: {{host: 127.0.0.1, port: {broker.port}, client_id: served}}\n"
        + f"  files: [{{path: '{broken_file}', format: jsonl, poll: 0.05}}]\n",
        encoding="utf-8",
    )
    port = free_port()
    async with httpx.AsyncClient(timeout=10) as client:
        served = Served(await start(config, port), f"http://127.0.0.1:{port}", config, client)
        try:
            await wait_healthy(client, served.base)
            runs = dict(channel="home", kind="website", check="availability", result="success")

            async def website_runs() -> float:
                return await served.value("zombie_check_runs_total", **runs) or 0.0

            await _until_async("a first website run", website_runs, 1.0)
            before = await website_runs()
            async with aiomqtt.Client("127.0.0.1", broker.port, identifier="pub") as pub:
                for i, payload in enumerate(HOSTILE.values()):
                    await pub.publish("zombie/calls/h1", _good(2 * i), qos=1)
                    await pub.publish("zombie/calls/h1", payload, qos=1)
                    await pub.publish("zombie/calls/h1", _good(2 * i + 1), qos=1)
            good = 2 * len(HOSTILE)
            await served.wait_for(
                "zombie_hotline_records_ingested_total", float(good), timeout=DEADLINE,
                source="mqtt", outcome="stored",
            )  # fmt: skip
            for reason, n in EXPECTED_REASONS.items():
                await served.wait_for("zombie_hotline_records_rejected_total", float(n),
                                      source="mqtt", reason=reason)  # fmt: skip
            # Websites are still watched: their runs keep counting.
            await _until_async("more website runs", website_runs, before + 2)
            assert served.proc.returncode is None
            assert (await client.get(f"{served.base}/-/healthy")).status_code == 200
        finally:
            assert await stop(served.proc) == 0
    assert _count(tmp_path / "state.db") == good


def _fixed(ids: range) -> str:
    """Records whose lines all have the same length, whatever their id (two digits)."""
    start = int(time.time()) - 3600
    return "".join(
        json.dumps({"channel": "h1", "call_id": f"c{i:02d}", "start": start + i,
                    "end": start + i + 30, "outcome": "busy"}) + "\n"
        for i in ids
    )  # fmt: skip


def test_a_rewrite_while_down_that_keeps_the_offset_at_a_line_end_is_told_by_its_marks(
    tmp_path: Path,
) -> None:
    log, source, sink, _ = _tail(tmp_path)
    parser = filetail.parser_for(source)
    log.write_text(_fixed(range(10)))
    current = filetail.poll_once(source, None, sink, parser)
    assert current is not None
    current.handle.close()
    # Same inode, lines of the same length: the old offset is a line end of the new text.
    with log.open("r+") as f:
        f.truncate(0)
        f.seek(0)
        f.write(_fixed(range(10, 30)))
    assert log.read_bytes()[current.offset - 1 : current.offset] == b"\n"
    resumed = filetail.poll_once(source, None, sink, parser)
    assert resumed is not None
    resumed.handle.close()
    assert calls.count_records(sink.store) == 30
    sink.store.close()
