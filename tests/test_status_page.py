"""The status page and the history pages, served by a running monitor over HTTP and
rendered in a headless Chromium: Chinese and English, owner and title, state, since when,
reasons, a link to the history, self-refreshing, and nothing on them runs a check."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from probes.config import parse_config
from probes.model import Reason, State, Verdict
from probes.runtime.monitor import Monitor
from probes.runtime.serve import run_monitor
from probes.runtime.status import MonitorStatus
from probes.runtime.statuspage import SHOW_ALL_UP_TO, status_page
from tests.conftest import Site

pytestmark = pytest.mark.integration


@dataclass
class Running:
    monitor: Monitor
    base: str


@pytest.fixture
async def running(site: Site, tmp_path: Path) -> AsyncIterator[Running]:
    config = parse_config(
        f"""
global: {{state_path: "{tmp_path / "state.db"}", interval: 1h, timeout: 2s}}
channels:
  - name: district-portal
    kind: website
    owner: 某某区人民政府办公室
    title: 某某区人民政府门户网站
    url: {site.url}
    maintenance: [{{days: daily, hours: "00:00-00:00", reason: 机房搬迁}}]
    checks: {{availability: {{}}}}
  - name: education-bureau
    kind: website
    owner: 某某区教育局
    title: 某某区教育局网站
    url: http://127.0.0.1:1/
    checks: {{availability: {{}}}}
"""
    )
    ready: asyncio.Future[tuple[Monitor, str]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_monitor(
            config, None, listen="127.0.0.1:0", first_run_spread=0.0,
            on_ready=lambda m, address: ready.set_result((m, address)),
        )
    )  # fmt: skip
    monitor, address = await asyncio.wait_for(ready, 20)
    async with asyncio.timeout(20):  # each check's first (and, at 1h, only) run
        while sum(monitor.status.runs.values()) < 2:
            await asyncio.sleep(0.02)
    try:
        yield Running(monitor, f"http://{address}")
    finally:
        monitor.scheduler.stop()
        await asyncio.wait_for(task, 20)


async def test_status_page_shows_state_since_when_reasons_and_history_links(
    running: Running, site: Site
) -> None:
    assert running.monitor.status.verdicts["education-bureau"].state is State.ZOMBIE
    checked = site.hits
    async with httpx.AsyncClient(base_url=running.base, timeout=10) as client:
        page = (await client.get("/")).text
        for _ in range(3):
            await client.get("/")
        links = re.findall(r'href="([^"]+)"', page)
        for link in links:
            assert (await client.get(link.replace("&amp;", "&"))).status_code == 200, link
        history = (await client.get("/history", params={"channel": "education-bureau"})).text
        missing = await client.get("/history", params={"channel": "no-such"})
    assert site.hits == checked  # nothing on the pages ran a check
    assert not any(link.startswith("/probe") for link in links)
    assert '<meta http-equiv="refresh" content="60">' in page
    for text in ("政务服务渠道状态", "Government service channels", "某某区教育局网站",
                 "某某区教育局", "僵尸 zombie", "正常 ok", "site_unreachable", "维护中 maintenance",
                 "/history?channel=education-bureau", "起始时间 Since"):  # fmt: skip
        assert text in page, text
    # The zombie comes first, and says since when (local time with the zone's offset).
    assert page.index("某某区教育局网站") < page.index("某某区人民政府门户网站")
    assert re.search(r"<td>20\d\d-\d\d-\d\d \d\d:\d\d\+08:00</td>", page)
    assert "— → " in history and "site_unreachable" in history and "connection refused" in history
    assert missing.status_code == 404


async def test_a_stored_page_is_served_sandboxed(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.base, timeout=10) as client:
        history = (await client.get("/history", params={"channel": "district-portal"})).text
        [link] = re.findall(r'href="(/history/page[^"]+)"', history)
        stored = await client.get(link.replace("&amp;", "&"))
    assert stored.status_code == 200
    assert stored.headers["content-security-policy"] == "sandbox"
    assert "政务公开" in stored.content.decode("gbk")


async def test_status_page_renders_in_headless_chromium(running: Running, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is missing: scripts/test installs Debian's chromium package")
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--window-size=1280,800", f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    dom = await asyncio.to_thread(
        subprocess.run, [*common, "--dump-dom", f"{running.base}/"],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "某某区教育局网站" in dom.stdout and "僵尸 zombie" in dom.stdout
    shot = tmp_path / "status.png"
    done = await asyncio.to_thread(
        subprocess.run, [*common, f"--screenshot={shot}", f"{running.base}/"],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one


def test_a_large_replica_lists_channels_that_are_not_ok_unless_asked_for_all() -> None:
    channels = "".join(
        f"\n  - {{name: site-{i}, kind: website, owner: 局{i}, url: 'http://s{i}.gov.cn/', "
        "checks: {availability: {}}}"
        for i in range(SHOW_ALL_UP_TO + 1)
    )
    status = MonitorStatus()
    status.set_channels(parse_config("channels:" + channels).channels)
    for name in status.channels:
        status.verdicts[name] = Verdict(name, "website", State.OK, (), 1.8e9)
    reason = Reason("site_unreachable", State.ZOMBIE, "3/3 probes failed in 7d")
    status.verdicts["site-7"] = Verdict("site-7", "website", State.ZOMBIE, (reason,), 1.8e9)
    since = {"site-7": (State.ZOMBIE, 1.8e9 - 3600)}.get
    page = status_page(status, since, 1.8e9, show_all=False)
    assert "<code>site-7</code>" in page and "<code>site-8</code>" not in page
    assert 'href="/?all=1"' in page
    assert "2027-01-15 15:00+08:00" in page  # since when it has been a zombie
    everything = status_page(status, since, 1.8e9, show_all=True)
    assert all(f"<code>{name}</code>" in everything for name in status.channels)
