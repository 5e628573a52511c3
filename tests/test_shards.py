"""Two replicas of one config (`serve --shard 0/2` and `--shard 1/2`) behind one real
mosquitto: each has a session of its own, stores exactly its own hotlines' records
(from its `{channel}` topics and from a shared wildcard topic both receive), skips the
other's as not mine without rejecting them, and loses nothing across a broker restart."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import aiomqtt
import pytest

from probes.hotline.mqtt import session_id
from probes.runtime.scheduler import in_shard
from tests.mosquitto import Mosquitto, available

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.integration
DEADLINE = 60.0
PER_HOTLINE = 100
# The first name of each shard among these: the test needs one hotline in each.
HOTLINES = [next(n for n in (f"hotline-{i}" for i in range(100)) if in_shard(n, (s, 2)))
            for s in (0, 1)]  # fmt: skip


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    if not available():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    with Mosquitto() as b:
        yield b


def test_each_replica_has_a_session_of_its_own() -> None:
    ids = {session_id("zombie-probes-1", (i, 2)) for i in range(2)}
    assert len(ids) == 2
    assert all(i.startswith("zombie-probes-1") for i in ids)
    assert session_id("zombie-probes-1", None) == "zombie-probes-1"


def _config(tmp: Path, port: int) -> Path:
    path = tmp / "replicas.yaml"
    channels = "".join(
        f"  - {{name: {n}, kind: hotline, owner: x, checks: {{hotline: {{}}}}}}\n" for n in HOTLINES
    )
    path.write_text(
        "global: {state_path: '${ZOMBIE_STATE}'}\nchannels:\n" + channels
        + f"calls:\n  mqtt: {{host: 127.0.0.1, port: {port}, client_id: city, "
        "topics: ['zombie/calls/{channel}', 'zombie/shared/#'], "
        "reconnect_min: 0.1, reconnect_max: 0.5}\n"
    )  # fmt: skip
    return path


class Replica:
    def __init__(self, tmp: Path, config: Path, index: int) -> None:
        self.db = tmp / f"state-{index}.db"
        self.log = tmp / f"replica-{index}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ZOMBIE_STATE": str(self.db)}
        cmd = [sys.executable, "-m", "probes", "serve", "-c", str(config),
               "--shard", f"{index}/2", "--listen", "127.0.0.1:0"]  # fmt: skip
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + DEADLINE
        while (found := re.search(pattern, self.text())) is None:
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < deadline, f"no {pattern!r} in: {self.text()}"
            await asyncio.sleep(0.05)
        return found

    def stored(self) -> dict[str, int]:
        if not self.db.exists():
            return {}
        with closing(sqlite3.connect(self.db)) as conn:
            try:
                rows = conn.execute("SELECT channel, count(*) FROM call_records GROUP BY channel")
                return dict(rows.fetchall())
            except sqlite3.OperationalError:
                return {}

    def metrics(self, address: str) -> str:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
            return str(response.read().decode())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _record(channel: str, i: int) -> dict[str, object]:
    start = time.time() - 3600 + i
    return {"call_id": f"{channel}-{i}", "start": start, "answer": start + 3,
            "end": start + 60, "outcome": "answered"}  # fmt: skip


async def _publish(port: int, ids: range) -> None:
    """Per hotline: even ids on its own topic, odd ids on the shared topic (which both
    replicas receive), naming the channel in the record."""
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"pbx-{ids.start}") as client:
        for channel in HOTLINES:
            for i in ids:
                record = _record(channel, i)
                if i % 2:
                    topic, record = "zombie/shared/all", {**record, "channel": channel}
                else:
                    topic = f"zombie/calls/{channel}"
                await client.publish(topic, json.dumps(record), qos=1)


async def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def _counter(metrics: str, name: str) -> dict[str, float]:
    """A counter's series keyed by their labels in name order (`outcome="stored",source="mqtt"`),
    whatever order the exposition writes them in."""
    return {
        ",".join(sorted(m.group(1).split(","))): float(m.group(2))
        for m in re.finditer(rf"^zombie_{name}_total\{{(.*)\}} (\S+)$", metrics, re.M)
    }


async def test_two_replicas_store_every_record_once_across_a_broker_restart(
    broker: Mosquitto, tmp_path: Path
) -> None:
    config = _config(tmp_path, broker.port)
    replicas = [Replica(tmp_path, config, i) for i in range(2)]
    try:
        addresses = [(await r.wait_for(r"listening on (\S+)")).group(1) for r in replicas]
        for r in replicas:
            await r.wait_for("subscribed to 2 topics")
        half = PER_HOTLINE // 2
        await _publish(broker.port, range(half))
        await _until(lambda: [sum(r.stored().values()) for r in replicas] == [half, half],
                     "the first half was not stored")  # fmt: skip
        await asyncio.to_thread(broker.restart)
        await _publish(broker.port, range(half, PER_HOTLINE))
        await _until(
            lambda: (
                [r.stored() for r in replicas]
                == [{HOTLINES[0]: PER_HOTLINE}, {HOTLINES[1]: PER_HOTLINE}]
            ),
            "not every record was stored by its replica",
        )
        await asyncio.sleep(0.5)  # anything still to come would be a double
        assert [r.stored() for r in replicas] == [
            {HOTLINES[0]: PER_HOTLINE}, {HOTLINES[1]: PER_HOTLINE}
        ]  # fmt: skip
        for replica, address in zip(replicas, addresses, strict=True):
            metrics = replica.metrics(address)
            rejected = _counter(metrics, "hotline_records_rejected")
            # A record redelivered after the broker restart is a duplicate, never a loss.
            assert rejected == {}
            ingested = _counter(metrics, "hotline_records_ingested")
            assert ingested['outcome="stored",source="mqtt"'] == PER_HOTLINE
            # The other replica's records from the shared topic: skipped, counted.
            assert _counter(metrics, "hotline_records_not_mine")['source="mqtt"'] >= half
            assert "rejected call record" not in replica.text()
        ids = [re.search(r"subscribed to \d+ topics on \S+ as (\S+)", r.text()) for r in replicas]
        assert len({m.group(1) for m in ids if m}) == 2
    finally:
        for r in replicas:
            r.stop()
