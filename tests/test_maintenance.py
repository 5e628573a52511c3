"""Maintenance windows: checks keep running, but failures inside a window do not count
toward the official windows (the weekly unreachable share, consecutive failures),
`zombie_channel_maintenance` is 1 meanwhile, and windows are read in the channel's zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from probes.clock import FrozenClock
from probes.config import ChannelConfig, Config, ConfigError, parse_config
from probes.model import State
from probes.runtime.monitor import open_monitor
from probes.runtime.runner import Runtime, open_runtime, run_channel
from tests.conftest import FROZEN_NOW, Site
from tests.scrape import scrape

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local(ts: float, zone: ZoneInfo = SHANGHAI) -> str:
    return dt.datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M")


def _config(site: Site, windows: str = "[]", global_windows: str = "[]") -> Config:
    return parse_config(
        f"""
global: {{maintenance: {global_windows}}}
channels:
  - name: planned
    kind: website
    owner: 某某区数据资源局
    url: {site.url}
    maintenance: {windows}
    checks: {{availability: {{}}}}
  - name: unplanned
    kind: website
    owner: 某某区数据资源局
    url: {site.url}
    checks: {{availability: {{}}}}
"""
    )


@pytest.fixture
async def rt(tmp_path: Path, frozen_clock: FrozenClock) -> AsyncIterator[Runtime]:
    config = parse_config("channels: []")
    async with open_runtime(
        config.global_, clock=frozen_clock, state_path=tmp_path / "state.db"
    ) as opened:
        yield opened


async def _probe(rt: Runtime, channel: ChannelConfig) -> tuple[State, float | None]:
    """The verdict and the failures in the window it judged."""
    verdict, [result] = await run_channel(rt, channel)
    return verdict.state, None if result.window is None else float(result.window.failures)


async def test_failures_inside_a_window_leave_the_weekly_unreachable_share_unchanged(
    rt: Runtime, frozen_clock: FrozenClock, site: Site
) -> None:
    start = FROZEN_NOW + 20 * 1800
    window = f'[{{start: "{_local(start)}", end: "{_local(start + 7200)}", reason: 机房搬迁}}]'
    config = _config(site, window)
    planned, unplanned = config.channels
    for _ in range(20):  # ten hours of healthy probes every 30 minutes
        assert await _probe(rt, planned) == (State.OK, 0.0)
        assert await _probe(rt, unplanned) == (State.OK, 0.0)
        frozen_clock.advance(1800)
    site.status = 503  # the planned move: the site is down for its whole window
    for n in range(1, 5):
        assert planned.maintenance_at(frozen_clock.now()) is not None
        assert await _probe(rt, planned) == (State.OK, 0.0)  # share stays 0/20
        state, failures = await _probe(rt, unplanned)
        assert state is not State.OK and failures == n  # the same outage, unplanned
        frozen_clock.advance(1800)
    assert state is State.ZOMBIE  # 4 of 24 probes failed
    assert planned.maintenance_at(frozen_clock.now()) is None
    # Down past the window's end: that failure counts, 1 of 21 probes (4.8%): past the
    # 3% early warning, short of the 5% veto.
    state, failures = await _probe(rt, planned)
    assert (state, failures) == (State.DEGRADED, 1.0)


def _maintenance_gauge(text: str) -> dict[str, float]:
    return {
        s.labels["channel"]: s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == "zombie_channel_maintenance"
    }


async def test_the_maintenance_gauge_follows_a_recurring_window_in_the_channel_zone(
    tmp_path: Path, site: Site
) -> None:
    # FROZEN_NOW is Wednesday 10:00 in Beijing, which is Wednesday 03:00 in Berlin.
    config = parse_config(
        f"""
global:
  state_path: "{tmp_path / "state.db"}"
  maintenance: [{{days: wed, hours: "09:30-10:30"}}]
channels:
  - {{name: beijing, kind: website, owner: x, url: "{site.url}", checks: {{availability: {{}}}}}}
  - {{name: berlin, kind: website, owner: x, url: "{site.url}", timezone: Europe/Berlin,
      checks: {{availability: {{}}}}}}
"""
    )
    clock = FrozenClock(FROZEN_NOW)
    async with open_monitor(config, clock=clock) as monitor:
        assert _maintenance_gauge((await scrape(monitor)).decode()) == {
            "beijing": 1.0,
            "berlin": 0.0,
        }
        clock.advance(3600)
        assert _maintenance_gauge((await scrape(monitor)).decode()) == {
            "beijing": 0.0,
            "berlin": 0.0,
        }


@pytest.mark.parametrize(
    ("window", "local_start", "hours"),
    [({"days": "sat", "hours": "22:00-02:00"}, "2026-11-21 22:00", 4),
     ({"days": "workdays", "hours": "12:00-13:00"}, "2026-11-18 12:00", 1),
     ({"days": "daily", "hours": "02:00-03:00"}, "2026-11-19 02:00", 1),
     ({"start": "2026-11-19 08:00", "end": "2026-11-19 09:30"}, "2026-11-19 08:00", 1.5)],
)  # fmt: skip
def test_a_window_starts_where_the_schedule_says_in_local_time(
    site: Site, window: dict[str, str], local_start: str, hours: float
) -> None:
    channel = _config(site, windows=str([window]).replace("'", '"')).channels[0]
    start = dt.datetime.strptime(local_start, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    spans = channel.maintenance_spans(FROZEN_NOW, FROZEN_NOW + 4 * 86400)
    assert spans[0] == (start.timestamp(), start.timestamp() + hours * 3600)


def test_channel_and_global_windows_are_both_applied(site: Site) -> None:
    config = _config(
        site,
        windows='[{days: sat, hours: "22:00-23:00"}]',
        global_windows='[{days: sun, hours: "01:00-02:00"}]',
    )
    planned, unplanned = config.channels
    assert len(planned.maintenance) == 2
    assert len(unplanned.maintenance) == 1


@pytest.mark.parametrize(
    ("window", "message"),
    [('{start: "2026-11-19 08:00"}', "needs both start and end"),
     ('{start: "2026-11-19 09:00", end: "2026-11-19 08:00"}', "end after it starts"),
     ('{days: sat}', "needs both days and hours"),
     ('{days: caturday, hours: "01:00-02:00"}', "invalid days"),
     ('{days: sat, hours: "1am-2am"}', "invalid hours"),
     ('{start: "2026-11-19 08:00", end: "2026-11-19 09:00", days: sat}', "either")],
)  # fmt: skip
def test_a_bad_window_is_a_config_error_naming_the_field(
    site: Site, window: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(site, windows=f"[{window}]")
    assert message in str(caught.value)
    assert "maintenance" in str(caught.value)
