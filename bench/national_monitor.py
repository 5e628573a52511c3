"""One measured monitor run for `bench/national.py`, in its own process so that its CPU
and RSS are the monitor's alone.

Builds the config programmatically (the same models `serve` loads), opens the monitor
with `probes.runtime.monitor.open_monitor`, runs `Scheduler.run` for a fixed time and prints one
JSON object: checks completed per kind and outcome, CPU (user+system, from getrusage)
over the scheduling window, peak RSS, exact lateness quantiles (every observation the
scheduler makes is kept) and when every scheduled check had completed once (the round).

    python bench/national_monitor.py SPEC.json   # SPEC written by bench/national.py
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from probes.config import Config  # noqa: E402
from probes.config.model import ChannelConfig  # noqa: E402
from probes.model import CheckResult  # noqa: E402
from probes.runtime.monitor import open_monitor  # noqa: E402
from probes.runtime.status import LATENESS_BUCKETS, HistogramCounter  # noqa: E402


class RecordingHistogram(HistogramCounter):
    """The scheduler's lateness histogram, also keeping every value for exact quantiles."""

    def __init__(self) -> None:
        super().__init__(LATENESS_BUCKETS)
        self.values: list[float] = []

    def observe(self, value: float) -> None:
        super().observe(value)
        self.values.append(value)


def build_config(spec: dict[str, Any]) -> Config:
    """Website channels (availability, freshness) and board channels (board) per site."""
    g = spec["global"]
    channels: list[dict[str, Any]] = []
    for site in spec["sites"]:
        n, base = site["n"], site["base"]
        checks: dict[str, Any] = {}
        if "availability" in spec["kinds"]:
            checks["availability"] = {"interval": spec["interval"]["availability"]}
            if not spec.get("soft_errors", True):
                # The work blackbox_exporter's http_2xx does: no look at the page's text.
                checks["availability"]["soft_error_patterns"] = []
        if "freshness" in spec["kinds"] and site["fresh"]:
            checks["freshness"] = {
                "interval": spec["interval"]["freshness"],
                "columns": [
                    {"id": col, "url": f"{base}/{col}/", "class": cls}
                    for col, cls in spec["columns"].items()
                ],
            }
        if checks:
            channels.append({"name": f"site{n}", "kind": "website", "owner": f"bureau {n}",
                             "url": f"{base}/", "checks": checks})  # fmt: skip
        if "board" in spec["kinds"] and site["fresh"]:
            channels.append({
                "name": f"board{n}", "kind": "board", "owner": f"bureau {n}",
                "url": f"{base}/board/list",
                "checks": {"board": {"interval": spec["interval"]["board"]}},
            })  # fmt: skip
    return Config.model_validate({"global": g, "channels": channels}).with_defaults()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    t0, cpu0 = time.monotonic(), time.process_time()
    config = build_config(spec)
    done: dict[tuple[str, str], float] = {}
    outcomes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    async with open_monitor(
        config, state_path=spec["state_path"], first_run_spread=spec["spread"]
    ) as monitor:
        sched = monitor.scheduler
        jobs = len(sched._jobs)
        lateness = RecordingHistogram()
        monitor.status.lateness = lateness
        setup = {"seconds": time.monotonic() - t0, "cpu": time.process_time() - cpu0,
                 "rss_mb": _rss_mb()}  # fmt: skip
        start = time.monotonic()

        def on_result(channel: ChannelConfig, result: CheckResult) -> None:
            done.setdefault((channel.name, result.check), time.monotonic() - start)
            outcome = {True: "ok", False: "failed", None: "unknown"}[result.success]
            outcomes[f"{result.check}/{outcome}"] += 1
            if result.success is not True:
                errors[f"{result.check}: {result.error[:60]}"] += 1

        sched.on_result = on_result
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        task = asyncio.create_task(sched.run())
        await asyncio.sleep(spec["duration"])
        sched.stop()
        stop_at = time.monotonic()
        await task  # running checks end (their own deadlines bound this)
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        ended = time.monotonic()
    values = sorted(lateness.values)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {
        "jobs": jobs,
        "channels": len(config.channels),
        "setup": setup,
        "wall": ended - start,
        "dispatch_wall": stop_at - start,
        "cpu": cpu,
        "cpu_user": ru1.ru_utime - ru0.ru_utime,
        "cpu_sys": ru1.ru_stime - ru0.ru_stime,
        "peak_rss_mb": ru1.ru_maxrss / 1024,
        "checks": sum(outcomes.values()),
        "outcomes": dict(outcomes),
        "errors": dict(errors.most_common(8)),
        "completed_once": len(done),
        "round_seconds": max(done.values()) if len(done) == jobs and done else None,
        "lateness_p50": _q(values, 0.50),
        "lateness_p99": _q(values, 0.99),
        "lateness_max": values[-1] if values else 0.0,
        "loop": type(asyncio.get_running_loop()).__module__,
    }


def _q(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    if spec.get("uvloop"):
        import uvloop

        result = uvloop.run(run(spec))
    else:
        result = asyncio.run(run(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
