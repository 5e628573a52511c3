"""`/metrics` of the national configuration: render CPU, body size, series and event-loop
blocking, in-process, then optionally with a real Prometheus scraping it.

1. Builds the national configuration of `bench/national.py` (14,000 sites: a website
   channel with availability and 5-column freshness and a board channel each: 28,000
   channels, 42,000 checks) with the same models `serve` loads, and opens the monitor with
   `open_monitor`.
2. Runs the real checks once for one site of each of the national portal's 10 page
   variants (served by `bench/national_portal.py`'s page server on a local port) and for a
   site whose port is closed, then gives every national check a copy of its variant's
   result (2.5 % of the sites the failing one, as in `national.py`), recorded through
   `MonitorStatus.record` and judged by the runner's `judge_latest`: every check holds a
   real result, every channel a real verdict.
3. Scrapes with `Monitor.metrics()` while a ticker task measures how long the event loop
   was held (the largest gap between its 1 ms sleeps, minus the sleep): the first scrape
   (every channel rendered), then rounds of "30 s of national results" (availability every
   5 min and freshness and board every hour: 1,633 results re-recorded and judged) each
   followed by a scrape, then the same with `?detail=true`, then with
   `global.metrics_detail` on (detail kept current). CPU is `time.process_time()` around
   the scrape, which is all this process does at that moment apart from the ticker.
4. `--prometheus SECONDS`: serves the monitor's real app (`build_app`, uvicorn, as `serve`
   does) and feeds national-rate results for SECONDS without a scraper, then SECONDS more
   with Debian's `prometheus` scraping `/metrics` every `--scrape-interval` s; reports
   Prometheus' own `scrape_duration_seconds` and `scrape_samples_scraped`, the loop's
   largest hold in each half, and the extra CPU per scrape (CPU with the scraper minus CPU
   without, divided by the scrapes).

    nice python bench/bench_scrape.py --rounds 10
    nice python bench/bench_scrape.py --rounds 5 --prometheus 60 --scrape-interval 5
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from national_monitor import build_config  # noqa: E402
from national_portal import COLUMN_CLASS, VARIANTS, host_of, write_pages  # noqa: E402

from probes.config import ChannelConfig  # noqa: E402
from probes.model import CheckResult  # noqa: E402
from probes.runtime.collector import ZombieCollector  # noqa: E402
from probes.runtime.exposition import Exposition  # noqa: E402
from probes.runtime.monitor import Monitor, open_monitor  # noqa: E402
from probes.runtime.runner import judge_latest, run_check  # noqa: E402

FAILING_EVERY = 40  # 2.5 % of the sites: national.py's slow (2 %) and dead (0.5 %) sites


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A helper process (the page server, Prometheus), its output in `log`."""
    return subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def peak_rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Ticker:
    """Sleeps 1 ms at a time and keeps every wake-up: a late wake-up is the loop held by
    something else, in wall time (which includes the OS giving the CPU to other processes
    on this shared machine) and in this thread's CPU time (the work that held it)."""

    def __init__(self) -> None:
        self.ticks: list[tuple[float, float, float, float]] = []  # due, woke, cpu0, cpu1
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            due, cpu = time.perf_counter() + 0.001, time.thread_time()
            await asyncio.sleep(0.001)
            self.ticks.append((due, time.perf_counter(), cpu, time.thread_time()))
            if len(self.ticks) > 100_000:
                del self.ticks[:50_000]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def held(self, since: float, until: float) -> tuple[float, float]:
        """The longest hold (wall, CPU) of the loop that ended within [since, until]."""
        wall = cpu = 0.0
        for due, woke, cpu0, cpu1 in self.ticks:
            if since < woke <= until:
                wall = max(wall, woke - max(due, since))
                cpu = max(cpu, cpu1 - cpu0 - 0.0001)  # less the ticker's own few µs
        return wall, cpu


