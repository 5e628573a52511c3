"""State write faults against real SQLite: the file held by another connection (and, in
a mount namespace, a full disk). Writes that can wait are kept and stored in order once
the file takes writes again; call records are refused (so they are not acknowledged) and
stored when retried; the event loop is never held for more than the short busy timeout;
and a running monitor keeps serving /metrics, says so, and catches up with nothing lost."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import aiomqtt
import httpx
import pytest

from probes.clock import FrozenClock, SystemClock
from probes.config.calls import FileSource
from probes.demo.portal import RunningPortal
from probes.hotline import filetail
from probes.hotline.sink import IngestCounters, Sink
from probes.model import CallRecord, CheckResult, Outcome
from probes.state import calls, history
from probes.state.errors import StateWriteError
from probes.state.store import (
    FLUSH_CHUNK,
    RETRY_FIRST,
    SHORT_BUSY_TIMEOUT,
    Store,
    retry_forever,
)
from tests.conftest import FROZEN_NOW
from tests.mosquitto import Mosquitto, available

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def held(db: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection holding the write lock until the block ends."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def _result(i: int) -> CheckResult:
    return CheckResult(check="availability", success=True, started=FROZEN_NOW + i, duration=0.1)


def _runs(db: Path) -> list[float]:
    with closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute("SELECT ts FROM check_runs ORDER BY rowid")]


def test_history_written_while_the_file_is_held_is_stored_in_order_afterwards(
    tmp_path: Path,
) -> None:
    db, clock = tmp_path / "state.db", FrozenClock(FROZEN_NOW)
    with Store.open(db, write_timeout=SHORT_BUSY_TIMEOUT, clock=clock) as store:
        history.record(store, "site", _result(0))
        with held(db):
            started = time.monotonic()
            for i in range(1, 6):
                history.record(store, "site", _result(i))
            # One attempt waited the busy timeout; the others did not touch SQLite.
            assert time.monotonic() - started < SHORT_BUSY_TIMEOUT + 0.5
            assert store.health.failing and store.health.errors == 1
            assert len(store.pending) == 5
            assert "another process holds it" in store.health.reason
            clock.advance(RETRY_FIRST)
            history.record(store, "site", _result(6))  # the retry is due: fails again
            assert store.health.errors == 2
            assert store.retry_in() == pytest.approx(2 * RETRY_FIRST)
        clock.advance(2 * RETRY_FIRST)
        history.record(store, "site", _result(7))
        assert not store.health.failing
        assert not store.pending
    assert _runs(db) == [FROZEN_NOW + i for i in range(8)]


async def test_a_long_backlog_is_stored_in_steps_and_in_order(tmp_path: Path) -> None:
    db, clock = tmp_path / "state.db", FrozenClock(FROZEN_NOW)
    total = FLUSH_CHUNK * 2 + 10
    with Store.open(db, write_timeout=SHORT_BUSY_TIMEOUT, clock=clock) as store:
        with held(db):
            for i in range(total):
                history.record(store, "site", _result(i))
        assert len(store.pending) == total
        clock.advance(RETRY_FIRST)
        history.record(store, "site", _result(total))  # waits behind the older ones
        assert len(store.pending) == total + 1
        retrying = asyncio.create_task(retry_forever(store))
        try:
            await asyncio.sleep(0)  # the retry loop waits for its first turn
            clock.advance(RETRY_FIRST)  # its turn: it stores the backlog chunk by chunk
            async with asyncio.timeout(30):
                while store.pending:
                    await asyncio.sleep(0)
        finally:
            retrying.cancel()
        latest = history.latest(store)["site", "availability"]
    assert _runs(db) == [FROZEN_NOW + i for i in range(total + 1)]
    assert latest.started == FROZEN_NOW + total, "the latest result is the newest one"


def test_call_records_are_refused_while_held_then_stored_once(tmp_path: Path) -> None:
    db, clock = tmp_path / "state.db", FrozenClock(FROZEN_NOW)
    counters = IngestCounters()
    records = [
        (CallRecord("h1", f"c{i}", FROZEN_NOW - 600 + i, None, FROZEN_NOW - 500 + i,
                    Outcome.NO_ANSWER, source="mqtt"), f"mid {i}")
        for i in range(20)
    ]  # fmt: skip
    bad = (CallRecord("elsewhere", "x", FROZEN_NOW - 60, None, FROZEN_NOW - 50,
                      Outcome.BUSY, source="mqtt"), "mid 99")  # fmt: skip
    with Store.open(db, write_timeout=SHORT_BUSY_TIMEOUT, clock=clock) as store:
        sink = Sink(store, counters, clock, {"h1": 10.0})
        with held(db), pytest.raises(StateWriteError):
            sink.store_batch("mqtt", [*records, bad])
        # Nothing counted for a batch that was not stored: the retry counts it once.
        assert counters.ingested == {} and counters.rejected == {}
        assert not store.pending, "call records are never deferred: they are not acked"
        with pytest.raises(StateWriteError):
            sink.store_batch("mqtt", [*records, bad])  # the retry is not due yet
        clock.advance(RETRY_FIRST)
        assert sink.store_batch("mqtt", [*records, bad]) == 20
        assert counters.ingested == {"mqtt": 20}
        assert counters.rejected == {("mqtt", "unknown_channel"): 1}
        assert calls.count_records(store) == 20


def test_a_statement_bug_is_not_taken_for_a_write_fault(tmp_path: Path) -> None:
    with Store.open(tmp_path / "state.db") as store:
        with (
            pytest.raises(sqlite3.OperationalError, match="no such table"),
            store.transaction() as conn,
        ):
            conn.execute("INSERT INTO no_such_table VALUES (1)")
        assert not store.health.failing


_FULL_DISK = """
import sqlite3, sys
from pathlib import Path
from probes.clock import FrozenClock, SystemClock
from probes.config.calls import FileSource
from probes.model import CheckResult
from probes.state import history
from probes.state.store import Store
disk = Path(sys.argv[1])
clock = FrozenClock(0.0)
store = Store.open(disk / "state.db", write_timeout=0.1, clock=clock)
big = CheckResult(check="availability", success=True, started=0.0, duration=0.1,
                  evidence=("x" * 20000,))
