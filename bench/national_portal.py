"""The simulated national portal of `bench/national.py`: page files, the nginx config that
serves them for every site, and the small asyncio server of the slow and timing-out sites.

Every site is its own host, `127.a.b.c` (the kernel routes all of 127.0.0.0/8 to the
loopback interface), so the monitor's per-host limit applies per site as it would on the
real network. nginx listens on one port of every address (`listen PORT`, i.e. 0.0.0.0: the
machine has only loopback) and maps `/sN/...` to a few dozen distinct files with a
`rewrite`, so 14,000 sites cost a few MB on disk. nginx cannot delay a response, so the
slow and timing-out sites are served by `python bench/national_portal.py slow ...`, a
separate process on another port.

Pages: a home page and five column list pages per variant (100-300 KB of realistic chrome
with 20-60 dated items, built by `bench/bench_extract.py`'s page builder, which dates them
back from yesterday, so the columns read as fresh), and one message-board list page whose
messages were all answered within the reply deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
import bench_extract  # noqa: E402
from bench_extract import build_page  # noqa: E402

VARIANTS = 10  # distinct page sets; site N serves the variant of its last digit
COLUMNS = ("news", "notice", "policy", "work", "open")
COLUMN_CLASS = {"news": "news", "notice": "notice", "policy": "policy", "work": "news",
                "open": "notice"}  # fmt: skip
CN = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class Site:
    """One simulated site: its number, host and port, and how it behaves."""

    n: int
    host: str
    port: int
    behaviour: str  # "ok", "slow" or "timeout"

    @property
    def base(self) -> str:
        # Timing-out sites are /tN: the slow server tells them apart by the path.
        prefix = "t" if self.behaviour == "timeout" else "s"
        return f"http://{self.host}:{self.port}/{prefix}{self.n}"


def host_of(n: int) -> str:
    """A distinct loopback address per site, away from 127.0.0.1 and the .0/.255 octets."""
    return f"127.{10 + n // 62500}.{(n // 250) % 250 + 1}.{n % 250 + 1}"


def sites(count: int, port: int, slow_port: int, slow: float, timeouts: float) -> list[Site]:
    """`count` sites; every 1/slow-th one is slow and every 1/timeouts-th times out,
    spread evenly over the list."""
    out = []
    slow_every = round(1 / slow) if slow > 0 else 0
    timeout_every = round(1 / timeouts) if timeouts > 0 else 0
    for n in range(count):
        if timeout_every and n % timeout_every == timeout_every // 2:
            behaviour = "timeout"
        elif slow_every and n % slow_every == slow_every // 3:
            behaviour = "slow"
        else:
            behaviour = "ok"
        out.append(Site(n, host_of(n), port if behaviour == "ok" else slow_port, behaviour))
    return out


def board_page(now: dt.datetime, rng: random.Random) -> str:
    """A 20-row board list page, every message answered within a day or two."""
    rows = []
    for i in range(20):
        posted = now - dt.timedelta(days=1 + i * 2, hours=rng.randint(0, 20))
        replied = posted + dt.timedelta(hours=rng.randint(2, 40))
        rows.append(
            f'<tr><td class="no">{9000 - i}</td><td class="title"><a href="msg/{9000 - i}">'
            f"关于小区{i}号楼供暖不足的问题</a></td>"
            f'<td class="posted">{posted:%Y-%m-%d %H:%M}</td><td class="status">已回复</td>'
            f'<td class="replied">{replied:%Y-%m-%d %H:%M}</td></tr>'
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>网上留言</title></head><body>'
        '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="list">留言列表</a>'
        '</li></ul></div><table class="letters"><thead><tr><th>编号</th><th>标题</th>'
        "<th>留言时间</th><th>状态</th><th>回复时间</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></body></html>"
    )


def write_pages(root: Path, seed: int = 7) -> dict[str, int]:
    """Write every variant's pages under `root`; returns {relative path: bytes}."""
    rng = random.Random(seed)
    now = dt.datetime.now(CN).replace(microsecond=0) - dt.timedelta(days=1)
    # The page builder dates items back from its own fixed day; from yesterday here, so the
    # columns read as fresh whenever the benchmark runs (a stale column costs more: the
    # monitor keeps evidence of every state change).
    bench_extract.NOW = now
    sizes: dict[str, int] = {}
    for v in range(VARIANTS):
        pages = {f"v{v}/index.html": build_page(rng.randint(100, 300), rng, rng.randint(20, 60))}
        for col in COLUMNS:
            pages[f"v{v}/{col}/index.html"] = build_page(
                rng.randint(100, 300), rng, rng.randint(20, 60)
            )
        pages[f"v{v}/board/list.html"] = board_page(now, rng)
        for rel, text in pages.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode("utf-8")
            path.write_bytes(data)
            sizes[rel] = len(data)
    return sizes


def nginx_conf(root: Path, www: Path, port: int) -> str:
    return f"""worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx.err;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  types {{ text/html html; }}
  server {{
    listen {port} backlog=4096;
    root {www};
    # /sN/... -> /vD/... where D is the last digit of N: a few dozen distinct files.
    rewrite "^/s\\d*([0-9])/$" /v$1/index.html break;
    rewrite "^/s\\d*([0-9])/board/list$" /v$1/board/list.html break;
    rewrite "^/s\\d*([0-9])/(\\w+)/$" /v$1/$2/index.html break;
  }}
}}
"""


async def _slow_server(www: Path, port: int, slow_delay: float, hang: float) -> None:
    """Answers like nginx after `slow_delay` s for hosts of slow sites; sites whose URL
    path starts with /t (timeout sites are `/tN`) get nothing for `hang` s."""
    cache: dict[str, bytes] = {}

    def body_for(path: str) -> bytes:
        digit = "".join(ch for ch in path.split("/")[1] if ch.isdigit())[-1:] or "0"
        v = f"v{digit}"
        rest = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        if rest in ("", "/"):
            rel = f"{v}/index.html"
        elif rest == "board/list":
            rel = f"{v}/board/list.html"
        else:
            rel = f"{v}/{rest.strip('/')}/index.html"
        if rel not in cache:
            cache[rel] = (www / rel).read_bytes()
        return cache[rel]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode("ascii", "replace").split("?", 1)[0]
            await asyncio.sleep(hang if path.startswith("/t") else slow_delay)
            body = body_for(path)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
            )
            writer.write(body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, FileNotFoundError) as exc:
            print(f"slow server: {exc!r}", file=sys.stderr)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "0.0.0.0", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="the slow/timeout site server")
    parser.add_argument("www", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--slow-delay", type=float, default=4.0)
    parser.add_argument("--hang", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(_slow_server(args.www, args.port, args.slow_delay, args.hang))


if __name__ == "__main__":
    main()
