"""Call-record sources against real servers: a mosquitto broker started here (restarts,
a restarted consumer, a consumer killed with SIGKILL) and followed files (rotation,
truncation). Nothing may be lost and nothing counted twice."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from probes.clock import FrozenClock, SystemClock
from probes.config import ChannelConfig
from probes.config.calls import CallSourcesConfig, FileSource
from probes.hotline import filetail, mqtt
from probes.hotline.ingest import IngestCounters, run_sources
from probes.hotline.sink import Sink
from probes.state import calls
from probes.state.store import Store
from tests.mosquitto import Mosquitto, available

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ["h1", "h2"]
pytestmark = pytest.mark.integration


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    if not available():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    with Mosquitto() as b:
        yield b


def _channels() -> list[ChannelConfig]:
    return [
        ChannelConfig.model_validate(
            {"name": n, "kind": "hotline", "owner": "x", "checks": {"hotline": {}}}
        )
        for n in CHANNELS
    ]


def _record(i: int) -> tuple[str, str]:
    ch = CHANNELS[i % 2]
    start = time.time() - 3600 + i * 0.01
    outcome = "answered" if i % 3 else "busy"
    rec = {"call_id": f"c{i}", "start": start, "end": start + 30, "outcome": outcome,
           "answer": start + 4 if outcome == "answered" else None}  # fmt: skip
    return f"zombie/calls/{ch}", json.dumps(rec)


async def _publish(port: int, ids: range) -> None:
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"pub-{ids.start}") as client:
        for i in ids:
            topic, payload = _record(i)
            await client.publish(topic, payload, qos=1)


def _sources(port: int) -> CallSourcesConfig:
    return CallSourcesConfig.model_validate(
        {"mqtt": {"host": "127.0.0.1", "port": port, "client_id": "test-monitor",
                  "reconnect_min": 0.1, "reconnect_max": 0.5}}
    )  # fmt: skip


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM call_records").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _total_calls(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT sum(value) FROM call_totals WHERE key LIKE 'calls:%'")
        return int(row.fetchone()[0] or 0)


# Deadlines are generous (a loaded 2-core CI machine is slow) and cost nothing when the
# condition comes early: every wait polls.
DEADLINE = 60.0


async def _wait_for(db: Path, n: int, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while _count(db) < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"{_count(db)} records stored, {n} expected")
        await asyncio.sleep(0.05)


async def _subscribed(caplog: pytest.LogCaptureFixture) -> None:
    deadline = time.monotonic() + DEADLINE
    while not any("subscribed" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the monitor did not subscribe"
        await asyncio.sleep(0.02)


async def test_records_survive_broker_and_monitor_restarts(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "state.db"
    store = Store.open(db)
    counters = IngestCounters()

    def start() -> asyncio.Task[None]:
        coro = run_sources(_sources(broker.port), _channels(), store, counters, SystemClock())
        return asyncio.create_task(coro)

    caplog.set_level(logging.INFO, logger="probes.hotline.mqtt")
    monitor = start()
    await _subscribed(caplog)  # the persistent session and its subscriptions exist
    await _publish(broker.port, range(300))
    await _wait_for(db, 300)
    # The monitor stops; records keep arriving at the broker, which then restarts.
    monitor.cancel()
    with pytest.raises(asyncio.CancelledError):
        await monitor
    await _publish(broker.port, range(300, 500))
    await asyncio.to_thread(broker.restart)
    monitor = start()
    await _wait_for(db, 500)
    # The broker restarts under a running monitor, which reconnects; old ids come again.
    await asyncio.to_thread(broker.restart)
    await _publish(broker.port, range(450, 600))
    await _wait_for(db, 600)
    await asyncio.sleep(0.3)
    monitor.cancel()
    with pytest.raises(asyncio.CancelledError):
        await monitor
    assert _count(db) == 600
    assert _total_calls(db) == 600
    assert counters.ingested == {"mqtt": 600}
    # At least the 50 republished ids; a broker restart may redeliver more (at least once).
    assert counters.rejected == {}
    assert counters.duplicates["mqtt"] >= 50
    store.close()


async def test_kill_9_mid_ingestion_loses_and_doubles_nothing(
    broker: Mosquitto, tmp_path: Path
) -> None:
    db = tmp_path / "state.db"
    cfg = tmp_path / "calls.yaml"
    cfg.write_text(
        f"global: {{state_path: {db}}}\n"
        "channels:\n"
        + "".join(f"  - {{name: {n}, kind: hotline, owner: x, checks: {{hotline: {{}}}}}}\n"
                  for n in CHANNELS)
        + f"calls:\n  mqtt: {{host: 127.0.0.1, port: {broker.port}, client_id: killed, "
        "batch: 50}\n"
    )  # fmt: skip
    cmd = [sys.executable, "-c", "from probes.cli import main; main()", "calls", "follow",
           "-c", str(cfg)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def spawn() -> subprocess.Popen[bytes]:
        with (tmp_path / "ingester.log").open("ab") as log:
            return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)

    proc = spawn()
    try:
        deadline = time.monotonic() + DEADLINE
        while b"subscribed" not in (tmp_path / "ingester.log").read_bytes():
            assert time.monotonic() < deadline, "the ingester did not subscribe"
            await asyncio.sleep(0.05)
        total = 4000
        publisher = asyncio.create_task(_publish(broker.port, range(total)))
        await _wait_for(db, 300)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        await publisher
        stored_at_kill = _count(db)
        assert stored_at_kill < total, "kill came too late to test anything"
        proc = spawn()
        await _wait_for(db, total)
        await asyncio.sleep(0.3)
        assert _count(db) == total
        assert _total_calls(db) == total
    finally:
        proc.kill()
        proc.wait()


def _source(path: Path) -> FileSource:
    return FileSource(path=str(path), format="jsonl", poll=0.01)


def _lines(ids: range) -> str:
    out = []
    for i in ids:
        _, payload = _record(i)
        out.append(json.dumps({**json.loads(payload), "channel": "h1"}) + "\n")
    return "".join(out)


def test_file_tail_follows_rotation_truncation_and_partial_lines(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    store = Store.open(tmp_path / "state.db")
    counters = IngestCounters()
    sink = Sink(store, counters, SystemClock(), {"h1": 10.0})
    source = _source(log)
    parser = filetail.parser_for(source)
    log.write_text(_lines(range(10)) + _lines(range(10, 11)).rstrip("\n"))  # half a line
    current = filetail.poll_once(source, None, sink, parser)
    assert calls.count_records(store) == 10
    with log.open("a") as f:
        f.write("\n" + _lines(range(11, 20)))
    current = filetail.poll_once(source, current, sink, parser)
    assert calls.count_records(store) == 20
    # Rotation: lines appended to the old file after its rename are still read.
    log.rename(tmp_path / "calls.jsonl.1")
    with (tmp_path / "calls.jsonl.1").open("a") as f:
        f.write(_lines(range(20, 25)))
    log.write_text(_lines(range(25, 30)))
    current = filetail.poll_once(source, current, sink, parser)
    assert calls.count_records(store) == 30
    # Truncation: read again from the start (the same ids are not stored twice).
    log.write_text(_lines(range(30, 32)))
    current = filetail.poll_once(source, current, sink, parser)
    assert calls.count_records(store) == 32
    assert current is not None
    current.handle.close()
    # A restart resumes from the stored offset, reading only what is new.
    with log.open("a") as f:
        f.write(_lines(range(32, 35)) + "garbage\n")
    again = IngestCounters()
    resumed = filetail.poll_once(
        source, None, Sink(store, again, SystemClock(), {"h1": 10.0}), parser
    )
    assert resumed is not None
    resumed.handle.close()
    assert calls.count_records(store) == 35
    assert again.ingested == {"file:calls.jsonl": 3}
    assert again.rejected == {("file:calls.jsonl", "malformed"): 1}
    assert sum(calls.totals(store, "h1").calls.values()) == 35


def test_restart_after_rotation_reads_the_rotated_file_first(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    store = Store.open(tmp_path / "state.db")
    sink = Sink(store, IngestCounters(), SystemClock(), {"h1": 10.0})
    source = _source(log)
    parser = filetail.parser_for(source)
    log.write_text(_lines(range(5)))
    current = filetail.poll_once(source, None, sink, parser)
    assert current is not None
    current.handle.close()
    # While the monitor is down, the file grows, is rotated, and a new one starts.
    with log.open("a") as f:
        f.write(_lines(range(5, 8)))
    log.rename(tmp_path / "calls.jsonl.1")
    log.write_text(_lines(range(8, 10)))
    resumed = filetail.poll_once(source, None, sink, parser)
    assert resumed is not None
    resumed.handle.close()
    assert calls.count_records(store) == 10


async def test_demo_robot_over_mqtt_gets_every_hotline_its_ground_truth(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from probes.config import load_config
    from probes.demo import callrobot
    from probes.demo.truth import codes
    from tests.test_hotline_verdicts import _verdict

    # The demo's own config: its calls block and hotline channels must fit the robot.
    env = {"DEMO_PORTAL": "http://x", "DEMO_MQTT_PORT": str(broker.port)}
    config = load_config(ROOT / "config" / "demo.yaml", environ=env)
    assert config.calls is not None
    # Hotline channels judged from call records (the demo's work-order channels are not).
    hotlines = [c for c in config.channels if c.checks.hotline is not None]
    assert sorted(c.name for c in hotlines) == sorted(callrobot.TRUTH)
    store = Store.open(tmp_path / "state.db")
    counters = IngestCounters()
    caplog.set_level(logging.INFO, logger="probes.hotline.mqtt")
    monitor = asyncio.create_task(
        run_sources(config.calls, hotlines, store, counters, SystemClock())
    )
    await _subscribed(caplog)
    now = time.time()
    published = asyncio.Event()
    robot = asyncio.create_task(
        callrobot.run_robot("127.0.0.1", broker.port, clock=FrozenClock(now),
                            backlog_published=published)
    )  # fmt: skip
    try:
        async with asyncio.timeout(DEADLINE):
            await published.wait()
        await _wait_for(tmp_path / "state.db", len(callrobot.records(now)))
        for channel in hotlines:
            _, verdict = await _verdict(store, channel, now)
            truth = callrobot.TRUTH[channel.name]
            assert (verdict.state, codes(verdict)) == (truth.state, truth.reasons), channel.name
    finally:
        for task in (robot, monitor):
            task.cancel()
        await asyncio.gather(robot, monitor, return_exceptions=True)
        store.close()


SHIPPED_BROKER = (ROOT / "deploy" / "mosquitto.conf").read_text()
# mosquitto keeps 1,000 messages for an offline session unless told otherwise.
DEFAULT_QUEUE = "\n".join(
    ln for ln in SHIPPED_BROKER.splitlines() if not ln.startswith("max_queued_messages")
)


@pytest.mark.parametrize(
    ("conf", "keeps_all"),
    [(SHIPPED_BROKER, True), (DEFAULT_QUEUE, False)],
    ids=["shipped", "without-max_queued_messages"],
)
async def test_shipped_broker_keeps_every_record_while_the_monitor_is_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, conf: str, keeps_all: bool
) -> None:
    if not available():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    total = 3000  # three times mosquitto's default queue for an offline session
    db = tmp_path / "state.db"
    caplog.set_level(logging.INFO, logger="probes.hotline.mqtt")
    with Mosquitto(shipped=conf) as broker, Store.open(db) as store:

        def start() -> asyncio.Task[None]:
            coro = run_sources(_sources(broker.port), _channels(), store, IngestCounters(),
                               SystemClock())  # fmt: skip
            return asyncio.create_task(coro)

        monitor = start()
        await _subscribed(caplog)
        monitor.cancel()  # the monitor is down (an upgrade, an outage) ...
        with pytest.raises(asyncio.CancelledError):
            await monitor
        await _publish(broker.port, range(total))  # ... while the PBX goes on publishing
        monitor = start()
        try:
            if keeps_all:
                await _wait_for(db, total)
            else:  # until the count stops growing: what the broker kept has arrived
                await _wait_for(db, 1)
                last = -1
                while (now := _count(db)) != last:
                    last = now
                    await asyncio.sleep(1.0)
        finally:
            monitor.cancel()
            with pytest.raises(asyncio.CancelledError):
                await monitor
    assert (_count(db) == total) is keeps_all, _count(db)


@pytest.fixture
def passwd() -> Iterator[Path]:
    """A mosquitto password file holding the user `monitor` with the password `s3cret`."""
    if not available() or shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    # Readable by the broker, which drops root for its own user.
    secrets = Path(tempfile.mkdtemp(prefix="zombie-mqtt-passwd-"))
    secrets.chmod(0o755)
    path = secrets / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(path), "monitor", "s3cret"],
                   check=True, capture_output=True)  # fmt: skip
    path.chmod(0o644)
    yield path
    shutil.rmtree(secrets)


@pytest.mark.parametrize(("password", "accepted"), [("s3cret", True), ("wrong", False)])
async def test_mqtt_logs_in_with_its_credentials_and_a_refused_login_is_retried_unconnected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, passwd: Path, password: str, accepted: bool
) -> None:
    # Anonymous clients (the test's publisher) are let in; a client that names a user
    # must give that user's password.
    conf = (f"listener 1883\nallow_anonymous true\npassword_file {passwd}\npersistence true\n"
            "persistence_location /\nlog_dest stderr\n")  # fmt: skip
    db = tmp_path / "state.db"
    caplog.set_level(logging.INFO, logger="probes.hotline.mqtt")
    with Mosquitto(shipped=conf) as broker, Store.open(db) as store:
        sources = _sources(broker.port)
        assert sources.mqtt is not None
        cfg = sources.mqtt.model_copy(update={"username": "monitor", "password": password})
        counters = IngestCounters()
        sink = Sink(store, counters, SystemClock(), dict.fromkeys(CHANNELS, 10.0))
        monitor = asyncio.create_task(mqtt.run(cfg, CHANNELS, sink))
        try:
            if accepted:
                await _subscribed(caplog)
                await _publish(broker.port, range(20))
                await _wait_for(db, 20)
                assert counters.connected["mqtt"] is True
            else:
                deadline = time.monotonic() + DEADLINE
                while len(refusals := [r.getMessage() for r in caplog.records
                                       if "refused" in r.getMessage()]) < 2:  # fmt: skip
                    assert time.monotonic() < deadline, "no retried refusal logged"
                    await asyncio.sleep(0.02)
                assert "Not authorized" in refusals[0], refusals[0]
                assert counters.connected.get("mqtt", False) is False
                assert _count(db) == 0
        finally:
            monitor.cancel()
            await asyncio.gather(monitor, return_exceptions=True)
