"""Page work never holds the event loop nor a check past its deadline: big pages are read
in worker processes within the check's time left, over real sockets. A check whose pages
take longer than its timeout ends at its deadline as a timeout failure (never OK), the
loop keeps answering meanwhile, and a running `serve` answers /metrics within a second
while a 200,000-deep page and several MB-sized allowed pages are being read."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from probes.clock import SystemClock
from probes.config import parse_config
from probes.findings.freshness import FreshnessFindings
from probes.kinds.pagework import PageWorkCrashed, WorkerTraceback, open_page_workers
from probes.model import Failure, State
from probes.pages.complexity import too_complex
from probes.runtime.runner import open_runtime, run_channel
from tests.page_server import serve_pages
from tests.test_hostile_pages import DEEP
from tests.test_serve import free_port, start, stop, wait_healthy

# A column page of 24,000 dated rows (about 3 MB, 144,000 tags): allowed by the pre-scan,
# and its extraction takes seconds of CPU (2.7 s on the development machine).
ROWS = "".join(
    f'<li><a href="/xxgk/202611/t20261120_{i}.html">关于做好第{i}批政务公开重点工作的通知</a>'
    "<span>2026-11-20</span></li>"
    for i in range(24_000)
)
BIG = (
    '<html><head><title>通知公告</title></head><body><div class="main"><ul class="list">'
    f"{ROWS}</ul></div></body></html>"
).encode()
COLUMNS = 4
# Small in bytes (100 KB) but nested 19,990 deep (never closed: fewer tags than the
# pre-scan counts the depth of), so allowed, yet its parse takes most of a second: it is
# read off the loop too.
NESTED = ("<html><body>" + "<div>" * 19_990 + "x").encode()


def test_the_big_page_is_allowed_by_the_pre_scan() -> None:
    assert too_complex(BIG.decode()) is None


@pytest.fixture
async def site() -> AsyncIterator[str]:
    pages = {"/deep": (200, DEEP), "/nested": (200, NESTED)}
    pages |= {f"/big{i}/": (200, BIG) for i in range(COLUMNS)}
    async with serve_pages(pages) as base:
        yield base


async def _loop_lag(stop: asyncio.Event) -> float:
    """The longest the loop went without running this task (ticks every 20 ms)."""
    worst, last = 0.0, time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(0.02)
        now = time.monotonic()
        worst, last = max(worst, now - last), now
    return worst


async def test_pages_slower_than_the_timeout_end_the_check_at_its_deadline_as_a_timeout(
    site: str,
) -> None:
    # Four columns of 2.7 s each on a pool of at most 4 workers cannot finish in 2 s.
    columns = "".join(
        f"\n          - {{id: c{i}, url: '{site}/big{i}/', class: news}}" for i in range(COLUMNS)
    )
    config = parse_config(f"""
channels:
  - name: big
    kind: website
    owner: 云泽市人民政府办公室
    checks:
      freshness:
        timeout: 2s
        columns:{columns}
  - name: after
    kind: website
    owner: 云泽市人民政府办公室
    checks:
      freshness:
        timeout: 30s
        columns: [{{id: c, url: '{site}/big0/', class: notice}}]
""")  # fmt: skip
    stop = asyncio.Event()
    lag = asyncio.create_task(_loop_lag(stop))
    started = time.monotonic()
    async with open_runtime(config.global_, clock=SystemClock(), state_path=":memory:") as rt:
        verdict, [result] = await run_channel(rt, config.channels[0])
        ended = time.monotonic() - started
        # The workers killed at the deadline were replaced: the next big page is read.
        _, [after] = await run_channel(rt, config.channels[1])
    stop.set()
    assert result.failure is Failure.TIMEOUT, result
    assert result.success is False
    assert verdict.state is not State.OK
    assert result.duration <= 2 * 1.25
    assert ended <= 2 * 1.25
    assert await lag < 0.5
    assert after.success is True, after.error
    assert isinstance(after.findings, FreshnessFindings)
    assert after.findings.columns[0].items == 24_000


async def test_a_small_but_deeply_nested_page_is_read_off_the_loop(site: str) -> None:
    assert too_complex(NESTED.decode()) is None
    config = parse_config(f"""
