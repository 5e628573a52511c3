"""/metrics as a national deployment needs it: the series of the simulated portal's channels
(after real checks against it) kept per channel and assembled at the scrape, the headline
by default and the per-column/step/percentile detail only when asked, a new result or a
reload visible at the next scrape, a valid exposition, and a scrape that lets the event
loop run while it renders many changed channels."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from probes.catalogue import BY_NAME, FAMILIES
from probes.clock import FrozenClock
from probes.config import ChannelConfig, Config
from probes.model import CheckResult
from probes.runtime.collector import Rendered
from probes.runtime.endpoints import build_app
from probes.runtime.exposition import REFRESH, SLICE
from probes.runtime.monitor import Monitor, open_monitor

pytestmark = pytest.mark.integration

CHANNELS = ("demo-home", "demo-error500", "demo-columns-stale", "svc-ok", "board-healthy")
DETAIL = {f.full_name for f in FAMILIES if f.detail}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _config(demo: Config, *, detail: bool, names: tuple[str, ...] = CHANNELS) -> Config:
    settings = demo.global_.model_copy(update={"metrics_detail": detail})
    channels = [c for c in demo.channels if c.name in names]
    return demo.model_copy(update={"global_": settings, "channels": channels, "calls": None})


@asynccontextmanager
async def _checked(config: Config, tmp: Path, clock: FrozenClock) -> AsyncIterator[Monitor]:
    async with open_monitor(config, clock=clock, state_path=str(tmp / "m.db")) as monitor:
        for channel in config.channels:
            assert await monitor.probe(channel.name) is not None
        yield monitor


@pytest.fixture(params=[False, True], ids=["headline-default", "metrics_detail-on"])
async def monitor(
    request: pytest.FixtureRequest, demo_config: Config, tmp_path: Path, frozen_clock: FrozenClock
) -> AsyncIterator[Monitor]:
    async with _checked(_config(demo_config, detail=request.param), tmp_path, frozen_clock) as m:
        yield m


async def _scrape(monitor: Monitor, detail: bool | None = None) -> bytes:
    return b"".join([piece async for piece in monitor.metrics(detail)])


def _samples(body: bytes) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(body.decode())
        for s in fam.samples
    }


def _names(body: bytes) -> set[str]:
    return {name for name, _ in _samples(body)}


def _expected(channel: str, kind: str, result: CheckResult) -> Samples:
    """What the result's plain measurements must show, straight from the result."""
    out: Samples = {}
    for m in result.measurements:
        if isinstance(m.value, int | float):
            labels = (("channel", channel), ("kind", kind), *m.labels)
            out[(BY_NAME[m.name].full_name, tuple(sorted(labels)))] = float(m.value)
    return out


async def test_every_measurement_is_exported_with_its_value(monitor: Monitor) -> None:
    samples = _samples(await _scrape(monitor, detail=True))
    expected: Samples = {}
    for (name, _check), result in monitor.status.results.items():
        expected |= _expected(name, monitor.status.channels[name].kind, result)
    assert any(name in DETAIL for name, _ in expected), "the portal gave no detail series"
    assert {k: samples.get(k) for k in expected} == expected


async def test_detail_only_when_configured_or_asked(monitor: Monitor) -> None:
    configured = monitor.config.global_.metrics_detail
    default = await _scrape(monitor)
    assert bool(_names(default) & DETAIL) is configured
    # The headline keeps every channel's state, reasons, info and summaries.
    assert {"zombie_channel_state", "zombie_channel_info", "zombie_content_stale_columns",
            "zombie_http_status_code", "zombie_board_overdue_messages",
            "zombie_check_runs_total"} <= _names(default)  # fmt: skip
    asked = _names(await _scrape(monitor, detail=True))
    assert {"zombie_content_newest_item_timestamp_seconds", "zombie_service_step_success",
            "zombie_board_reply_latency_seconds"} <= asked  # fmt: skip
    assert not _names(await _scrape(monitor, detail=False)) & DETAIL
    assert _names(default) - DETAIL == asked - DETAIL


async def test_probe_always_carries_the_channels_detail(monitor: Monitor) -> None:
    body = await monitor.probe("demo-columns-stale")
    assert body is not None
    columns = {
        dict(labels)["column"]
        for (name, labels) in _samples(body)
        if name == "zombie_content_newest_item_timestamp_seconds"
    }
    assert len(columns) >= 5
    assert 'channel="demo-home"' not in body.decode()


