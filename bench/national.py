"""A national deployment on one machine, measured against prometheus-blackbox-exporter.

One run:

1. writes a simulated portal (`bench/national_portal.py`): 14,000 sites, each its own
   loopback host 127.a.b.c, with a 100-300 KB home page, five 100-300 KB column list pages
   and a board list page, served by nginx (Debian) from a few dozen files; 2 % of the
   sites answer after 4 s and 0.5 % never answer (a small asyncio server on another port);
2. runs prometheus-blackbox-exporter (Debian) on the sites' home pages, every target
   once in one round (`--round` s), driven by `bench/national_bb.py`; reads the
   exporter's CPU and peak RSS from /proc;
3. runs the monitor (`bench/national_monitor.py`, in-process `open_monitor` +
   `Scheduler.run`, one child process per phase) in phases:
   - `availability`: every site, availability only, one round at the same rate;
   - `availability-plain` (not run by default): the same without soft-error phrases, the
     work blackbox_exporter's `http_2xx` does (it never reads the page's text);
   - `freshness`: `--kind-sites` sites, freshness with 5 columns, one round;
   - `board`: `--kind-sites` sites, board, one round;
   - `national`: every site with availability + freshness + board configured
     (28,000 channels, 42,000 checks), availability every `--national-interval` s
     (default 5 min; config/example.yaml uses 30 min) and freshness and board every
     `--slow-interval` s (default 1 h; the example uses 6 h and 1 d), first runs spread
     over the interval, for `--national-seconds`: the peak RSS, lateness and checks/s of
     the whole deployment at a sustainable rate;
4. prints the figures as Markdown (`--out FILE` also writes them).

    python bench/national.py                      # the full run, about 7 minutes
    python bench/national.py --sites 2000 --round 20 --kind-sites 100 --national-seconds 20
    python bench/national.py --phases availability --profile   # py-spy flame data

Needs nginx, prometheus-blackbox-exporter (Debian), uvloop and, for `--profile`, py-spy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from national_portal import COLUMN_CLASS, sites, write_pages  # noqa: E402
from national_report import report  # noqa: E402

BB_CONFIG = """modules:
  http_2xx:
    prober: http
    timeout: 15s
    http:
      preferred_ip_protocol: ip4
