"""Concurrent `/probe` requests against `zombie-probes serve`, the target a local HTTP
server that answers every request after 3 s and counts them.

    python bench/bench_probe.py one    # 100 concurrent /probe of one channel (per_host 2)
    python bench/bench_probe.py many   # one /probe for each of 200 channels on one host
                                       # (per_host_concurrency 20, timeout 15 s)
    python bench/bench_probe.py many --repo /tmp/older-checkout   # the same on other code
    python bench/bench_probe.py cpu --repo /tmp/older-checkout --rounds 4
                                       # CPU per availability check, this code and the
                                       # other, alternately in one run

`one` and `many` print the requests' wall time, the hits at the target, how many answers
had probe_success 1, how many carried a timeout failure, and how many channels /metrics
then calls zombie. See bench/README.md "probe" for figures.

`cpu` serves a 190 KB home page (`bench_extract.build_page` chrome and list, and inline
script; UTF-8, or GBK with `--gbk`) from this process and runs, in a child process per
code checkout, 200 channels' availability checks (default soft-error phrases) through
`open_runtime` and `run_check`, as `serve` does, each channel with a week of history at
5 minutes (2,016 runs) in its state file. It prints the child's CPU time per check
(process time of every round after the first, which warms the connections and the
windows), twice per checkout. The checkouts alternate, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
ANSWER_AFTER = 3.0


class Target:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.active = 0
        self.idle = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.active += 1
        self.idle.clear()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.hits[head.split(b" ", 2)[1].decode()] += 1
            await asyncio.sleep(ANSWER_AFTER)
            body = b"<title>ok</title>"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the monitor gave up on the request: it was counted already
        finally:
            writer.close()
            self.active -= 1
            if not self.active:
                self.idle.set()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(scenario: str, repo: Path) -> None:
    target = Target()
    server = await asyncio.start_server(target.handle, "127.0.0.1", 0, backlog=1024)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    n, per_host = (1, 2) if scenario == "one" else (200, 20)
    channels = "".join(
        f"\n  - name: site-{i}\n    kind: website\n    owner: o\n    url: {base}/{i}/"
        "\n    checks: {availability: {}}"
        for i in range(n)
    )
    (tmp / "config.yaml").write_text(
        f"global: {{interval: 1h, timeout: 15s, per_host_concurrency: {per_host}, "
        f"max_in_flight: 256, state_path: {tmp / 'state.db'}}}\nchannels:{channels}\n"
    )
    port = _free_port()
    monitor = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "probes", "serve", "-c", str(tmp / "config.yaml"),
        "--listen", f"127.0.0.1:{port}", "--log-level", "error",
        cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)},
    )  # fmt: skip
    limits = httpx.Limits(max_connections=300)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:
        while True:
            try:
                if (await client.get(f"{monitor}/-/ready")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        names = ["site-0"] * 100 if scenario == "one" else [f"site-{i}" for i in range(n)]
        started = time.monotonic()
        answers = await asyncio.gather(
            *(client.get(f"{monitor}/probe", params={"channel": name}) for name in names)
        )
        took = time.monotonic() - started
        metrics = (await client.get(f"{monitor}/metrics")).text
    proc.terminate()
    await proc.wait()
    server.close()
    if target.active:  # requests the monitor gave up on end within ANSWER_AFTER
        await target.idle.wait()
    ok = sum("probe_success 1" in a.text for a in answers)
    timeouts = sum('reason="timeout"' in a.text for a in answers)
    zombies = sum(
        line.startswith("zombie_channel_state") and 'state="zombie"' in line
        and line.endswith(" 1.0")
        for line in metrics.splitlines()
    )  # fmt: skip
    print(
        f"{scenario}: {len(answers)} requests in {took:.1f}s, target hits "
        f"{sum(target.hits.values())}, probe_success=1: {ok}, timeout failures: {timeouts}, "
        f"channels zombie: {zombies}"
    )


CHECKS, WEEK_RUNS, STEP = 200, 2016, 300.0
# The child of `cpu`: imports `probes` from the checkout it is started in.
CHILD = """
import asyncio, json, sys, time
from probes.cli.check import one_off_config
from probes.clock import SystemClock
from probes.runtime.runner import open_runtime, run_check

