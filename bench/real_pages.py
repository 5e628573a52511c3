"""Accuracy on the shared real government pages, next to htmldate's on the same pages.

    .venv/bin/pip install htmldate        # for this script only; not a dependency
    .venv/bin/python bench/real_pages.py [--pages DIR] [--json]

Every page of `DIR` (default ../shared/realdata/pages) listed in its `expected.tsv` is
served over HTTP by a local server (challenges with the status their product answers) and
checked as `zombie-probes check URL --as freshness` checks it; its answer is right when the
newest date (the main list's newest item, or an article's own publication date, or
"none") is the expected one. htmldate reads the same bytes with its defaults and with
`original_date=True`. Item counts and page types are reported for the monitor only
(htmldate has neither).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from probes.cli.check import one_off_config  # noqa: E402
from probes.clock import FrozenClock  # noqa: E402
from probes.findings.freshness import FreshnessFindings  # noqa: E402
from probes.model import Failure  # noqa: E402
from probes.pages.dates import CN_TZ  # noqa: E402
from probes.runtime.runner import open_runtime, run_channel  # noqa: E402

# The statuses challenge products answer a client without their cookie.
STATUS = {"412": 412, "jsl521": 521}
NOW = dt.datetime(2026, 11, 18, 10, tzinfo=CN_TZ).timestamp()


def _status(name: str) -> int:
    return next((code for mark, code in STATUS.items() if mark in name), 200)


def _body(pages: Path, name: str) -> bytes:
    raw = (pages / name).read_bytes()
    return b"<script>" + raw + b"</script>" if name.endswith(".js") else raw


@asynccontextmanager
async def serve(pages: Path) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            name = head.split(b" ", 2)[1].decode().rsplit("/", 1)[-1]
            status, body = (
                (_status(name), _body(pages, name)) if (pages / name).is_file() else (404, b"")
            )
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/pages/"
    finally:
        server.close()


async def monitor(url: str) -> dict[str, Any]:
    config = one_off_config(url, "freshness", {})
    async with open_runtime(config.global_, clock=FrozenClock(NOW), state_path=":memory:") as rt:
        _, [result] = await run_channel(rt, config.channels[0])
    assert isinstance(result.findings, FreshnessFindings)
    [column] = result.findings.columns
    newest = column.newest
    page = column.page
    if result.failure is Failure.BLOCKED:
        page = "challenge"
    elif column.code == "list_rendered_by_script":
        page = "js-list"
    return {
        "newest": dt.datetime.fromtimestamp(newest, CN_TZ).date().isoformat() if newest else "none",
        "items": column.items,
        "page_type": page,
    }


def htmldate_answers(html: str) -> tuple[str, str]:
    from htmldate import find_date

    def one(**kw: Any) -> str:
        try:
            return find_date(html, outputformat="%Y-%m-%d", **kw) or "none"
        except Exception as exc:  # noqa: BLE001 - a crash of the compared tool is its answer
            return f"error: {type(exc).__name__}"

    return one(), one(original_date=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=ROOT.parent / "shared/realdata/pages")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = list(csv.DictReader((args.pages / "expected.tsv").open(encoding="utf-8"),
                               delimiter="\t"))  # fmt: skip
    out = []
    async with serve(args.pages) as base:
        for row in rows:
            ours = await monitor(base + row["file"])
            html = (args.pages / row["file"]).read_text(encoding="utf-8", errors="replace")
            latest, original = htmldate_answers(html)
            out.append({"file": row["file"], "expected": row["expected_newest"],
                        "expected_items": int(row["items"]),
                        "expected_type": row["page_type"], "monitor": ours,
                        "htmldate": latest, "htmldate_original": original})  # fmt: skip
    n = len(out)
    right = sum(r["monitor"]["newest"] == r["expected"] for r in out)
    items = sum(r["monitor"]["items"] == r["expected_items"] for r in out)
    types = sum(r["monitor"]["page_type"] == r["expected_type"] for r in out)
    hd = sum(r["htmldate"] == r["expected"] for r in out)
    hdo = sum(r["htmldate_original"] == r["expected"] for r in out)
    if args.json:
        print(json.dumps({"pages": out, "n": n, "monitor_dates": right, "monitor_items": items,
                          "monitor_types": types, "htmldate": hd, "htmldate_original": hdo},
                         ensure_ascii=False, indent=1))  # fmt: skip
        return 0
    print(f"{'page':34} {'expected':10} {'monitor':10} {'htmldate':10} {'original':10}")
    for r in out:
        m = r["monitor"]
        print(f"{r['file']:34} {r['expected']:10} {m['newest']:10} {r['htmldate']:10} "
              f"{r['htmldate_original']:10} {m['page_type']}/{m['items']}")  # fmt: skip
    print(
        f"newest date right: monitor {right}/{n}, htmldate {hd}/{n}, "
        f"htmldate original_date=True {hdo}/{n}"
    )
    print(f"monitor item count right {items}/{n}, page type right {types}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