class GcPauses:
    """Every pass of the cyclic garbage collector: (generation, seconds, when it ended)."""

    def __init__(self) -> None:
        self.passes: list[tuple[int, float, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
        else:
            self.passes.append((info["generation"], now - self._started, now))

    def worst(self, since: float, until: float) -> tuple[int, float]:
        within = [(d, g) for g, d, end in self.passes if since < end <= until]
        duration, gen = max(within, default=(0.0, -1))
        return gen, duration


GC = GcPauses()


@dataclass
class Body:
    """What a scraper received, counted piece by piece as it arrives (no copy of the body)."""

    size: int = 0
    series: int = 0


async def measure(ticker: Ticker, scrape: Callable[[], Awaitable[Body]]) -> dict[str, Any]:
    await asyncio.sleep(0.005)  # the ticker's wake-up after the bench's own work
    wall0, cpu0 = time.perf_counter(), time.process_time()
    body = await scrape()
    cpu, wall1 = time.process_time() - cpu0, time.perf_counter()
    await asyncio.sleep(0.005)  # the ticker's wake-up after the last slice
    held, held_cpu = ticker.held(wall0, time.perf_counter())
    gc_gen, gc_pause = GC.worst(wall0, time.perf_counter())
    return {"cpu": cpu, "wall": wall1 - wall0, "loop_max": held, "loop_max_cpu": held_cpu,
            "gc_max": gc_pause, "gc_gen": gc_gen, "bytes": body.size,
            "series": body.series}  # fmt: skip


async def scrape(monitor: Monitor, detail: bool | None = None) -> Body:
    """What a scraper receives: every piece of the streamed body (every piece ends a line)."""
    body = Body()
    async for piece in monitor.metrics(detail):
        comments = piece.count(b"\n#") + piece.startswith(b"#")
        body.size += len(piece)
        body.series += piece.count(b"\n") - comments
    return body


class National:
    """The national configuration with a real result for every check."""

    def __init__(self, monitor: Monitor, samples: dict[int, dict[str, CheckResult]]) -> None:
        self.monitor = monitor
        self.samples = samples
        self.rng = random.Random(1)
        self.checks = [
            (channel, check) for channel in monitor.status.channels.values()
            for check, _ in channel.enabled_checks()
        ]  # fmt: skip

    def variant(self, channel: ChannelConfig) -> int:
        n = int(channel.name.removeprefix("site").removeprefix("board"))
        return -1 if n % FAILING_EVERY == FAILING_EVERY // 2 else n % VARIANTS

    def record(self, channel: ChannelConfig, check: str) -> None:
        """A copy of its variant's result for one check, recorded and judged."""
        sample = self.samples[self.variant(channel)][check]
        now = time.time()
        result = dataclasses.replace(
            sample, started=now - self.rng.uniform(0, 1), duration=self.rng.uniform(0.05, 2)
        )
        st = self.monitor.status
        st.record(channel.name, result)
        latest = {c: st.results[(channel.name, c)] for c, _ in channel.enabled_checks()
                  if (channel.name, c) in st.results}  # fmt: skip
        st.verdicts[channel.name] = judge_latest(self.monitor.rt, channel, latest)

    def fill(self) -> None:
        for channel, check in self.checks:
            self.record(channel, check)

    def thirty_seconds(self, rates: dict[str, float]) -> int:
        """The results 30 s of the deployment's schedule bring (each check once per interval)."""
        n = 0
        for channel, check in self.checks:
            if self.rng.random() < 30.0 / rates[check]:
                self.record(channel, check)
                n += 1
        return n


async def sample_results(
    monitor: Monitor, portal_port: int, closed_port: int
) -> dict[int, dict[str, CheckResult]]:
    """Real results of every check for one site per page variant and for a dead site."""
    by_name = monitor.status.channels
    out: dict[int, dict[str, CheckResult]] = {}
    for v in [*range(VARIANTS), -1]:
        n = v if v >= 0 else 10_000_000 + FAILING_EVERY // 2
        port = portal_port if v >= 0 else closed_port
        base = f"http://{host_of(v if v >= 0 else 0)}:{port}/s{n}"
        results: dict[str, CheckResult] = {}
        for template in (by_name["site0"], by_name["board0"]):
            url = f"{base}/" if template.kind == "website" else f"{base}/board/list"
            channel = _rebase(template, base, url)
            for check, spec in channel.enabled_checks():
                results[check] = await run_check(monitor.rt, channel, check, spec)
        out[v] = results
    return out


def _rebase(channel: ChannelConfig, base: str, url: str) -> ChannelConfig:
    data = channel.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["url"] = url
    for col in data["checks"].get("freshness", {}).get("columns", []):
        col["url"] = f"{base}/{col['id']}/"
    if "board" in data["checks"]:
        data["checks"]["board"].pop("url", None)
    return ChannelConfig.model_validate(data)


def spread(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


async def in_process(nat: National, args: argparse.Namespace) -> dict[str, Any]:
    monitor, ticker = nat.monitor, Ticker()
    ticker.start()
    rates = {"availability": args.availability_interval, "freshness": args.slow_interval,
             "board": args.slow_interval}  # fmt: skip
    out: dict[str, Any] = {}
    out["first"] = await measure(ticker, lambda: scrape(monitor))
    out["rss_after_first_mb"] = rss_mb()
    out["unchanged"] = await measure(ticker, lambda: scrape(monitor))
    steady, steady_detail, changed = [], [], []
    for _ in range(args.rounds):
        changed.append(nat.thirty_seconds(rates))
        steady.append(await measure(ticker, lambda: scrape(monitor)))
    for _ in range(max(1, args.rounds // 3)):
        nat.thirty_seconds(rates)
        steady_detail.append(await measure(ticker, lambda: scrape(monitor, detail=True)))
    out["steady"], out["asked_detail"], out["changed_per_round"] = steady, steady_detail, changed
    # global.metrics_detail on: the detail kept current as well.
    kept = Exposition(ZombieCollector(monitor.status, monitor.ingest), detail=True)
    monitor.exposition = kept
    monitor.status.dirty.update(monitor.status.channels)
    out["kept_first"] = await measure(ticker, lambda: scrape(monitor))
    out["rss_kept_detail_mb"] = rss_mb()
    out["kept_steady"] = []
    for _ in range(max(1, args.rounds // 3)):
        nat.thirty_seconds(rates)
        out["kept_steady"].append(await measure(ticker, lambda: scrape(monitor)))
    return out


async def with_prometheus(nat: National, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The real app under uvicorn, national-rate results, then Prometheus scraping it."""
    import uvicorn

    from probes.runtime.endpoints import build_app

    monitor, ticker = nat.monitor, Ticker()
    port, prom_port = free_port(), free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(monitor), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))  # fmt: skip
    serving = asyncio.create_task(server.serve())
    rates = {"availability": args.availability_interval, "freshness": args.slow_interval,
             "board": args.slow_interval}  # fmt: skip
    per_second = sum(1 / rates[check] for _, check in nat.checks)

    async def feed() -> None:
        """The results the scheduler would record, ten batches a second."""
        while True:
            for _ in range(max(1, round(per_second / 10))):
                nat.record(*nat.rng.choice(nat.checks))
            await asyncio.sleep(0.1)

    feeder = asyncio.create_task(feed())
    refresher = asyncio.create_task(monitor.exposition.keep_current(monitor.rt.clock))
    ticker.start()
    await asyncio.sleep(2)

    def cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime

    c0, t0 = cpu(), time.perf_counter()
    await asyncio.sleep(args.prometheus)
    quiet_cpu, quiet_loop = cpu() - c0, ticker.held(t0, time.perf_counter())
    # A plain HTTP client (curl in its own process) fetching /metrics: the monitor's side of
    # a scrape without Prometheus' ingest.
    fetches = []
    for _ in range(3):
        curl = await asyncio.create_subprocess_exec(
            "curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{size_download}",
            f"http://127.0.0.1:{port}/metrics", stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        c, w = cpu(), time.perf_counter()
        seconds, size = (await curl.communicate())[0].decode().split()
        fetches.append({"seconds": float(seconds), "bytes": int(size), "cpu": cpu() - c,
                        "loop": ticker.held(w, time.perf_counter())})  # fmt: skip
        await asyncio.sleep(1)
    (work / "prometheus.yml").write_text(
        f"global: {{scrape_interval: {args.scrape_interval}s}}\n"
        "scrape_configs:\n  - job_name: zombie-probes\n"
        f"    scrape_interval: {args.scrape_interval}s\n"
        f"    scrape_timeout: {min(args.scrape_interval, 10)}s\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    prom = start(
        ["prometheus", f"--config.file={work / 'prometheus.yml'}",
         f"--storage.tsdb.path={work / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}",
         "--log.level=warn"],
        work / "prometheus.log",
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                ready = f"http://127.0.0.1:{prom_port}/-/ready"
                await asyncio.to_thread(urllib.request.urlopen, ready, timeout=2)
                break
            except OSError as exc:
                if prom.poll() is not None:
                    raise SystemExit(f"prometheus exited: see {work / 'prometheus.log'}") from exc
                await asyncio.sleep(0.1)
        c1, t1 = cpu(), time.perf_counter()
        await asyncio.sleep(args.prometheus)
        scraped_cpu, scraped_loop = cpu() - c1, ticker.held(t1, time.perf_counter())
        base = f"http://127.0.0.1:{prom_port}/api/v1/query?"

        def query(expr: str) -> list[float]:
            url = base + urllib.parse.urlencode({"query": expr})
            with urllib.request.urlopen(url, timeout=10) as response:
                data = json.loads(response.read())["data"]["result"]
            return [float(r["value"][1]) for r in data]

        window = f"[{int(args.prometheus)}s]"
        scrapes = query(f"count_over_time(up{window})")
        out = {
            "scrapes": scrapes[0] if scrapes else 0,
            "up_min": (query(f"min_over_time(up{window})") or [0])[0],
            "duration_max": (query(f"max_over_time(scrape_duration_seconds{window})") or [0])[0],
            "duration_avg": (query(f"avg_over_time(scrape_duration_seconds{window})") or [0])[0],
            "samples": (query("scrape_samples_scraped") or [0])[0],
            "quiet_cpu_per_s": quiet_cpu / args.prometheus,
            "scraped_cpu_per_s": scraped_cpu / args.prometheus,
            "loop_max_quiet": quiet_loop,
            "loop_max_scraped": scraped_loop,
            "gc_max_quiet": GC.worst(t0, t1)[1],
            "gc_max_scraped": GC.worst(t1, time.perf_counter())[1],
            "results_per_s": per_second,
            "curl": fetches,
        }
        out["cpu_per_scrape"] = (scraped_cpu - quiet_cpu) / max(1.0, out["scrapes"])
        out["prometheus_rss_mb"] = peak_rss_of(prom.pid)
        return out
    finally:
        prom.terminate()
        prom.wait()
        feeder.cancel()
        refresher.cancel()
        server.should_exit = True
        await serving


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-scrape-"))
    write_pages(work / "www")
    portal_port, closed_port = free_port(), free_port()
    portal = start(
        [sys.executable, str(HERE / "national_portal.py"), str(work / "www"), str(portal_port),
         "--slow-delay", "0"],
        work / "portal.log",
    )  # fmt: skip
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", portal_port)) == 0:
                    break
            await asyncio.sleep(0.05)
        spec = {
            "global": {"timeout": "15s", "history_retention": "7d"},
            "columns": COLUMN_CLASS, "kinds": ["availability", "freshness", "board"],
            "sites": [{"n": n, "base": f"http://{host_of(n)}:{portal_port}/s{n}", "fresh": True}
                      for n in range(args.sites)],
            "interval": {"availability": args.availability_interval,
                         "freshness": args.slow_interval, "board": args.slow_interval},
        }  # fmt: skip
        t0 = time.perf_counter()
        config = build_config(spec)
        rss0 = rss_mb()
        async with open_monitor(config, state_path=str(work / "state.db")) as monitor:
            samples = await sample_results(monitor, portal_port, closed_port)
            nat = National(monitor, samples)
            nat.fill()
            out: dict[str, Any] = {
                "channels": len(monitor.status.channels), "checks": len(nat.checks),
                "setup_seconds": time.perf_counter() - t0,
                "rss_config_mb": rss0, "rss_filled_mb": rss_mb(),
                "loop": type(asyncio.get_running_loop()).__module__,
            }  # fmt: skip
            out |= await in_process(nat, args)
            monitor.exposition = Exposition(ZombieCollector(monitor.status, monitor.ingest))
            monitor.status.dirty.update(monitor.status.channels)
            await scrape(monitor)
            if args.prometheus:
                out["prometheus"] = await with_prometheus(nat, args, work)
            out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            return out
    finally:
        portal.terminate()
        portal.wait()
        shutil.rmtree(work, ignore_errors=True)


def report(r: dict[str, Any], command: str) -> str:
    def row(name: str, runs: list[dict[str, Any]]) -> str:
        return (f"| {name} | {len(runs)} | {spread([x['cpu'] for x in runs])} | "
                f"{spread([x['wall'] for x in runs])} | "
                f"{spread([x['loop_max'] * 1000 for x in runs], 0)} | "
                f"{spread([x['loop_max_cpu'] * 1000 for x in runs], 0)} | "
                f"{spread([x['gc_max'] * 1000 for x in runs], 0)} "
                f"(gen {max(x['gc_gen'] for x in runs)}) | "
                f"{runs[0]['series']:,} | {runs[0]['bytes'] / 1e6:.1f} |")  # fmt: skip

    lines = [
        f"`{command}`: {r['channels']:,} channels, {r['checks']:,} checks, loop {r['loop']}, "
        f"load average {Path('/proc/loadavg').read_text().split()[0]} at the end; "
        f"results re-recorded per 30 s round: {spread([float(x) for x in r['changed_per_round']])}",
        "",
        "| scrape | runs | CPU s (min / median / max) | wall s | loop held, ms wall | "
        "loop held, ms CPU | longest GC pass, ms | series | MB |",
        "|---|---|---|---|---|---|---|---|---|",
        row("first after start (every channel rendered)", [r["first"]]),
        row("nothing changed", [r["unchanged"]]),
        row("after 30 s of national results (default: headline)", r["steady"]),
        row("same, `?detail=true` (detail rendered for the scrape)", r["asked_detail"]),
        row("`metrics_detail: true`, first (everything rendered)", [r["kept_first"]]),
        row("`metrics_detail: true`, after 30 s of results", r["kept_steady"]),
        "",
        f"RSS: {r['rss_config_mb']:.0f} MB with the config loaded, {r['rss_filled_mb']:.0f} MB "
        f"with every result and verdict, {r['rss_after_first_mb']:.0f} MB with the headline "
        f"text kept, {r['rss_kept_detail_mb']:.0f} MB with the detail kept as well; "
        f"peak {r['peak_rss_mb']:.0f} MB.",
    ]
    p = r.get("prometheus")
    if p:
        lines += [
            "",
            f"Prometheus scraping: {p['scrapes']:.0f} scrapes, up min {p['up_min']:.0f}, "
            f"scrape_duration_seconds avg {p['duration_avg']:.3f} max {p['duration_max']:.3f}, "
            f"{p['samples']:,.0f} samples a scrape; monitor CPU {p['quiet_cpu_per_s']:.3f} s/s "
            f"without a scraper and {p['scraped_cpu_per_s']:.3f} s/s with it "
            f"({p['cpu_per_scrape']:.3f} s per scrape, results fed at "
            f"{p['results_per_s']:.1f}/s); loop held at most "
            f"{p['loop_max_quiet'][0] * 1000:.0f} ms wall / "
            f"{p['loop_max_quiet'][1] * 1000:.0f} ms CPU without and "
            f"{p['loop_max_scraped'][0] * 1000:.0f} ms wall / "
            f"{p['loop_max_scraped'][1] * 1000:.0f} ms CPU with the scraper (longest GC pass "
            f"{p['gc_max_quiet'] * 1000:.0f} and {p['gc_max_scraped'] * 1000:.0f} ms); "
            f"Prometheus peak RSS {p['prometheus_rss_mb']:.0f} MB.",
            "",
            "curl fetching /metrics from the served app (feeder and refresher running): "
            + "; ".join(
                f"{f['seconds']:.2f} s, {f['bytes'] / 1e6:.1f} MB, monitor CPU "
                f"{f['cpu']:.3f} s, loop held {f['loop'][0] * 1000:.0f} ms wall / "
                f"{f['loop'][1] * 1000:.0f} ms CPU"
                for f in p["curl"]
            ),
        ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, default=14000)
    p.add_argument("--rounds", type=int, default=10, help="30 s rounds of results + scrape")
    p.add_argument("--availability-interval", type=float, default=300.0)
    p.add_argument("--slow-interval", type=float, default=3600.0,
                   help="freshness and board interval")  # fmt: skip
    p.add_argument("--prometheus", type=float, default=0.0,
                   help="seconds without, then with, a real Prometheus scraping")  # fmt: skip
    p.add_argument("--scrape-interval", type=int, default=5, help="seconds")
    p.add_argument("--uvloop", action="store_true")
    p.add_argument("--json", type=Path, help="also write the raw figures here")
    args = p.parse_args()
    if args.uvloop:
        import uvloop

        result = uvloop.run(main_async(args))
    else:
        result = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(report(result, "python " + " ".join(["bench/bench_scrape.py", *sys.argv[1:]])))
    print(f"(nice {os.nice(0)})", file=sys.stderr)


if __name__ == "__main__":
    main()
