"""Page work overhead: what reading a column page in a page worker
(`probes.kinds.pagework`) costs over reading it on the event loop, by page size.

Builds typical column pages (20-60 items in page chrome, `bench_extract.build_page`), and
pages that are all items (the worst case), and times, one page at a time, auto-mode
extraction called directly (as the loop would) and through `PageWorkers.run` with a warm
worker (the page pickled to the worker, the `Listing` pickled back). Reports the median
wall time per page for each, the difference (the pool's overhead), and the longest the
event loop went without running a 5 ms ticker meanwhile (what a page costs every other
task: /metrics, timers, other checks).

    PYTHONPATH=. python bench/bench_pagework.py [--pages 15] [--sizes 50,100,250,500,1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from functools import partial

from bench_extract import NOW, build_page

from probes.kinds.pagework import PageWorkers
from probes.pages.listing import Listing, extract

URL = "http://www.yz.gov.cn/xxgk/"


async def _ticker(stop: asyncio.Event, lags: list[float]) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        lags.append(now - last)
        last = now


async def _timed(mode: str, pool: PageWorkers, page: str) -> float:
    started = time.perf_counter()
    task = partial(extract, page, URL, now=NOW)
    listing: Listing = await pool.run(b"", 60.0, task) if mode == "pool" else task()
    assert len(listing.dated) >= 20, "extraction broke"
    return time.perf_counter() - started


async def run(pages: int, sizes: list[int]) -> None:
    rng = random.Random(42)
    pool = PageWorkers(1, inline_below=0, inline_tags=0)
    try:
        warm = build_page(50, rng, 30)
        await pool.run(b"", 60.0, partial(extract, warm, URL, now=NOW))  # start the worker
        print("| page KB | items | on the loop ms | in a worker ms | overhead ms "
              "| loop held (on loop / worker) ms |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for kb, worst in [(kb, False) for kb in sizes] + [(kb, True) for kb in sizes]:
            built = [
                build_page(kb, rng, None if worst else rng.randint(20, 60)) for _ in range(pages)
            ]
            walls: dict[str, list[float]] = {"loop": [], "pool": []}
            held: dict[str, float] = {}
            for mode in ("loop", "pool"):
                stop, lags = asyncio.Event(), []
                ticker = asyncio.create_task(_ticker(stop, lags))
                for page in built:
                    await asyncio.sleep(0.01)  # let the ticker tick between pages
                    walls[mode].append(await _timed(mode, pool, page))
                stop.set()
                await ticker
                held[mode] = max(lags) * 1000
            loop_ms = statistics.median(walls["loop"]) * 1000
            pool_ms = statistics.median(walls["pool"]) * 1000
            items = f"all ({len(extract(built[0], URL, now=NOW).items)})" if worst else "20-60"
            print(f"| {kb} | {items} | {loop_ms:.1f} | {pool_ms:.1f} | {pool_ms - loop_ms:.1f} "
                  f"| {held['loop']:.0f} / {held['pool']:.0f} |")  # fmt: skip
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=15, help="pages per size")
    parser.add_argument("--sizes", default="50,100,250,500,1000", help="page sizes in KB")
    args = parser.parse_args()
    asyncio.run(run(args.pages, [int(s) for s in args.sizes.split(",")]))


if __name__ == "__main__":
    main()
