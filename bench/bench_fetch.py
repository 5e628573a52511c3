"""CPU cost of one fetch through `Fetcher` on each transport, against a local server.

Starts nginx (Debian's, on a temporary config and a free port) serving a ~28 KB UTF-8
listing page, or an aiohttp server in a subprocess when nginx is missing, then fetches the
page N times with 8 in flight through the real shared client (`open_client`, no
keep-alive) and reports the client process's CPU (user + system) per fetch: for each
transport (`native`, `aiohttp`, `httpcore`, and `baseline`: plain httpx over the upstream
httpx-aiohttp transport without the Fetcher) on each event loop, in the same run, rounds
alternating loops and transports, with min / median / max over the rounds.

    python bench/bench_fetch.py [--requests 2000] [--in-flight 8] [--loops asyncio,uvloop]
                                [--transports native,aiohttp,httpcore,baseline]
                                [--rounds 5] [--gzip] [--https]

Not run by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from probes.clock import SystemClock
from probes.config import GlobalConfig
from probes.http.client import open_fetcher
from probes.http.fetcher import Page

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx.err;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {root}/tmp;
  proxy_temp_path {root}/tmp;
  fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp;
  scgi_temp_path {root}/tmp;
  default_type text/html;
  charset utf-8;
  gzip {gzip};
  server {{ listen 127.0.0.1:{port}{tls}; root {root}/www; }}
}}
"""
AIOHTTP_SERVER = """
import sys
from aiohttp import web
body = open(sys.argv[2], "rb").read()
async def page(request):
    return web.Response(body=body, content_type="text/html", charset="utf-8")
app = web.Application()
app.router.add_get("/index.html", page)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def listing_page() -> bytes:
    rows = "".join(
        f'<li><a href="/zwgk/2026/{i:04d}.html">关于做好2026年第{i}批政务公开工作的通知</a>'
        f"<span>2026-11-{1 + i % 28:02d}</span></li>\n"
        for i in range(230)
    )
    return f"<html><head><title>通知公告</title></head><body><ul>{rows}</ul></body></html>".encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    root: Path, port: int, gzip: bool, tls: str = ""
) -> tuple[subprocess.Popen[bytes], str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if Path(nginx).exists():
        (root / "tmp").mkdir()
        conf = root / "nginx.conf"
        gz = "on" if gzip else "off"
        conf.write_text(NGINX_CONF.format(root=root, port=port, gzip=gz, tls=tls))
        return subprocess.Popen([nginx, "-c", str(conf), "-p", str(root)]), "nginx"
    if gzip or tls:
        raise SystemExit("--gzip and --https need nginx")
    script = root / "server.py"
    script.write_text(AIOHTTP_SERVER)
    page = str(root / "www" / "index.html")
    return subprocess.Popen([sys.executable, str(script), str(port), page]), "aiohttp"


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the server did not listen on {port}")


async def run(
    transport: str, url: str, requests: int, in_flight: int, trust: ssl.SSLContext | None
) -> tuple[float, float]:
    """(CPU µs per fetch, fetches per second)."""
    # per-host limit raised to the in-flight count: the bench measures cost, not politeness
    settings = GlobalConfig(http_transport=transport, per_host_concurrency=in_flight)  # type: ignore[arg-type]
    async with open_fetcher(settings, clock=SystemClock(), trust=trust) as fetcher:
        warm = await fetcher.fetch(url, timeout=10)
        if not isinstance(warm, Page) or warm.status != 200:
            raise SystemExit(f"warm-up fetch failed: {warm}")
        todo = iter(range(requests))
        failures = 0

        async def worker() -> None:
            nonlocal failures
            for _ in todo:
                got = await fetcher.fetch(url, timeout=10)
                if not isinstance(got, Page) or got.status != 200:
                    failures += 1

        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if failures:
        raise SystemExit(f"{failures} fetches failed on {transport}")
    return cpu / requests * 1e6, requests / wall


async def run_baseline(
    url: str, requests: int, in_flight: int, trust: ssl.SSLContext | None
) -> tuple[float, float]:
    """The same loop on plain httpx over the upstream aiohttp transport (new connection per
    request, no Fetcher): what the fetch layer itself adds is the difference."""
    import aiohttp
    import httpx
    from httpx_aiohttp import AiohttpTransport

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(force_close=True, limit=0, ssl=trust or True)
        return aiohttp.ClientSession(connector=connector)

    transport = AiohttpTransport(client=session)
    async with httpx.AsyncClient(transport=transport, timeout=15, trust_env=False) as client:
        await client.get(url)
        todo = iter(range(requests))

        async def worker() -> None:
            for _ in todo:
                response = await client.get(url)
                _ = response.text

        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / requests * 1e6, requests / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--loops", default="asyncio,uvloop", help="asyncio, uvloop or both")
    parser.add_argument("--uvloop", action="store_true", help="the same as --loops uvloop")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gzip", action="store_true", help="serve the page gzip-compressed")
    parser.add_argument("--https", action="store_true", help="serve over TLS (a trustme CA)")
    parser.add_argument(
        "--transports",
        default="native,aiohttp,httpcore,baseline",
        help="baseline: plain httpx on the upstream aiohttp transport, without the Fetcher",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # nginx workers run as an unprivileged user
        (root / "www").mkdir()
        page = listing_page()
        (root / "www" / "index.html").write_bytes(page)
        port = free_port()
        trust, tls = None, ""
        if args.https:
            import trustme

            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1")
            cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
            for pem in cert.cert_chain_pems[1:]:
                pem.write_to_path(str(root / "cert.pem"), append=True)
            cert.private_key_pem.write_to_path(str(root / "key.pem"))
            tls = f" ssl; ssl_certificate {root}/cert.pem; ssl_certificate_key {root}/key.pem"
            trust = ssl.create_default_context()
            ca.configure_trust(trust)
        server, kind = start_server(root, port, args.gzip, tls)
        try:
            wait_for(port)
            url = f"{'https' if args.https else 'http'}://127.0.0.1:{port}/index.html"
            loops = ["uvloop"] if args.uvloop else args.loops.split(",")
            print(
                f"server: {kind}; page {len(page)} bytes; gzip {'on' if args.gzip else 'off'}; "
                f"{'https' if args.https else 'http'}"
            )
            print(
                f"{args.requests} fetches x {args.rounds} rounds, "
                f"{args.in_flight} in flight, loops {', '.join(loops)}"
            )
            # Rounds alternate the loops and transports, so load from elsewhere on the
            # machine hits them alike; the minimum is the least disturbed figure.
            transports = args.transports.split(",")
            cpus: dict[tuple[str, str], list[float]] = {
                (loop, t): [] for loop in loops for t in transports
            }
            for _ in range(args.rounds):
                for loop in loops:
                    runner = asyncio.run
                    if loop == "uvloop":
                        import uvloop

                        runner = uvloop.run
                    for transport in transports:
                        if transport == "baseline":
                            cpu, _rate = runner(
                                run_baseline(url, args.requests, args.in_flight, trust)
                            )
                        else:
                            cpu, _rate = runner(
                                run(transport, url, args.requests, args.in_flight, trust)
                            )
                        cpus[(loop, transport)].append(cpu)
            print("µs CPU per fetch over rounds: min / median / max (spread: (max-min)/median)")
            for (loop, transport), got in cpus.items():
                mid = statistics.median(got)
                print(
                    f"  {loop:8s} {transport:9s} {min(got):6.0f} / {mid:6.0f} / {max(got):6.0f}"
                    f"  ({(max(got) - min(got)) / mid:4.0%})"
                )
            for loop in loops:
                if "native" in transports:
                    base = statistics.median(cpus[(loop, "native")])
                    others = ", ".join(
                        f"{t} {statistics.median(cpus[(loop, t)]) / base:.2f}x"
                        for t in transports
                        if t != "native"
                    )
                    print(f"  {loop}: median per fetch against native: {others}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(10)


if __name__ == "__main__":
    main()
