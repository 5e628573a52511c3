"""Drives prometheus-blackbox-exporter's `/probe` for `bench/national.py`: every target
once, evenly spread over one round, as a Prometheus with one scrape job per target would.

Runs in its own process (uvloop, one keep-alive session to the exporter) so none of its
CPU is counted against the exporter, and prints one JSON object: probes done, how many
reported probe_success 1, and the wall time of the round.

    python bench/national_bb.py EXPORTER_URL TARGETS_FILE ROUND_SECONDS [MODULE]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import uvloop


async def run(exporter: str, targets: list[str], round_s: float, module: str) -> dict[str, object]:
    outcomes: Counter[str] = Counter()
    start = time.monotonic()
    step = round_s / max(1, len(targets))
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": "15.5"}
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i: int, target: str) -> None:
            await asyncio.sleep(max(0.0, start + i * step - time.monotonic()))
            params = {"target": target, "module": module}
            try:
                async with session.get(f"{exporter}/probe", params=params, headers=headers) as r:
                    body = await r.text()
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcomes[f"driver error {type(exc).__name__}"] += 1
                return
            outcomes["ok" if "\nprobe_success 1" in body else "failed"] += 1

        await asyncio.gather(*(one(i, t) for i, t in enumerate(targets)))
    return {"probes": sum(outcomes.values()), "outcomes": dict(outcomes),
            "round_seconds": time.monotonic() - start}  # fmt: skip


def main() -> None:
    exporter, path, round_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    module = sys.argv[4] if len(sys.argv) > 4 else "http_2xx"
    targets = Path(path).read_text().split()
    print(json.dumps(uvloop.run(run(exporter, targets, round_s, module))))


if __name__ == "__main__":
    main()