async def test_body_is_valid_exposition(monitor: Monitor) -> None:
    body = (await _scrape(monitor, detail=True)).decode()
    families = re.findall(r"(?m)^# TYPE (\S+) ", body)
    assert len(families) == len(set(families)), "a family's HELP/TYPE appears twice"
    # Every sample line belongs to the family whose TYPE line came last.
    current = ""
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            current = line.split()[2]
        elif not line.startswith("#"):
            name = line.split("{")[0].split(" ")[0]
            assert name == current or name.removeprefix(current) in (
                "_bucket", "_count", "_sum"
            ), line  # fmt: skip
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: scripts/test installs Debian's prometheus package")
    lint = subprocess.run([promtool, "check", "metrics"], input=body.encode(),
                          capture_output=True, check=False)  # fmt: skip
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


async def test_a_new_result_and_a_reload_show_at_the_next_scrape(
    demo_config: Config, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    config = _config(demo_config, detail=False)
    runs = ("zombie_check_runs_total", (("channel", "demo-error500"), ("check", "availability"),
                                        ("kind", "website"), ("result", "failure")))  # fmt: skip
    async with _checked(config, tmp_path, frozen_clock) as monitor:
        before = _samples(await _scrape(monitor))
        frozen_clock.advance(3600)  # the latest result is due again: /probe runs it
        await monitor.probe("demo-error500")
        after = _samples(await _scrape(monitor))
        assert after[runs] == before[runs] + 1
        # A reload that drops a channel drops its series at the next scrape.
        monitor.scheduler.apply(_config(demo_config, detail=False, names=CHANNELS[2:]))
        gone = await _scrape(monitor)
        assert 'channel="demo-error500"' not in gone.decode()
        assert 'channel="svc-ok"' in gone.decode()


async def test_scrape_lets_the_event_loop_run_while_it_renders(
    demo_config: Config, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    """Many changed channels are rendered in slices with the loop let go between them."""
    async with _checked(_config(demo_config, detail=False), tmp_path, frozen_clock) as monitor:
        template = monitor.status.channels["demo-home"]
        copies = [template.model_copy(update={"name": f"site{i}"}) for i in range(5 * SLICE)]
        monitor.status.set_channels([*monitor.status.channels.values(), *copies])
        ticks: list[None] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                ticks.append(None)
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        start = len(ticks)
        body = await _scrape(monitor)
        done.set()
        await task
        assert len(ticks) - start >= 5
        assert body.decode().count('zombie_channel_info{channel="site') == 5 * SLICE


@pytest.mark.parametrize(
    ("query", "status"),
    [("", 200), ("?detail=true", 200), ("?detail=false", 200), ("?detail=yes", 400),
     ("?channel=demo-home", 400)],
)  # fmt: skip
async def test_metrics_endpoint_parameters(monitor: Monitor, query: str, status: int) -> None:
    transport = httpx.ASGITransport(app=build_app(monitor))
    async with httpx.AsyncClient(transport=transport, base_url="http://monitor") as client:
        response = await client.get(f"/metrics{query}")
    assert response.status_code == status
    if status == 200:
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        wants = {"": monitor.config.global_.metrics_detail, "?detail=true": True}.get(query, False)
        shown = "zombie_content_newest_item_timestamp_seconds" in response.text
        assert shown is wants


async def test_serve_renders_changed_channels_before_the_next_scrape(
    demo_config: Config, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    """The refresher `serve` runs renders what changed every REFRESH seconds, so a scrape
    finds it done (the status has nothing left to render)."""
    async with _checked(_config(demo_config, detail=False), tmp_path, frozen_clock) as monitor:
        refresher = asyncio.create_task(monitor.exposition.keep_current(frozen_clock))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not monitor.status.dirty  # the start's rendering
        frozen_clock.advance(3600)
        await monitor.probe("demo-error500")
        assert monitor.status.dirty == {"demo-error500"}
        frozen_clock.advance(REFRESH)
        for _ in range(5):
            await asyncio.sleep(0)
        assert not monitor.status.dirty
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher


async def test_a_channel_whose_rendering_fails_keeps_its_last_series(
    demo_config: Config,
    tmp_path: Path,
    frozen_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with _checked(_config(demo_config, detail=False), tmp_path, frozen_clock) as monitor:
        before = _samples(await _scrape(monitor))
        collector = monitor.exposition.collector
        render = collector.render_channel

        def broken(channel: ChannelConfig, skip: frozenset[int] = frozenset()) -> Rendered:
            if channel.name == "demo-home":
                raise RuntimeError("a bug")
            return render(channel, skip)

        monkeypatch.setattr(collector, "render_channel", broken)
        frozen_clock.advance(3600)
        # A run of each, as the scheduler records them.
        monitor.status.record("demo-home", monitor.status.results[("demo-home", "availability")])
        await monitor.probe("demo-error500")
        after = _samples(await _scrape(monitor))
        home = {k: v for k, v in after.items() if ("channel", "demo-home") in k[1]}
        assert home == {k: v for k, v in before.items() if ("channel", "demo-home") in k[1]}
        assert after != before  # the other channel's new run is there
        assert "rendering the series of channel demo-home failed" in caplog.text
