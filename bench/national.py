"""A national deployment on one machine, measured against prometheus-blackbox-exporter.

One run:

1. writes a simulated portal (`bench/national_portal.py`): 14,000 sites, each its own
   loopback host 127.a.b.c, with a 100-300 KB home page, five 100-300 KB column list pages
   and a board list page, served by nginx (Debian) from a few dozen files; 2 % of the
   sites answer after 4 s and 0.5 % never answer (a small asyncio server on another port);
2. the **availability ratio** (`ratio`, `--repeat` times in a row): every site's home
   page once in one round of `--round` s, by
   - `blackbox`: prometheus-blackbox-exporter (Debian), module `http_2xx` (status only),
     driven by `bench/national_bb.py` as a Prometheus with a job per target would;
   - `blackbox-phrases`: the same with the monitor's soft-error phrases as
     `fail_if_body_matches_regexp` (the work the monitor's check does);
   - `availability` / `availability-uvloop`: the monitor (`bench/national_monitor.py`,
     `open_monitor` + `Scheduler.run`, each in its own process) on asyncio's loop (what
     `serve` runs) and on uvloop;
   - `availability-plain` (not in `ratio`): the monitor without soft-error phrases;
   the exporter's CPU and peak RSS come from /proc, the monitor's from getrusage;
3. `freshness`, `board` (not in the defaults): `--kind-sites` sites, one round each, for
   the CPU per check of those kinds;
4. the **deployment** (`deployment`): every site with availability + 5-column freshness +
   board (28,000 channels, 42,000 checks) written as YAML and run by `serve`'s own code
   (`run_monitor`: scheduler, uvicorn, the /metrics refresher) while Debian's Prometheus
   scrapes `/metrics` every 30 s (timeout 10 s, as dashboards/prometheus.yml). Each check's
   first run falls at a uniform random point of its own interval, which is where the
   scheduler's runs sit in steady state, so from the first second checks arrive at the
   deployment's steady rate (the configured intervals: availability every
   `--national-interval` s, freshness and board every `--slow-interval` s). The run
   measures a slice of `--deployment-seconds` of it (default 600 s: every availability
   check runs twice, and the 1/6 of the freshness and board checks whose turn falls in
   it, chosen by the random phases); `--deployment-seconds` equal to `--slow-interval`
   runs the whole round, every check of every channel at least once. CPU seconds per hour
   at the configured rates is the window's CPU x 3600 / window;
5. prints the figures as Markdown (`--out FILE` also writes them).

    nice -n -10 python bench/national.py --repeat 2               # ratio twice + deployment
    nice -n -10 python bench/national.py --phases ratio --repeat 2
    nice -n -10 python bench/national.py --phases deployment --deployment-seconds 600
    python bench/national.py --sites 200 --round 5 --deployment-seconds 10   # smoke size

Needs nginx, prometheus-blackbox-exporter and prometheus (Debian), uvloop and, for
`--profile`, py-spy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from national_portal import COLUMN_CLASS, sites, write_pages  # noqa: E402
from national_report import report  # noqa: E402

from probes.pages.softerror import DEFAULT_SOFT_ERRORS  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_port(port: int, host: str = "127.0.0.1", seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {seconds:g}s")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class Services:
    """nginx, the slow-site server and blackbox_exporter, stopped on exit."""

    def __init__(self, work: Path, args: argparse.Namespace) -> None:
        self.work, self.args = work, args
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()

    def start(self, argv: list[str], port: int, log: str) -> subprocess.Popen[bytes]:
        if not port_free(port):
            raise SystemExit(f"port {port} is in use; pick others with --port/--slow-port/...")
        out = (self.work / log).open("wb")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        wait_port(port)
        return proc


def run_blackbox(
    work: Path, svc: Services, targets: list[str], module: str, args: argparse.Namespace
) -> dict[str, Any]:
    """One round of `/probe` for every target through a fresh exporter process."""
    (work / "bb.yml").write_text(bb_config())
    (work / "targets.txt").write_text("\n".join(targets))
    bb = svc.start(
        ["prometheus-blackbox-exporter", f"--config.file={work / 'bb.yml'}",
         f"--web.listen-address=127.0.0.1:{args.bb_port}", "--log.level=error"],
        args.bb_port, "blackbox.log",
    )  # fmt: skip
    time.sleep(0.5)
    cpu0 = cpu_seconds(bb.pid)
    driver = subprocess.run(
        [sys.executable, str(HERE / "national_bb.py"), f"http://127.0.0.1:{args.bb_port}",
         str(work / "targets.txt"), str(args.round), module],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    out: dict[str, Any] = json.loads(driver.stdout)
    out["cpu"] = cpu_seconds(bb.pid) - cpu0
    out["peak_rss_mb"] = peak_rss_mb(bb.pid)
    out["module"] = module
    version = subprocess.run(
        ["prometheus-blackbox-exporter", "--version"], capture_output=True, text=True, check=True
    )
    out["version"] = (version.stdout or version.stderr).splitlines()[0]
    bb.terminate()
    bb.wait()
    svc.procs.remove(bb)
    return out


def bb_config() -> str:
    """`http_2xx` as Debian ships it, and the same with the monitor's default soft-error
    phrases as body regexes (one regex per phrase, as an operator would write them)."""
    phrases = "".join(f"\n        - {json.dumps(re.escape(p))}" for p in DEFAULT_SOFT_ERRORS)
    return f"""modules:
  http_2xx:
    prober: http
    timeout: 15s
    http:
      preferred_ip_protocol: ip4
  http_2xx_phrases:
    prober: http
    timeout: 15s
    http:
      preferred_ip_protocol: ip4
      fail_if_body_matches_regexp:{phrases}
