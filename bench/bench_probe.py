"""Concurrent `/probe` requests against `zombie-probes serve`, the target a local HTTP
server that answers every request after 3 s and counts them.

    python bench/bench_probe.py one    # 100 concurrent /probe of one channel (per_host 2)
    python bench/bench_probe.py many   # one /probe for each of 200 channels on one host
                                       # (per_host_concurrency 20, timeout 15 s)
    python bench/bench_probe.py many --repo /tmp/older-checkout   # the same on other code

Prints the requests' wall time, the hits at the target, how many answers had
probe_success 1, how many carried a timeout failure, and how many channels /metrics then
calls zombie. See bench/README.md "probe" for figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=["one", "many"])
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout to run serve from")
    args = parser.parse_args()
    asyncio.run(main(args.scenario, args.repo))