channels:
  - name: nested
    kind: website
    owner: 云泽市人民政府办公室
    checks:
      freshness: {{columns: [{{id: c, url: '{site}/nested', class: news}}]}}
""")  # fmt: skip
    async with open_runtime(config.global_, clock=SystemClock(), state_path=":memory:") as rt:
        await run_channel(rt, config.channels[0])  # the first run starts the worker
        stop = asyncio.Event()
        lag = asyncio.create_task(_loop_lag(stop))
        _, [result] = await run_channel(rt, config.channels[0])
        stop.set()
    assert result.success is None  # no dated item: could not tell
    assert await lag < 0.3


async def test_a_reader_that_fails_in_a_worker_fails_in_the_check_with_its_traceback() -> None:
    async with open_page_workers(1) as pool:
        with pytest.raises(ValueError, match="invalid literal") as raised:
            await pool.run(BIG, 30.0, int, "not a number")
        assert isinstance(raised.value.__cause__, WorkerTraceback)
        assert "ValueError" in str(raised.value.__cause__)
        with pytest.raises(PageWorkCrashed):
            await pool.run(BIG, 30.0, os._exit, 1)
        # The dead worker was replaced.
        assert await pool.run(BIG, 30.0, len, BIG) == len(BIG)


def _sample(text: str, name: str, channel: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if (
                s.name == name
                and s.labels.get("channel") == channel
                and labels.items() <= s.labels.items()
            ):
                return float(s.value)
    return None


SERVE = """
global:
  interval: 5s
  timeout: 10s
  state_path: {state}
channels:
  - name: deep
    kind: website
    owner: 云泽市教育局
    checks:
      freshness: {{columns: [{{id: deep, url: '{site}/deep', class: news}}]}}
  - name: big
    kind: website
    owner: 云泽市人民政府办公室
    checks:
      freshness:
        columns:{columns}
"""


@pytest.mark.integration
async def test_serve_answers_metrics_within_a_second_while_hostile_pages_are_read(
    site: str, tmp_path: Path
) -> None:
    columns = "".join(
        f"\n          - {{id: c{i}, url: '{site}/big{i}/', class: news}}" for i in range(COLUMNS)
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        SERVE.format(state=tmp_path / "state.db", site=site, columns=columns), encoding="utf-8"
    )
    port = free_port()
    proc = await start(config, port)
    base = f"http://127.0.0.1:{port}"
    slowest = 0.0
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await wait_healthy(client, base)
            async with asyncio.timeout(30):
                while True:
                    asked = time.monotonic()
                    text = (await client.get(f"{base}/metrics?detail=true")).text
                    slowest = max(slowest, time.monotonic() - asked)
                    done = [
                        _sample(text, "zombie_check_duration_seconds", ch) for ch in ("deep", "big")
                    ]
                    if None not in done:
                        break
                    await asyncio.sleep(0.1)
        # SIGTERM is handled at once: running checks drain within their deadline (10 s).
        asked = time.monotonic()
        assert await stop(proc) == 0
        assert time.monotonic() - asked < 10 * 1.25 + 1
    finally:
        await stop(proc)
    deep_duration, big_duration = done
    assert deep_duration is not None and deep_duration <= 12.5
    assert big_duration is not None and big_duration <= 12.5
    assert _sample(text, "zombie_check_success", "deep") != 1.0
    # The deep page is refused as too complex (unknown), never a timeout: the big channel's
    # pages never hold every worker.
    unknown = _sample(text, "zombie_check_runs_total", "deep", result="unknown")
    assert unknown is not None and unknown >= 1
    assert _sample(text, "zombie_check_runs_total", "deep", result="failure") == 0
    assert slowest < 1.0
