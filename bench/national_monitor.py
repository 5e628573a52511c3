"""One measured monitor run for `bench/national.py`, in its own process so that its CPU
and RSS are the monitor's alone.

Two modes, chosen by the spec `bench/national.py` writes:

- a **phase** (`"serve": false`): the config is built with the models `serve` loads, the
  monitor opened with `probes.runtime.monitor.open_monitor` and `Scheduler.run` run for a
  fixed time, no HTTP server: the per-kind CPU per check (availability beside
  blackbox_exporter, freshness, board);
- the **deployment** (`"serve": true`): the config is written as a YAML file and read by
  `load_config`, then `probes.runtime.serve.run_monitor` runs it exactly as `zombie-probes
  serve` does (scheduler, uvicorn serving /metrics, the exposition's refresher, pruning),
  while the parent's Prometheus scrapes it. The child prints `READY host:port` when it
  listens, stops dispatching after `duration` seconds and lets running checks end.

Either way it prints one JSON object last: checks completed per kind and outcome, CPU
(user+system, from getrusage) over the dispatch window, peak RSS, exact lateness
quantiles (every observation the scheduler makes is kept) and which checks completed.

    python bench/national_monitor.py SPEC.json   # SPEC written by bench/national.py
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from probes.config import Config, load_config  # noqa: E402
from probes.config.model import ChannelConfig  # noqa: E402
from probes.model import CheckResult  # noqa: E402
from probes.runtime.monitor import Monitor, open_monitor  # noqa: E402
from probes.runtime.status import LATENESS_BUCKETS, HistogramCounter  # noqa: E402


class RecordingHistogram(HistogramCounter):
    """The scheduler's lateness histogram, also keeping every value for exact quantiles."""

    def __init__(self) -> None:
        super().__init__(LATENESS_BUCKETS)
        self.values: list[float] = []

    def observe(self, value: float) -> None:
        super().observe(value)
        self.values.append(value)


def config_dict(spec: dict[str, Any]) -> dict[str, Any]:
    """Website channels (availability, freshness) and board channels (board) per site."""
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
    return {"global": spec["global"], "channels": channels}


def build_config(spec: dict[str, Any]) -> Config:
    """The config of `config_dict`, validated by the models `serve` loads."""
    return Config.model_validate(config_dict(spec)).with_defaults()


class Recorder:
    """What the run observed: completions per check, outcomes, errors, lateness, CPU."""

    def __init__(self) -> None:
        self.done: dict[tuple[str, str], float] = {}
        self.outcomes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.lateness = RecordingHistogram()
        self.start = 0.0
        self.ru0: Any = None
        self.ru_stop: Any = None
        self.stop_at = 0.0
        self.jobs = 0

    def attach(self, monitor: Monitor) -> None:
        self.jobs = sum(len(c.enabled_checks()) for c in monitor.status.channels.values())
        monitor.status.lateness = self.lateness
        monitor.scheduler.on_result = self.on_result
        self.start = time.monotonic()
        self.ru0 = resource.getrusage(resource.RUSAGE_SELF)

    def on_result(self, channel: ChannelConfig, result: CheckResult) -> None:
        self.done.setdefault((channel.name, result.check), time.monotonic() - self.start)
        outcome = {True: "ok", False: "failed", None: "unknown"}[result.success]
        self.outcomes[f"{result.check}/{outcome}"] += 1
        if result.success is not True:
            self.errors[f"{result.check}: {result.error[:60]}"] += 1

    def stopped(self) -> None:
        self.stop_at = time.monotonic()
        self.ru_stop = resource.getrusage(resource.RUSAGE_SELF)

    def result(self, config: Config, ended: float, loop: str) -> dict[str, Any]:
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        values = sorted(self.lateness.values)

        def cpu(a: Any, b: Any) -> float:
            return float((b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime))

        per_kind: Counter[str] = Counter(check for _, check in self.done)
        return {
            "jobs": self.jobs,
            "channels": len(config.channels),
            "wall": ended - self.start,
            "dispatch_wall": self.stop_at - self.start,
            "cpu": cpu(self.ru0, ru1),
            "dispatch_cpu": cpu(self.ru0, self.ru_stop),
            "cpu_user": ru1.ru_utime - self.ru0.ru_utime,
            "cpu_sys": ru1.ru_stime - self.ru0.ru_stime,
            "peak_rss_mb": ru1.ru_maxrss / 1024,
            "end_rss_mb": _rss_mb(),
            "checks": sum(self.outcomes.values()),
            "outcomes": dict(self.outcomes),
            "errors": dict(self.errors.most_common(8)),
            "completed_once": len(self.done),
            "completed_once_by_kind": dict(per_kind),
            "round_seconds": max(self.done.values())
            if len(self.done) == self.jobs and self.done
            else None,
            "lateness_n": len(values),
            "lateness_p50": _q(values, 0.50),
            "lateness_p99": _q(values, 0.99),
            "lateness_max": values[-1] if values else 0.0,
            "loop": loop,
        }