"""


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
    work: Path, svc: Services, targets: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    (work / "bb.yml").write_text(BB_CONFIG)
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
         str(work / "targets.txt"), str(args.round)],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    out: dict[str, Any] = json.loads(driver.stdout)
    out["cpu"] = cpu_seconds(bb.pid) - cpu0
    out["peak_rss_mb"] = peak_rss_mb(bb.pid)
    version = subprocess.run(
        ["prometheus-blackbox-exporter", "--version"], capture_output=True, text=True, check=True
    )
    out["version"] = (version.stdout or version.stderr).splitlines()[0]
    bb.terminate()
    bb.wait()
    svc.procs.remove(bb)
    return out


def run_monitor(work: Path, phase: str, spec: dict[str, Any], profile: bool) -> dict[str, Any]:
    path = work / f"{phase}.json"
    spec["state_path"] = str(work / f"{phase}.db")
    path.write_text(json.dumps(spec))
    argv = [sys.executable, str(HERE / "national_monitor.py"), str(path)]
    if profile:
        flame = work / f"{phase}.pyspy.txt"
        argv = ["py-spy", "record", "--nonblocking", "-r", "100", "-f", "raw",
                "-o", str(flame), "--", *argv]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{phase} run failed:\n{proc.stderr[-3000:]}")
    # py-spy writes its own lines to stdout too; the child's JSON is the line with "{".
    line = next(x for x in reversed(proc.stdout.splitlines()) if x.startswith("{"))
    result: dict[str, Any] = json.loads(line)
    if profile:
        result["profile"] = str(work / f"{phase}.pyspy.txt")
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, default=14000)
    p.add_argument("--round", type=float, default=60.0, help="availability round, seconds")
    p.add_argument("--kind-sites", type=int, default=700,
                   help="sites in the freshness and board phases (one round each)")  # fmt: skip
    p.add_argument("--national-interval", type=float, default=300.0,
                   help="availability interval in the national phase")  # fmt: skip
    p.add_argument("--slow-interval", type=float, default=3600.0,
                   help="freshness and board interval in the national phase")  # fmt: skip
    p.add_argument("--national-seconds", type=float, default=90.0)
    p.add_argument("--phases", default="blackbox,availability,freshness,board,national")
    p.add_argument("--slow", type=float, default=0.02, help="share of sites answering in 4 s")
    p.add_argument("--timeouts", type=float, default=0.005, help="share never answering")
    # 2.5 % slow or dead sites hold a slot for 4-15 s: at 233 checks/s they alone keep
    # about 40 checks in flight, so the default of 64 would make lateness a queue.
    p.add_argument("--max-in-flight", type=int, default=256)
    p.add_argument("--no-uvloop", action="store_true", help="run the monitor on asyncio's loop")
    p.add_argument("--profile", action="store_true", help="py-spy every monitor phase")
    p.add_argument("--port", type=int, default=18090)
    p.add_argument("--slow-port", type=int, default=18091)
    p.add_argument("--bb-port", type=int, default=19116)
    p.add_argument("--out", type=Path, help="also write the Markdown report here")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    phases = args.phases.split(",")

    work = Path(tempfile.mkdtemp(prefix="national-"))
    work.chmod(0o755)  # nginx workers run as another user and must read the pages
    www = work / "www"
    t0 = time.monotonic()
    sizes = write_pages(www)
    all_sites = sites(args.sites, args.port, args.slow_port, args.slow, args.timeouts)
    (work / "nginx.conf").write_text(nginx_conf_text(work, www, args.port))
    results: dict[str, Any] = {"generate_seconds": time.monotonic() - t0, "pages": sizes}
    with Services(work, args) as svc:
        svc.start(["nginx", "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
                  args.port, "nginx.log")  # fmt: skip
        svc.start([sys.executable, str(HERE / "national_portal.py"), str(www),
                   str(args.slow_port)], args.slow_port, "slow.log")  # fmt: skip
        targets = [f"{s.base}/" for s in all_sites]
        if "blackbox" in phases:
            print("blackbox_exporter ...", file=sys.stderr, flush=True)
            results["blackbox"] = run_blackbox(work, svc, targets, args)
        base = {
            "global": {"timeout": "15s", "max_in_flight": args.max_in_flight,
                       "per_host_concurrency": 2, "history_retention": "7d"},
            "columns": COLUMN_CLASS,
            "uvloop": not args.no_uvloop,
        }  # fmt: skip
        site_dicts = [{"n": s.n, "base": s.base, "fresh": True} for s in all_sites]
        few = site_dicts[: args.kind_sites]
        plans = {
            "availability": (["availability"], site_dicts, args.round, args.round),
            "freshness": (["freshness"], few, args.round, args.round),
            "board": (["board"], few, args.round, args.round),
        }
        plans["availability-plain"] = plans["availability"]
        for phase in ("availability", "availability-plain", "freshness", "board"):
            if phase not in phases:
                continue
            kinds, chosen, every, duration = plans[phase]
            print(f"monitor: {phase} ...", file=sys.stderr, flush=True)
            spec = {**base, "kinds": kinds, "sites": chosen, "duration": duration,
                    "spread": every, "interval": dict.fromkeys(kinds, every),
                    "soft_errors": phase != "availability-plain"}  # fmt: skip
            results[phase] = run_monitor(work, phase, spec, args.profile)
        if "national" in phases:
            print("monitor: national ...", file=sys.stderr, flush=True)
            spec = {
                **base, "kinds": ["availability", "freshness", "board"], "sites": site_dicts,
                "duration": args.national_seconds, "spread": args.slow_interval,
                "interval": {"availability": args.national_interval,
                             "freshness": args.slow_interval,
                             "board": args.slow_interval},
            }  # fmt: skip
            results["national"] = run_monitor(work, "national", spec, args.profile)
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
