"""A reload reaches ingestion: `zombie-probes serve` with a real mosquitto, hotlines and
call files added and removed by `POST /-/reload` and SIGHUP. An added hotline's topic is
subscribed and its records stored; a removed one's topic is dropped, so its records are
neither stored nor rejected; a followed file comes and goes with the config; a change
only a restart can apply is named in the reload's answer."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import httpx
import pytest
from test_serve import free_port, start, stop, wait_healthy

from probes.clock import SystemClock
from probes.config import ChannelConfig
from probes.config.calls import CallSourcesConfig
from probes.hotline.ingest import IngestCounters, Ingestion
from probes.state.store import Store
from tests.mosquitto import Mosquitto, available

pytestmark = pytest.mark.integration
DEADLINE = 30.0
_ids = itertools.count()


def hotline(name: str) -> str:
    return f"""
  - name: {name}
    kind: hotline
    owner: 云泽市政务服务便民热线
    checks: {{hotline: {{}}}}"""


def config(tmp: Path, port: int, hotlines: list[str], files: str = "[]", mqtt: str = "") -> str:
    return f"""
global: {{state_path: {tmp / "state.db"}}}
calls:
  mqtt: {{host: 127.0.0.1, port: {port}, client_id: reload-test, reconnect_min: 0.1{mqtt}}}
  files: {files}
