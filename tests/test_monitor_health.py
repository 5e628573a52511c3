"""The monitor's own health on /metrics: the process collector, ingest counters at 0 for a
configured source that delivered nothing (call records and work-order events), a connected
gauge per source, duplicates as an ingest outcome; and the log line per state change rather
than per request."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import pytest
from prometheus_client.parser import text_string_to_metric_families

from probes.clock import SystemClock
from probes.config import Config, parse_config
from probes.hotline.ingest import run_sources
from probes.runtime.monitor import Monitor, open_monitor
from tests.mosquitto import Mosquitto, available, free_port
from tests.scrape import scrape

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _config(tmp_path: Path, mqtt_port: int) -> Config:
    return parse_config(
        f"""
global: {{state_path: "{tmp_path / "state.db"}"}}
channels:
  - {{name: hotline-12345, kind: hotline, owner: 市政务服务热线, checks: {{hotline: {{}}}}}}
calls:
  mqtt: {{host: 127.0.0.1, port: {mqtt_port}, reconnect_min: 0.1, reconnect_max: 0.2}}
  files:
    - {{path: "{tmp_path / "calls.jsonl"}", format: jsonl, channel: hotline-12345, poll: 0.05}}
"""
    )


async def _samples(monitor: Monitor) -> Samples:
    text = (await scrape(monitor)).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
async def monitor(tmp_path: Path) -> AsyncIterator[Monitor]:
    async with open_monitor(_config(tmp_path, free_port())) as opened:
        yield opened


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    if not available():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    with Mosquitto() as b:
        yield b


async def test_metrics_carry_process_series_and_zero_counters_for_silent_sources(
    monitor: Monitor,
) -> None:
    samples = await _samples(monitor)
    names = {name for name, _ in samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes",
            "process_open_fds"} <= names  # fmt: skip
    for source in ("mqtt", "file:calls.jsonl"):
        for outcome in ("stored", "duplicate"):
            got = _value(samples, "zombie_hotline_records_ingested_total",
                         source=source, outcome=outcome)  # fmt: skip
            assert got == 0.0, (source, outcome)
        assert _value(samples, "zombie_hotline_source_connected", source=source) == 0.0
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: scripts/test installs Debian's prometheus package")
    lint = subprocess.run([promtool, "check", "metrics"], input=await scrape(monitor),
                          capture_output=True, check=False)  # fmt: skip
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


async def test_work_order_files_count_stored_and_duplicate_events_at_zero_from_the_start(
    tmp_path: Path,
) -> None:
    config = parse_config(f"""
global: {{state_path: "{tmp_path / "state.db"}"}}
channels:
  - {{name: h12345, kind: hotline, owner: 市政务服务中心, checks: {{workorders: {{}}}}}}
orders:
  files: [{{path: "{tmp_path / "orders.jsonl"}", channel: h12345}}]
""")  # fmt: skip
    async with open_monitor(config) as monitor:
        samples = await _samples(monitor)
    for outcome in ("stored", "duplicate"):
        got = _value(samples, "zombie_workorder_events_ingested_total",
                     source="orders:orders.jsonl", outcome=outcome)  # fmt: skip
        assert got == 0.0, outcome


async def _until(monitor: Monitor, name: str, want: float, **labels: str) -> None:
    async with asyncio.timeout(15):
        while _value(await _samples(monitor), name, **labels) != want:
            await asyncio.sleep(0.02)


async def test_sources_report_connected_and_duplicates_as_an_outcome(
    tmp_path: Path, broker: Mosquitto
) -> None:
    config = _config(tmp_path, broker.port)
    async with open_monitor(config) as monitor:
        assert config.calls is not None
        hotlines = list(monitor.status.channels.values())
        task = asyncio.create_task(
            run_sources(config.calls, hotlines, monitor.rt.store, monitor.ingest, SystemClock())
        )
        try:
            await _until(monitor, "zombie_hotline_source_connected", 1.0, source="mqtt")
            record = ('{"call_id": "c1", "start": 1794967200, "answer": 1794967204, '
                      '"end": 1794967260, "outcome": "answered"}\n')  # fmt: skip
            (tmp_path / "calls.jsonl").write_text(record + record, encoding="utf-8")
            await _until(monitor, "zombie_hotline_source_connected", 1.0, source="file:calls.jsonl")
            await _until(monitor, "zombie_hotline_records_ingested_total", 1.0,
                         source="file:calls.jsonl", outcome="duplicate")  # fmt: skip
            samples = await _samples(monitor)
            assert _value(samples, "zombie_hotline_records_ingested_total",
                          source="file:calls.jsonl", outcome="stored") == 1.0  # fmt: skip
            assert not any(n == "zombie_hotline_records_rejected_total" for n, _ in samples)
            async with aiomqtt.Client("127.0.0.1", broker.port, identifier="pub") as client:
                await client.publish("zombie/calls/hotline-12345", record.encode(), qos=1)
            await _until(monitor, "zombie_hotline_records_ingested_total", 1.0,
                         source="mqtt", outcome="duplicate")  # fmt: skip
            await asyncio.to_thread(broker.stop)
            await _until(monitor, "zombie_hotline_source_connected", 0.0, source="mqtt")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
