"""Extraction throughput: pages/s and MB/s of `probes.pages.listing.extract` on one core.

Builds realistic government list pages of 100-500 KB (a heavy header with the date widget,
a mega-menu of a few hundred links, a dated sidebar, inline CSS and JS, the list itself in
one of the common layouts with every date format, and a footer with ICP and phone
numbers), then times auto-mode extraction (parse, find the list, read every item's date)
over them. Also times the date engine alone on the page text.

    python bench/bench_extract.py [--seconds 10] [--sizes 100,250,500] [--rounds 1]

With `--rounds N` every measure runs N times in turn (typical, worst, typical, ...) and
the spread is printed: on a shared machine one round is one sample, not a figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from probes.pages.dates import CN_TZ, find_dates
from probes.pages.listing import extract, newest

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=CN_TZ)
FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "[%m-%d]", "%Y-%m-%d %H:%M", "%Y.%m.%d")
LAYOUTS = ("ul", "table", "div")


def build_page(target_kb: int, rng: random.Random, items: int | None = None) -> str:
    """A list page of about `target_kb` KB: `items` list items (default: as many as fill
    the size, the worst case) and page chrome (menus, inline CSS/JS, hidden blocks) for
    the rest, as real column pages carry 20-60 items in mostly chrome."""
    layout, fmt = rng.choice(LAYOUTS), rng.choice(FORMATS)
    menu = "".join(
        f'<li class="m"><a href="/col/col{1000 + i}/index.html" target="_blank">栏目名称{i}</a>'
        + '<ul class="sub">'
        + "".join(f"<li><a href=/c/{i}/{j}/>子栏目{j}</a></li>" for j in range(6))
        + "</ul></li>"
        for i in range(40)
    )
    head = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>通知公告</title>'
        "<style>" + ".a{color:#333;margin:0 auto}" * 150 + "</style>"
        "<script>var nav=" + repr(list(range(400))) + ";</script></head><body>"
        '<div class="top">今天是2026年11月21日 星期六 <span>欢迎访问</span></div>'
        f'<ul class="nav">{menu}</ul>'
        '<div class="side"><ul>'
        + "".join(
            f"<li><a href='/hot/{k}.html'>热点{k}</a><span>2026-11-21</span></li>" for k in range(8)
        )
        + "</ul></div>"
    )
    foot = (
        '<div class="footer">Copyright © 2003-2026 云泽市人民政府 版权所有 云ICP备05001234号 '
        "云公网安备 33010502000123号 网站标识码：3399000001 电话：0571-87051234</div></body></html>"
    )
    rows: list[str] = []
    size = len((head + foot).encode())
    day = NOW
    i = 0
    chrome = ""
    if items is not None:
        filler = (
            '<div class="hidden" style="display:none"><ul>'
            + "".join(f"<li><a href='/zt/{k}/'>专题专栏{k}</a></li>" for k in range(30))
            + "</ul></div><style>"
            + ".b{padding:0 4px;border:1px solid #ddd}" * 40
            + "</style>"
        )
        budget = target_kb * 1024 - size - items * 330
        chrome = filler * max(0, budget // len(filler.encode()))
    while size < target_kb * 1024 if items is None else i < items:
        day -= dt.timedelta(hours=rng.randint(1, 60))
        date = day.strftime(fmt)
        href = f"/xxgk/{day:%Y%m}/t{day:%Y%m%d}_{100000 + i}.html"
        title = f"关于做好{rng.randint(2019, 2026)}年度第{i}批政务公开重点工作的通知（征求意见稿）"
        row = {
            "ul": f'<li><a href="{href}" title="{title}">{title}</a>'
                  f'<span class="date">{date}</span></li>',
            "table": f'<tr><td class="t"><a href="{href}">{title}</a></td>'
                     f'<td class="d">{date}</td></tr>',
            "div": f'<div class="item"><div class="tit"><a href="{href}">{title}</a></div>'
                   f'<div class="info">发布日期：{date} 来源：办公室 '
                   f'浏览次数：{rng.randint(1, 9999)}</div></div>',
        }[layout]  # fmt: skip
        rows.append(row)
        size += len(row.encode())
        i += 1
    body = "".join(rows)
    main = {
        "ul": f'<ul class="list">{body}</ul>',
        "table": f"<table><tbody>{body}</tbody></table>",
        "div": f'<div class="list">{body}</div>',
    }[layout]
    return head + chrome + f'<div class="main">{main}</div>' + foot


def run(seconds: float, sizes: list[int], rounds: int = 1) -> None:
    rng = random.Random(42)
    sets: list[tuple[str, list[str]]] = []
    for label, per_page in (("typical: 20-60 items", True), ("worst: all items", False)):
        pages = [
            build_page(kb, rng, rng.randint(20, 60) if per_page else None)
            for kb in sizes
            for _ in range(3)
        ]
        total = sum(len(p.encode()) for p in pages)
        print(f"== {label}: {len(pages)} pages, {total / len(pages) / 1024:.0f} KB on average")
        for p in pages:
            listing = extract(p, "http://www.yz.gov.cn/xxgk/", now=NOW)
            assert newest(listing.dated) is not None, "extraction broke"
            assert len(listing.dated) >= 20, "extraction broke"
        sets.append((label.split(":")[0], pages))
    figures: dict[tuple[str, str], list[float]] = {}
    for r in range(rounds):
        for name, pages in sets:
            for label, mb_s in measure(seconds, pages):
                figures.setdefault((name, label), []).append(mb_s)
                print(f"round {r + 1} {name:8} {label:18} {mb_s:6.1f} MB/s")
    if rounds > 1:
        for (name, label), values in figures.items():
            print(f"{name:8} {label:18} median {statistics.median(values):6.1f} MB/s, "
                  f"{min(values):.1f}-{max(values):.1f} over {rounds} rounds")  # fmt: skip


def measure(seconds: float, pages: list[str]) -> list[tuple[str, float]]:
    """(label, MB/s) of auto extraction and of the date engine alone over `pages`."""
    out = []
    for label, fn in (
        ("extract (auto)", lambda p: extract(p, "http://www.yz.gov.cn/xxgk/", now=NOW)),
        ("find_dates (text)", lambda p: find_dates(p, now=NOW)),
    ):
        # Sizes are taken outside the timed loop: encoding a page is not extraction.
        sizes = [len(p.encode()) for p in pages]
        n = done_bytes = 0
        cpu0 = time.process_time()
        while time.process_time() - cpu0 < seconds:
            k = n % len(pages)
            fn(pages[k])
            n += 1
            done_bytes += sizes[k]
        cpu = time.process_time() - cpu0
        print(f"{label:18} {n / cpu:8.1f} pages/s  {done_bytes / cpu / 1e6:6.1f} MB/s  "
              f"({n} pages, {cpu:.1f} s CPU)")  # fmt: skip
        out.append((label, done_bytes / cpu / 1e6))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="CPU seconds per measure")
    parser.add_argument("--sizes", default="100,250,500", help="page sizes in KB")
    parser.add_argument("--rounds", type=int, default=1, help="measures of each page set")
    args = parser.parse_args()
    run(args.seconds, [int(s) for s in args.sizes.split(",")], args.rounds)


if __name__ == "__main__":
    main()