channels:{"".join(hotline(h) for h in hotlines)}
"""


def record(channel: str | None = None) -> str:
    start = time.time() - 600
    rec: dict[str, object] = {"call_id": f"c{next(_ids)}", "start": start, "end": start + 30,
                              "answer": start + 5, "outcome": "answered"}  # fmt: skip
    if channel is not None:
        rec["channel"] = channel
    return json.dumps(rec)


def stored(db: Path, channel: str) -> int:
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute("SELECT count(*) FROM call_records WHERE channel = ?", (channel,))
        except sqlite3.OperationalError:  # not created yet
            return 0
        return int(row.fetchone()[0])


@dataclass
class Running:
    tmp: Path
    broker: Mosquitto
    base: str
    config: Path
    proc: asyncio.subprocess.Process
    client: httpx.AsyncClient
    publisher: aiomqtt.Client

    @property
    def db(self) -> Path:
        return self.tmp / "state.db"

    async def publish(self, channel: str) -> None:
        await self.publisher.publish(f"zombie/calls/{channel}", record(), qos=1)

    async def until_stored(self, channel: str) -> None:
        """Publish records for `channel` until one is stored (the topic is subscribed)."""
        before = stored(self.db, channel)
        async with asyncio.timeout(DEADLINE):
            while stored(self.db, channel) == before:
                await self.publish(channel)
                await asyncio.sleep(0.2)

    async def reload(self, text: str, how: str) -> str:
        self.config.write_text(text, encoding="utf-8")
        if how == "http":
            response = await self.client.post(f"{self.base}/-/reload")
            assert response.status_code == 200, response.text
            return response.text
        before = await self.reloaded_at()
        self.proc.send_signal(signal.SIGHUP)
        async with asyncio.timeout(DEADLINE):
            while await self.reloaded_at() == before:
                await asyncio.sleep(0.05)
        return ""

    async def reloaded_at(self) -> str:
        text = (await self.client.get(f"{self.base}/metrics")).text
        name = "zombie_config_last_reload_success_timestamp_seconds "
        (line,) = (x for x in text.splitlines() if x.startswith(name))
        return line

    async def rejected(self) -> str:
        text = (await self.client.get(f"{self.base}/metrics")).text
        return "\n".join(x for x in text.splitlines() if x.startswith("zombie_hotline_records_rej"))


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    if not available():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    with Mosquitto() as b:
        yield b


@pytest.fixture
async def running(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[Running]:
    path = tmp_path / "config.yaml"
    path.write_text(config(tmp_path, broker.port, ["h1"]), encoding="utf-8")
    port = free_port()
    proc = await start(path, port)
    base = f"http://127.0.0.1:{port}"
    async with (
        httpx.AsyncClient(timeout=10) as client,
        aiomqtt.Client("127.0.0.1", broker.port, identifier="reload-publisher") as publisher,
    ):
        try:
            await wait_healthy(client, base)
            yield Running(tmp_path, broker, base, path, proc, client, publisher)
        finally:
            assert await stop(proc) == 0


@pytest.mark.parametrize("how", ["http", "sighup"])
async def test_hotlines_added_and_removed_by_a_reload_are_subscribed_and_dropped(
    running: Running, how: str
) -> None:
    await running.until_stored("h1")
    # h2 added: its topic is subscribed and its records stored.
    await running.reload(config(running.tmp, running.broker.port, ["h1", "h2"]), how)
    await running.until_stored("h2")
    # h1 removed, h3 added: once h3's records arrive, h1's topic is dropped (unsubscribing
    # comes first), so what is published for h1 reaches nobody.
    await running.reload(config(running.tmp, running.broker.port, ["h2", "h3"]), how)
    await running.until_stored("h3")
    h1 = stored(running.db, "h1")
    for _ in range(5):
        await running.publish("h1")
    await running.until_stored("h3")  # published after h1's: h1's had their chance
    assert stored(running.db, "h1") == h1
    assert "unknown_channel" not in await running.rejected()


async def test_call_files_added_and_removed_by_a_reload_are_followed_and_let_go(
    running: Running,
) -> None:
    cdr = running.tmp / "calls.jsonl"
    cdr.write_text(record("h1") + "\n", encoding="utf-8")
    files = f"[{{path: {cdr}, format: jsonl, poll: 0.1s}}]"
    await running.reload(config(running.tmp, running.broker.port, ["h1"], files), "http")
    async with asyncio.timeout(DEADLINE):
        while stored(running.db, "h1") < 1:
            await asyncio.sleep(0.05)
    await running.reload(config(running.tmp, running.broker.port, ["h1"]), "http")
    with cdr.open("a", encoding="utf-8") as out:
        out.write(record("h1") + "\n")
    await running.until_stored("h1")  # over MQTT: the monitor is up and storing
    await asyncio.sleep(0.5)  # five polls of the file, had it still been followed
    assert stored(running.db, "h1") == 2  # the first file record and one over MQTT


async def test_a_reload_names_the_settings_that_need_a_restart(running: Running) -> None:
    await running.until_stored("h1")
    changed = config(running.tmp, running.broker.port, ["h1", "h2"], mqtt=", keepalive: 30s")
    answer = await running.reload(changed, "http")
    assert "restart to apply: calls.mqtt" in answer
    # Everything else was applied: h2 is subscribed on the running connection.
    await running.until_stored("h2")


@pytest.mark.parametrize(
    ("before", "after", "restart"),
    [
        (None, {"files": []}, ["calls"]),
        ({"files": []}, None, ["calls"]),
        ({"files": []}, {"files": [], "retention": "40d"}, []),
        ({"mqtt": {"host": "127.0.0.1", "port": 1}},
         {"mqtt": {"host": "127.0.0.1", "port": 1, "topics": ["cdr/{channel}"]}}, []),
        ({"mqtt": {"host": "127.0.0.1", "port": 1}}, {"mqtt": {"host": "127.0.0.2", "port": 1}},
         ["calls.mqtt"]),
    ],
    ids=["calls-added", "calls-removed", "retention", "topics", "broker"],
)  # fmt: skip
async def test_a_reload_says_which_call_settings_need_a_restart(
    tmp_path: Path,
    before: dict[str, object] | None,
    after: dict[str, object] | None,
    restart: list[str],
) -> None:
    def calls(raw: dict[str, object] | None) -> CallSourcesConfig | None:
        return None if raw is None else CallSourcesConfig.model_validate(raw)

    with Store.open(tmp_path / "state.db") as store:
        ingestion = Ingestion(store, IngestCounters(), SystemClock())
        first = calls(before)
        running = None if first is None else asyncio.create_task(ingestion.run(first, []))
        await asyncio.sleep(0)  # the sources have started
        try:
            assert ingestion.apply(calls(after), []) == restart
        finally:
            if running is not None:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running


def _hotline_channel(name: str) -> ChannelConfig:
    return ChannelConfig.model_validate(
        {"name": name, "kind": "hotline", "owner": "热线办", "checks": {"hotline": {}}}
    )


async def test_a_reload_repoints_which_hotlines_are_another_replicas(tmp_path: Path) -> None:
    """A sharded replica gains h2 by a reload while h3 joins the config on another
    replica: from then on a shared call file's h2 records are stored, h3's skipped as not
    mine (not rejected), and a hotline no replica has is still rejected."""
    cdr = tmp_path / "calls.jsonl"
    cdr.write_text("", encoding="utf-8")
    source = CallSourcesConfig.model_validate(
        {"files": [{"path": str(cdr), "format": "jsonl", "poll": "0.05s"}]}
    )
    counters = IngestCounters()
    with Store.open(tmp_path / "state.db") as store:
        ingestion = Ingestion(store, counters, SystemClock(), shard=(0, 2))
        running = asyncio.create_task(
            ingestion.run(source, [_hotline_channel("h1")], others=["h1"])
        )
        await asyncio.sleep(0)
        try:
            hotlines = [_hotline_channel("h1"), _hotline_channel("h2")]
            assert ingestion.apply(source, hotlines, others=["h1", "h2", "h3"]) == []
            lines = [record(ch) for ch in ("h1", "h2", "h3", "nobody")]
            cdr.write_text("\n".join(lines) + "\n", encoding="utf-8")
            async with asyncio.timeout(DEADLINE):
                while sum(counters.ingested.values()) < 2:
                    await asyncio.sleep(0.05)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        assert (stored(tmp_path / "state.db", "h1"), stored(tmp_path / "state.db", "h2")) == (1, 1)
    assert counters.not_mine == {"file:calls.jsonl": 1}
    assert counters.rejected == {("file:calls.jsonl", "unknown_channel"): 1}
