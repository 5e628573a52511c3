"""Ingest benchmark: call records/s end to end from a real mosquitto into SQLite (MQTT
source, parse, validate, dedup, commit, PUBACK), and the state size and memory of one day
of records of 500 hotlines.

    python bench/bench_ingest.py [--records 100000] [--hotlines 500] [--rounds 1]

Records are published first (while the monitor's persistent session is offline), then the
monitor is started and timed until every record is stored: the figure is the consumer's
rate on one core, not the publisher's. With `--rounds N` the whole measurement (a new
broker and state file each time) runs N times and the spread of the rate is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402

from probes.clock import SystemClock  # noqa: E402
from probes.config.calls import MqttSource  # noqa: E402
from probes.hotline import mqtt  # noqa: E402
from probes.hotline.sink import IngestCounters, Sink  # noqa: E402
from probes.state import calls  # noqa: E402
from probes.state.store import Store  # noqa: E402
from tests.mosquitto import Mosquitto  # noqa: E402


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(n: int, hotlines: int) -> float:
    """One round; returns the records per CPU second."""
    names = [f"hotline-{i:03d}" for i in range(hotlines)]
    # The broker may send a batch and a half before it waits for acknowledgements.
    with Mosquitto(max_inflight=3000) as broker, tempfile.TemporaryDirectory() as tmp:
        cfg = MqttSource(host="127.0.0.1", port=broker.port, client_id="bench")
        store = Store.open(Path(tmp) / "state.db")
        counters = IngestCounters()
        sink = Sink(store, counters, SystemClock(), dict.fromkeys(names, 10.0))
        task = asyncio.create_task(mqtt.run(cfg, names, sink))  # create the session
        await asyncio.sleep(1.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        now = time.time()
        async with aiomqtt.Client("127.0.0.1", broker.port, max_queued_outgoing_messages=0,
                                  max_inflight_messages=1000) as pub:  # fmt: skip
            for i in range(n):
                start = now - 86400 + i * 86400 / n
                rec = {"call_id": f"c{i}", "start": start, "answer": start + 5,
                       "end": start + 95, "outcome": "answered"}  # fmt: skip
                await pub.publish(f"zombie/calls/{names[i % hotlines]}", json.dumps(rec), qos=1)
        base_rss = _rss_mib()
        began = time.perf_counter()
        cpu0 = time.process_time()
        task = asyncio.create_task(mqtt.run(cfg, names, sink))
        # The sink's counter moves after each commit: cheaper to poll than count(*).
        while counters.ingested.get("mqtt", 0) < n:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu0
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        db = Path(tmp) / "state.db"
        size = sum(p.stat().st_size for p in Path(tmp).glob("state.db*"))  # noqa: ASYNC240
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        now_rss = _rss_mib()
        print(f"records: {n} over {hotlines} hotlines (one day)")
        assert calls.count_records(store) == n
        print(f"ingested end to end: {n / elapsed:,.0f} records/s wall, "
              f"{n / cpu:,.0f} records/s per CPU second of the monitor process "
              f"({cpu / n * 1000 * 1000:.0f} ms CPU per 1,000 records)")  # fmt: skip
        print(f"state file: {size / 2**20:.1f} MiB ({db.name} + WAL)")
        print(f"RSS {base_rss:.0f} MiB before ingest, {now_rss:.0f} MiB after; "
              f"peak {rss:.0f} MiB (publishing included)")  # fmt: skip
        store.close()
        return n / cpu


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--hotlines", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    rates = sorted(asyncio.run(main(args.records, args.hotlines)) for _ in range(args.rounds))
    if len(rates) > 1:
        print(f"records/s per CPU second over {len(rates)} rounds: min {rates[0]:,.0f}, "
              f"median {rates[len(rates) // 2]:,.0f}, max {rates[-1]:,.0f}")  # fmt: skip
