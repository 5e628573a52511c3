"""Cost of one `workorders` check run over a month of a busy centre's orders.

Generates a stream (`probes.demo.orders`), stores it in a fresh state file, and times one
check run through the runner, as `serve` runs it.

    python bench/bench_workorders.py [--orders 20000] [--pattern clean]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from probes.clock import FrozenClock
from probes.config import ChannelConfig, parse_config
from probes.demo.orders import PATTERNS, TZ, generate
from probes.hotline.ordersink import OrderSink
from probes.hotline.sink import IngestCounters
from probes.hotline.workorders import event_from_json
from probes.http.client import open_fetcher
from probes.runtime.runner import Runtime, run_channel
from probes.state.store import Store

END = dt.datetime(2026, 11, 18, 10, 0, tzinfo=TZ)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--pattern", choices=PATTERNS, default="clean")
    args = parser.parse_args()
    stream = generate(args.pattern, orders=args.orders, end=END, seed=1)
    clock = FrozenClock(END.timestamp())
    channel = ChannelConfig.model_validate(
        {"name": "h", "kind": "hotline", "owner": "-", "checks": {"workorders": {}}}
    )
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "state.db") as store:
        sink = OrderSink(store, IngestCounters(), clock)
        items = [(event_from_json(e, source="bench", tz=TZ, channel="h"), "") for e in
                 stream.events]  # fmt: skip
        began = time.perf_counter()
        sink.store_batch("bench", items)
        stored = time.perf_counter() - began
        settings = parse_config("").global_
        async with open_fetcher(settings, clock=clock) as fetcher:
            began = time.perf_counter()
            verdict, _ = await run_channel(Runtime(fetcher, store, clock, settings), channel)
            took = time.perf_counter() - began
    print(f"{args.orders} orders ({len(items)} events, {args.pattern}): stored in "
          f"{stored:.1f} s, one check run {took:.1f} s; {verdict.state.value}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