n = 0
filler = disk / "filler"
with filler.open("wb") as f:  # take what is left of the disk
    try:
        while True:
            f.write(b"\\0" * 65536)
            f.flush()
    except OSError:
        pass
while not store.health.failing and n < 1000:
    history.record(store, "site", big)
    n += 1
print("failing", store.health.failing, store.health.reason)
filler.unlink()
clock.advance(60)
history.record(store, "site", big)
count = store.conn.execute("SELECT count(*) FROM check_runs").fetchone()[0]
print("stored", count == n + 1, "pending", len(store.pending))
"""


def test_a_full_disk_keeps_the_writes_until_there_is_room(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) for a small tmpfs of its own")
    disk = tmp_path / "disk"
    disk.mkdir()
    (tmp_path / "full.py").write_text(_FULL_DISK)
    script = f'mount -t tmpfs -o size=2m tmpfs "{disk}" && exec "$@"'
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", sys.executable, str(tmp_path / "full.py"),
         str(disk)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if "mount" in out.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {out.stderr.strip()}")
    lines = out.stdout.splitlines()
    assert len(lines) == 2, out.stderr
    assert lines[0].startswith("failing True") and "full" in lines[0], lines[0]
    assert lines[1] == "stored True pending 0", out.stderr


MONITOR = """
global: {{interval: 1s, timeout: 2s, state_path: {state}}}
channels:
  - {{name: home, kind: website, owner: x, url: "{portal}/sites/home/",
     checks: {{availability: {{}}}}}}
  - {{name: h1, kind: hotline, owner: x, checks: {{hotline: {{interval: 1s}}}}}}
calls:
  mqtt: {{host: 127.0.0.1, port: {port}, client_id: faults, reconnect_min: 0.1,
         reconnect_max: 0.5}}