"""


def child_argv(path: Path, profile: bool, work: Path, phase: str) -> list[str]:
    argv = [sys.executable, str(HERE / "national_monitor.py"), str(path)]
    if profile:
        flame = work / f"{phase}.pyspy.txt"
        argv = ["py-spy", "record", "--nonblocking", "-r", "100", "-f", "raw",
                "-o", str(flame), "--", *argv]  # fmt: skip
    return argv


def last_json(stdout: str) -> dict[str, Any]:
    # py-spy writes its own lines to stdout too; the child's JSON is the line with "{".
    line = next(x for x in reversed(stdout.splitlines()) if x.startswith("{"))
    result: dict[str, Any] = json.loads(line)
    return result


def run_monitor(work: Path, phase: str, spec: dict[str, Any], profile: bool) -> dict[str, Any]:
    path = work / f"{phase}.json"
    spec["state_path"] = str(work / f"{phase}.db")
    path.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        child_argv(path, profile, work, phase), capture_output=True, text=True, env=env,
        check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{phase} run failed:\n{proc.stderr[-3000:]}")
    result = last_json(proc.stdout)
    if profile:
        result["profile"] = str(work / f"{phase}.pyspy.txt")
    return result


def run_deployment(
    work: Path, svc: Services, spec: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """`serve`'s code path in a child, Prometheus scraping it every 30 s meanwhile."""
    phase = "deployment"
    port, prom_port = free_port(), free_port()
    spec |= {"state_path": str(work / f"{phase}.db"), "listen": f"127.0.0.1:{port}",
             "config_path": str(work / "national.yaml"),
             "log_path": str(work / "serve.log")}  # fmt: skip
    path = work / f"{phase}.json"
    path.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    err = (work / "deployment.err").open("wb")
    child = subprocess.Popen(
        child_argv(path, args.profile, work, phase), stdout=subprocess.PIPE, stderr=err,
        text=True, env=env, start_new_session=True,
    )  # fmt: skip
    assert child.stdout is not None
    try:
        wait_for_line(child, "READY ", work)
        (work / "prometheus.yml").write_text(
            "global: {scrape_interval: 30s, evaluation_interval: 30s}\n"
            "scrape_configs:\n  - job_name: zombie-probes\n"
            "    scrape_interval: 30s\n    scrape_timeout: 10s\n    metrics_path: /metrics\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
        )
        prom = svc.start(
            ["prometheus", f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            prom_port, "prometheus.log",
        )  # fmt: skip
        prom_started = time.time()
        # The child prints its figures when the window ends, still serving.
        result = json.loads(wait_for_line(child, "{", work))
        stopped = time.time()
        window = max(30, int(stopped - prom_started))
        result["prometheus"] = prometheus_view(prom_port, window, stopped)
        result["prometheus"]["peak_rss_mb"] = peak_rss_mb(prom.pid)
        result["prometheus"]["cpu"] = cpu_seconds(prom.pid)
    finally:
        # The child, its page workers and uvicorn: one process group.
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    return result


def wait_for_line(child: subprocess.Popen[str], prefix: str, work: Path) -> str:
    """The child's next stdout line starting with `prefix` (py-spy's lines are skipped)."""
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith(prefix):
            return line[len(prefix) :] if prefix != "{" else line
    child.wait()
    raise RuntimeError(f"the deployment ended early: see {work / 'deployment.err'}")


def prometheus_view(port: int, window: int, at: float) -> dict[str, Any]:
    """What Prometheus saw of the monitor over the last `window` s before `at`."""
    base = f"http://127.0.0.1:{port}/api/v1/query?"

    def query(expr: str) -> float | None:
        url = base + urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
        with urllib.request.urlopen(url, timeout=30) as response:
            data = json.loads(response.read())["data"]["result"]
        return float(data[0]["value"][1]) if data else None

    w = f"[{window}s]"
    late = "zombie_scheduler_lateness_seconds_bucket"
    return {
        "window": window,
        "scrapes": query(f"count_over_time(up{w})"),
        "up_min": query(f"min_over_time(up{w})"),
        "duration_avg": query(f"avg_over_time(scrape_duration_seconds{w})"),
        "duration_max": query(f"max_over_time(scrape_duration_seconds{w})"),
        "samples": query("scrape_samples_scraped"),
        "lateness_p99_histogram": query(
            f"histogram_quantile(0.99, sum by (le) (increase({late}{w})))"
        ),
        "monitor_cpu_rate": query(f"rate(process_cpu_seconds_total{w})"),
        "monitor_rss_max_mb": (query(f"max_over_time(process_resident_memory_bytes{w})") or 0)
        / 2**20,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


RATIO = ("blackbox", "availability", "blackbox-phrases", "availability-uvloop")
ALL = (*RATIO, "availability-plain", "freshness", "board", "deployment")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, default=14000)
    p.add_argument("--round", type=float, default=60.0, help="availability round, seconds")
    p.add_argument("--repeat", type=int, default=1, help="run the availability ratio N times")
    p.add_argument("--kind-sites", type=int, default=700,
                   help="sites in the freshness and board phases (one round each)")  # fmt: skip
    p.add_argument("--national-interval", type=float, default=300.0,
                   help="availability interval of the deployment")  # fmt: skip
    p.add_argument("--slow-interval", type=float, default=3600.0,
                   help="freshness and board interval of the deployment")  # fmt: skip
    p.add_argument("--deployment-seconds", type=float, default=600.0,
                   help="the deployment's measured window "
                   "(its --slow-interval: a whole round)")  # fmt: skip
    p.add_argument("--deployment-uvloop", action="store_true",
                   help="run the deployment on uvloop (serve runs asyncio's loop)")  # fmt: skip
    p.add_argument("--start-load", choices=("serve", "apart"), default="serve",
                   help="how the deployment reads its YAML: in its own process as `serve` "
                   "does, or in a child process handing the config over pickled")  # fmt: skip
    p.add_argument("--phases", default="ratio,deployment",
                   help=f"comma-separated, of {', '.join(ALL)}; "
                   f"`ratio` = {', '.join(RATIO)}")  # fmt: skip
    p.add_argument("--slow", type=float, default=0.02, help="share of sites answering in 4 s")
    p.add_argument("--timeouts", type=float, default=0.005, help="share never answering")
    # 2.5 % slow or dead sites hold a slot for 4-15 s: at 233 checks/s they alone keep
    # about 40 checks in flight, so the default of 64 would make lateness a queue.
    p.add_argument("--max-in-flight", type=int, default=256)
    p.add_argument("--transport", help="global.http_transport of the monitor (default: its own)")
    p.add_argument("--profile", action="store_true", help="py-spy every monitor phase")
    p.add_argument("--port", type=int, default=18090)
    p.add_argument("--slow-port", type=int, default=18091)
    p.add_argument("--bb-port", type=int, default=19116)
    p.add_argument("--out", type=Path, help="also write the Markdown report here")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    phases = [x for name in args.phases.split(",") for x in (RATIO if name == "ratio" else [name])]
    unknown = set(phases) - set(ALL)
    if unknown:
        p.error(f"unknown phases: {', '.join(sorted(unknown))}")

    work = Path(tempfile.mkdtemp(prefix="national-"))
    work.chmod(0o755)  # nginx workers run as another user and must read the pages
    www = work / "www"
    t0 = time.monotonic()
    sizes = write_pages(www)
    all_sites = sites(args.sites, args.port, args.slow_port, args.slow, args.timeouts)
    (work / "nginx.conf").write_text(nginx_conf_text(work, www, args.port))
    results: dict[str, Any] = {"generate_seconds": time.monotonic() - t0, "pages": sizes,
                               "runs": []}  # fmt: skip
    with Services(work, args) as svc:
        svc.start([nginx_binary(), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
                  args.port, "nginx.log")  # fmt: skip
        svc.start([sys.executable, str(HERE / "national_portal.py"), str(www),
                   str(args.slow_port)], args.slow_port, "slow.log")  # fmt: skip
        targets = [f"{s.base}/" for s in all_sites]
        glob: dict[str, Any] = {"timeout": "15s", "max_in_flight": args.max_in_flight,
                                "per_host_concurrency": 2, "history_retention": "7d"}  # fmt: skip
        if args.transport:
            glob["http_transport"] = args.transport
        base = {"global": glob, "columns": COLUMN_CLASS}
        site_dicts = [{"n": s.n, "base": s.base, "fresh": True} for s in all_sites]
        few = site_dicts[: args.kind_sites]
        one_round = {
            "availability": (["availability"], site_dicts, True, False),
            "availability-uvloop": (["availability"], site_dicts, True, True),
            "availability-plain": (["availability"], site_dicts, False, False),
            "freshness": (["freshness"], few, True, False),
            "board": (["board"], few, True, False),
        }
        ratio = [x for x in phases if x in RATIO or x == "availability-plain"]
        for _ in range(args.repeat if ratio else 0):
            run: dict[str, Any] = {"started": time.strftime("%H:%M:%S", time.gmtime())}
            for phase in ratio:
                print(f"{phase} ...", file=sys.stderr, flush=True)
                if phase.startswith("blackbox"):
                    module = "http_2xx_phrases" if phase == "blackbox-phrases" else "http_2xx"
                    run[phase] = run_blackbox(work, svc, targets, module, args)
                    continue
                kinds, chosen, soft, uv = one_round[phase]
                spec = {**base, "kinds": kinds, "sites": chosen, "duration": args.round,
                        "spread": args.round, "interval": dict.fromkeys(kinds, args.round),
                        "soft_errors": soft, "uvloop": uv}  # fmt: skip
                run[phase] = run_monitor(work, phase, spec, args.profile)
            run["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
            results["runs"].append(run)
        for phase in ("freshness", "board"):
            if phase in phases:
                print(f"{phase} ...", file=sys.stderr, flush=True)
                kinds, chosen, soft, uv = one_round[phase]
                spec = {**base, "kinds": kinds, "sites": chosen, "duration": args.round,
                        "spread": args.round, "interval": dict.fromkeys(kinds, args.round),
                        "soft_errors": soft, "uvloop": uv}  # fmt: skip
                results[phase] = run_monitor(work, phase, spec, args.profile)
        if "deployment" in phases:
            print("deployment ...", file=sys.stderr, flush=True)
            spec = {
                **base, "kinds": ["availability", "freshness", "board"], "sites": site_dicts,
                "duration": args.deployment_seconds, "spread": args.slow_interval,
                "interval": {"availability": args.national_interval,
                             "freshness": args.slow_interval,
                             "board": args.slow_interval},
                "serve": True, "uvloop": args.deployment_uvloop, "load": args.start_load,
            }  # fmt: skip
            results["deployment"] = run_deployment(work, svc, spec, args)
    results["machine"] = machine()
    results["command"] = "python " + " ".join(["bench/national.py", *sys.argv[1:]])
    (work / "results.json").write_text(json.dumps(results, indent=1))
    text = report(results, args)
    print(text)
    if args.out:
        args.out.write_text(text)
    if args.keep or args.profile:
        print(f"work directory: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


def nginx_binary() -> str:
    """nginx from PATH or Debian's /usr/sbin (not on a plain user's PATH)."""
    return shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_conf_text(work: Path, www: Path, port: int) -> str:
    from national_portal import nginx_conf

    return nginx_conf(work, www, port)


def machine() -> dict[str, Any]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown",
    )  # fmt: skip
    load = Path("/proc/loadavg").read_text().split()[:3]
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "loadavg_at_end": " ".join(load)}  # fmt: skip


if __name__ == "__main__":
    main()
