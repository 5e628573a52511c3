"""The availability section of the simulated portal, monitored over real sockets: the real
HTTP client and fetcher, the runner and a real state store reach exactly the ground truth."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import httpx
import pytest
from starlette.routing import BaseRoute, Mount

from probes.config import Config
from probes.demo import callrobot, orders, sites
from probes.demo import portal as portal_module
from probes.demo.portal import (
    SECTIONS,
    SHUTDOWN_GRACE_SECONDS,
    RunningPortal,
    build_app,
    ground_truth,
    run_portal,
)
from probes.demo.truth import codes
from probes.http.fetcher import Page
from probes.runtime.runner import HARD_STOP_GRACE, Runtime, run_channel

pytestmark = pytest.mark.integration


async def test_gbk_site_labelled_gb2312_decodes_its_gbk_only_characters(
    demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel("demo-gbk")
    assert channel is not None
    assert channel.url is not None

    page = await runtime.fetcher.fetch(str(channel.url), timeout=3)

    assert isinstance(page, Page)
    assert "charset=gb2312" in page.headers["content-type"]
    assert f"<title>{sites.GBK_ONLY_TITLE}</title>" in page.text
    assert "李堃" in page.text


async def test_slow_site_does_not_hold_the_check_past_its_timeout(
    demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel("demo-slow")
    assert channel is not None
    timeout = demo_config.global_.timeout
    assert timeout + HARD_STOP_GRACE < sites.SLOW_SECONDS  # otherwise the test proves nothing

    started = time.monotonic()
    verdict, results = await run_channel(runtime, channel)
    took = time.monotonic() - started

    assert took < timeout + 1.0
    assert [r.failure.value if r.failure else None for r in results] == ["timeout"]
    assert "site_unreachable" in codes(verdict)


def test_every_demo_channel_has_ground_truth_and_every_truth_a_channel(
    demo_config: Config,
) -> None:
    # The portal's HTTP sections, plus the call robot's hotlines (judged from records) and
    # the generated work-order streams.
    truth = {**ground_truth(), **callrobot.TRUTH, **orders.TRUTH}
    assert sorted(c.name for c in demo_config.channels) == sorted(truth)


async def test_home_page_is_dated_by_the_portal_today(
    portal: RunningPortal, runtime: Runtime
) -> None:
    page = await runtime.fetcher.fetch(f"{portal.base_url}/sites/home/", timeout=3)

    assert isinstance(page, Page)
    # FROZEN_NOW is Wednesday 2026-11-18 in Beijing; the newest item is today's.
    assert "今天是2026年11月18日 星期三" in page.text
    assert "<span>2026-11-18</span>" in page.text
    assert "/sites/home/art/t20261118_1041.html" in page.text


async def test_index_links_every_page_the_demo_config_monitors(
    portal: RunningPortal, demo_config: Config, runtime: Runtime
) -> None:
    page = await runtime.fetcher.fetch(f"{portal.base_url}/", timeout=3)

    assert isinstance(page, Page)
    served = [str(c.url) for c in demo_config.channels if str(c.url).startswith(portal.base_url)]
    assert served, "no demo channel points at the portal"
    for url in served:
        assert f'href="{url.removeprefix(portal.base_url)}"' in page.text


def test_sections_are_listed_once() -> None:
    assert len({id(s) for s in SECTIONS}) == len(SECTIONS)
    assert sites in SECTIONS


def test_two_sections_claiming_one_channel_or_path_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def clone_routes(now: float) -> list[BaseRoute]:
        return [Mount("/sites", routes=[])]

    clone = SimpleNamespace(TRUTH={"demo-home": sites.TRUTH["demo-home"]}, routes=clone_routes)
    monkeypatch.setattr(portal_module, "SECTIONS", (sites, clone))

    with pytest.raises(ValueError, match="demo-home"):
        ground_truth()
    with pytest.raises(ValueError, match="/sites"):
        build_app(0.0)


async def test_stopping_the_portal_with_a_request_hanging_frees_the_port_promptly() -> None:
    async with httpx.AsyncClient(timeout=None, trust_env=False) as client:
        async with run_portal() as running:
            hanging = asyncio.create_task(client.get(f"{running.base_url}/sites/slow/"))
            await asyncio.sleep(0.2)  # the request is now inside the slow handler
            started = time.monotonic()
        stopped_in = time.monotonic() - started
        hanging.cancel()
        with pytest.raises((asyncio.CancelledError, httpx.HTTPError)):
            await hanging
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{running.base_url}/")

    assert stopped_in < SHUTDOWN_GRACE_SECONDS + 1.0