async def run_phase(spec: dict[str, Any]) -> dict[str, Any]:
    """open_monitor + Scheduler.run for the phase's time, no HTTP server."""
    t0, cpu0 = time.monotonic(), time.process_time()
    config = build_config(spec)
    rec = Recorder()
    async with open_monitor(
        config, state_path=spec["state_path"], first_run_spread=spec["spread"]
    ) as monitor:
        setup = {"seconds": time.monotonic() - t0, "cpu": time.process_time() - cpu0,
                 "rss_mb": _rss_mb()}  # fmt: skip
        rec.attach(monitor)
        task = asyncio.create_task(monitor.scheduler.run())
        await asyncio.sleep(spec["duration"])
        monitor.scheduler.stop()
        rec.stopped()
        await task  # running checks end (their own deadlines bound this)
        ended = time.monotonic()
    return {**rec.result(config, ended, _loop_name()), "setup": setup}


def run_deployment(spec: dict[str, Any]) -> None:
    """`zombie-probes serve`'s code path on a YAML config: after `duration` seconds the
    window's figures are printed and the process keeps serving until the parent ends it."""
    from probes.runtime.serve import run_monitor

    # Like `serve` (INFO, httpx quiet), into the log file the parent keeps.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s", filename=spec["log_path"])  # fmt: skip
    logging.getLogger("httpx").setLevel(logging.WARNING)
    t0, cpu0 = time.monotonic(), time.process_time()
    path = Path(spec["config_path"])
    # Block-style YAML as an operator writes it (libyaml's emitter, to keep setup short).
    path.write_text(yaml.dump(config_dict(spec), Dumper=yaml.CSafeDumper, allow_unicode=True,
                              sort_keys=False), encoding="utf-8")  # fmt: skip
    written = time.monotonic() - t0
    config = load_config(path) if spec.get("load") != "apart" else load_apart(path)
    setup = {"write_seconds": written, "seconds": time.monotonic() - t0,
             "cpu": time.process_time() - cpu0, "rss_mb": _rss_mb(),
             "config_bytes": path.stat().st_size, "peak_rss_mb": _status_mb("VmHWM")}  # fmt: skip
    # From here on VmHWM is the peak while serving (Linux: 5 resets the high-water mark to
    # the current RSS), so the start-up peak of reading the YAML is reported apart.
    Path("/proc/self/clear_refs").write_text("5")
    rec = Recorder()

    async def measure(monitor: Monitor) -> None:
        rec.attach(monitor)
        await asyncio.sleep(spec["duration"])
        rec.stopped()
        # The figures of the window, printed at once: the parent reads what Prometheus saw
        # while this process still serves, then ends it (checks queued behind a starved
        # loop could take minutes to drain and measure nothing).
        out = rec.result(config, time.monotonic(), _loop_name())
        out["serving_peak_rss_mb"] = _status_mb("VmHWM")
        print(json.dumps({**out, "setup": setup}), flush=True)
        await asyncio.sleep(3600)

    def ready(monitor: Monitor, address: str) -> None:
        print(f"READY {address}", flush=True)

    coro = run_monitor(
        config, path, listen=spec["listen"], state_path=spec["state_path"],
        first_run_spread=spec["spread"], extra=measure, on_ready=ready,
    )  # fmt: skip
    _run(coro, spec.get("uvloop", False))
    raise SystemExit("the deployment's run ended before its window did")


def load_apart(path: Path) -> Config:
    """The config read by `load_config` in a child process and handed over pickled, so the
    YAML's node tree and its garbage never live in this process (what a reload of a large
    file does; `serve` reads the file at start in its own process)."""
    code = ("import pickle, sys; from probes.config import load_config; "
            "sys.stdout.buffer.write(pickle.dumps(load_config(sys.argv[1]), 5))")  # fmt: skip
    child = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                           check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    config: Config = pickle.loads(child.stdout)  # our own child's answer over a pipe
    return config


def _run(coro: Any, uvloop: bool) -> str:
    if uvloop:
        import uvloop as uv

        uv.run(coro)
        return "uvloop"
    asyncio.run(coro)
    return "asyncio"


def _loop_name() -> str:
    return "uvloop" if "uvloop" in type(asyncio.get_running_loop()).__module__ else "asyncio"


def _q(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    if spec.get("serve"):
        run_deployment(spec)  # prints its result itself, then serves until killed
        return
    if spec.get("uvloop"):
        import uvloop

        result = uvloop.run(run_phase(spec))
    else:
        result = asyncio.run(run_phase(spec))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