"""
LOCKED_FOR = 6.0
RECORDS = 200


def _sample(text: str, name: str) -> float:
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{.*}})? (\S+)$", text, re.M))


async def _publish(port: int) -> None:
    async with aiomqtt.Client("127.0.0.1", port, identifier="pbx") as client:
        for i in range(RECORDS):
            start = time.time() - 600 + i
            record = {"call_id": f"c{i}", "start": start, "answer": start + 2,
                      "end": start + 40, "outcome": "answered"}  # fmt: skip
            await client.publish("zombie/calls/h1", json.dumps(record), qos=1)


def _stored_calls(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM call_records").fetchone()[0])


@pytest.mark.integration
async def test_a_monitor_whose_state_file_is_held_keeps_serving_and_catches_up(
    portal: RunningPortal, tmp_path: Path
) -> None:
    if not available():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    db = tmp_path / "state.db"
    with Mosquitto() as broker, socket_port() as port:
        config = tmp_path / "monitor.yaml"
        config.write_text(MONITOR.format(state=db, portal=portal.base_url, port=broker.port))
        log = (tmp_path / "serve.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "probes", "serve", "-c", str(config), "--listen",
            f"127.0.0.1:{port}", stdout=log, stderr=log,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                await _until(lambda: _ok(client, f"{base}/-/ready"), "the monitor is ready")
                await _until(lambda: _logged(tmp_path, "subscribed"), "it subscribed")
                slowest, not_ready, errors, pending = 0.0, 0, 0.0, 0.0
                with held(db):
                    publisher = asyncio.create_task(_publish(broker.port))
                    end = time.monotonic() + LOCKED_FOR
                    while time.monotonic() < end:
                        started = time.monotonic()
                        text = (await client.get(f"{base}/metrics")).text
                        slowest = max(slowest, time.monotonic() - started)
                        errors = _sample(text, "zombie_state_write_errors_total")
                        pending = max(pending, _sample(text, "zombie_state_writes_pending"))
                        ready = await client.get(f"{base}/-/ready")
                        not_ready += ready.status_code == 503
                        await asyncio.sleep(0.2)
                    await publisher
                    assert _stored_calls(db) == 0
                assert slowest < 1.0, f"/metrics took {slowest:.2f}s while the file was held"
                assert errors > 0, "the metrics say writes fail"
                assert pending > 0, "check results were kept for later"
                assert not_ready > 0, "/-/ready says the monitor is not ready"
                # Released: everything kept is stored, and it is ready again.
                await _until(lambda: _stored_calls(db) == RECORDS, "every call record stored")
                await _until(lambda: _ok(client, f"{base}/-/ready"), "ready again")
                text = (await client.get(f"{base}/metrics")).text
                assert _sample(text, "zombie_state_writes_pending") == 0
                runs = _sample(text, "zombie_check_runs_total")
        finally:
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                await proc.wait()
            log.close()
    # Every run the monitor made (those during the hold included) is in the history.
    assert len(_runs(db)) >= runs
    assert "Traceback" not in (tmp_path / "serve.log").read_text(errors="replace")
    assert _stored_calls(db) == RECORDS


async def _ok(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx.TransportError:
        return False


async def _logged(tmp: Path, text: str) -> bool:
    return text in (tmp / "serve.log").read_text(errors="replace")


async def _until(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = condition()  # type: ignore[operator]
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


@contextmanager
def socket_port() -> Iterator[int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    yield port


async def test_a_followed_file_is_read_again_from_the_stored_offset(tmp_path: Path) -> None:
    cdr, db = tmp_path / "calls.jsonl", tmp_path / "state.db"

    def lines(ids: range) -> str:
        return "".join(
            json.dumps({"channel": "h1", "call_id": f"c{i}", "start": FROZEN_NOW - 900 + i,
                        "end": FROZEN_NOW - 800 + i, "outcome": "busy"}) + "\n"
            for i in ids
        )  # fmt: skip

    cdr.write_text(lines(range(50)))
    with Store.open(db, write_timeout=SHORT_BUSY_TIMEOUT) as store:
        counters = IngestCounters()
        sink = Sink(store, counters, SystemClock(), {"h1": 10.0})
        source = FileSource(path=str(cdr), format="jsonl", poll=0.01)
        follower = asyncio.create_task(filetail.follow(source, sink))
        try:
            await _until(lambda: calls.count_records(store) == 50, "the first lines stored")
            with held(db):
                with cdr.open("a") as f:
                    f.write(lines(range(50, 120)))
                await _until(lambda: store.health.failing, "the held file is noticed")
                await asyncio.sleep(0.5)  # polls go on meanwhile, storing nothing
                assert calls.count_records(store) == 50
            await _until(lambda: calls.count_records(store) == 120, "the rest stored")
        finally:
            follower.cancel()
            with pytest.raises(asyncio.CancelledError):
                await follower
    assert sum(counters.ingested.values()) == 120, "each line stored once"
    assert not {k: v for k, v in counters.rejected.items() if k[1] != "duplicate"}