async def main(url, checks, rounds, week, step, state):
    config = one_off_config(url, "availability", {})
    base = config.channels[0]
    channels = [base.model_copy(update={"name": f"site-{i}"}) for i in range(checks)]
    clock = SystemClock()
    now = clock.now()
    async with open_runtime(config.global_, clock=clock, state_path=state) as rt:
        # The week as the runner records it, written in one transaction.
        with rt.store.transaction() as conn:
            conn.executemany("INSERT INTO check_runs VALUES (?, ?, ?, ?, ?, ?)", [
                (ch.name, "availability", now - (week - k) * step, int(k % 97 != 0),
                 None if k % 97 else "connect", 0.1)
                for ch in channels for k in range(week)])
        spec = base.checks.availability
        times = []
        for r in range(rounds):
            started = time.process_time()
            runs = (run_check(rt, ch, "availability", spec) for ch in channels)
            results = await asyncio.gather(*runs)
            times.append(time.process_time() - started)
            bad = [x.error for x in results if not x.success]
            if bad:
                sys.exit(f"checks failed: {bad[:3]}")
    print(json.dumps(times))

if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], *map(int, sys.argv[2:5]), float(sys.argv[5]), sys.argv[6]))
"""


def _page(gbk: bool) -> bytes:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_extract import build_page

    # A 150 KB column page with 40 KB more of inline script, as real home pages carry:
    # 190 KB in 6,600 tags, below the page-work limits, so it is read on the event loop
    # and its reading is in the CPU measured.
    html = build_page(150, random.Random(7), items=40)
    script = "<script>var cfg=" + repr([f"item{i}" for i in range(4000)]) + ";</script>"
    html = html.replace("</head>", script + "</head>", 1)
    if gbk:
        return html.replace("charset=utf-8", "charset=gbk").encode("gbk", "xmlcharrefreplace")
    return html.encode()


def cpu(repos: list[Path], rounds: int, gbk: bool) -> None:
    body = _page(gbk)
    charset = "gbk" if gbk else "utf-8"
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset={charset}\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(head + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve_and_measure() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        per: dict[Path, list[float]] = {repo: [] for repo in repos}
        for _ in range(2):  # alternate the checkouts twice
            for repo in repos:
                with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
                    proc = await asyncio.create_subprocess_exec(
                        sys.executable, "-c", CHILD, url, str(CHECKS), str(rounds),
                        str(WEEK_RUNS), str(STEP), str(Path(tmp) / "state.db"),
                        cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)},
                        stdout=subprocess.PIPE,
                    )  # fmt: skip
                    out, _ = await proc.communicate()
                if proc.returncode:
                    raise SystemExit(f"{repo}: the child failed")
                per[repo] += [t / CHECKS * 1e6 for t in json.loads(out)[1:]]
        server.close()
        print(f"{len(body) // 1024} KB {charset} page, {CHECKS} checks x {rounds - 1} rounds "
              f"measured x 2 runs, {WEEK_RUNS} past runs per check; CPU µs per check:")  # fmt: skip
        for repo, values in per.items():
            print(f"  {repo}: median {statistics.median(values):.0f}, min {min(values):.0f}, "
                  f"max {max(values):.0f} ({', '.join(f'{v:.0f}' for v in values)})")  # fmt: skip

    asyncio.run(serve_and_measure())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=["one", "many", "cpu"])
    parser.add_argument(
        "--repo",
        type=Path,
        action="append",
        help="checkout to run from (`cpu`: repeat to compare; this one first)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="cpu: rounds of every check")
    parser.add_argument("--gbk", action="store_true", help="cpu: serve the page as GBK")
    args = parser.parse_args()
    if args.scenario == "cpu":
        cpu([ROOT, *(args.repo or [])], args.rounds, args.gbk)
    else:
        asyncio.run(main(args.scenario, (args.repo or [ROOT])[-1]))
