"""The evidence history: every state change stored with its reasons, evidence and the page
that decided it, shown by `zombie-probes history`, surviving restarts, one log line per
change, bounded by retention and size."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
import time
from pathlib import Path

import pytest

from probes.clock import FrozenClock
from probes.config import Config, parse_config
from probes.model import Reason, State, Verdict
from probes.runtime.changes import ChangeTracker
from probes.runtime.monitor import open_monitor
from probes.state import evidence
from probes.state.evidence import PageSnapshot
from probes.state.store import Store
from tests.conftest import Site
from tests.test_cli import zp

MAINTENANCE = (
    "<html><head><title>系统维护中</title></head><body>系统维护中，请稍后访问</body></html>"
)


def _config(site: Site, state: Path) -> Config:
    return parse_config(
        f"""
global: {{state_path: "{state}", interval: 1h}}
channels:
  - name: district-portal
    kind: website
    owner: 某某区人民政府办公室
    title: 某某区人民政府门户网站
    url: {site.url}
    checks: {{availability: {{}}}}
"""
    )


async def _round(config: Config, clock: FrozenClock) -> Verdict:
    """Start the monitor, let each check run once, stop it (a restart each time)."""
    async with open_monitor(config, clock=clock, first_run_spread=0.0) as monitor:
        before = sum(monitor.status.runs.values())
        task = asyncio.create_task(monitor.scheduler.run())
        async with asyncio.timeout(20):
            while sum(monitor.status.runs.values()) == before:
                await asyncio.sleep(0.01)
        monitor.scheduler.stop()
        await task
        return monitor.status.verdicts["district-portal"]


async def test_history_shows_the_change_and_the_page_that_decided_it_after_restarts(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state.db"
    config = _config(site, state)
    clock = FrozenClock(float(int(time.time())))
    caplog.set_level(logging.INFO, logger="probes.runtime.changes")

    assert (await _round(config, clock)).state is State.OK
    site.body = MAINTENANCE
    clock.advance(3600)
    assert (await _round(config, clock)).state is State.ZOMBIE
    clock.advance(3600)
    assert (await _round(config, clock)).state is State.ZOMBIE  # no change: nothing new

    logged = [r.getMessage() for r in caplog.records if r.name == "probes.runtime.changes"]
    assert logged == [
        "channel district-portal: none -> ok (no reasons)",
        "channel district-portal: ok -> zombie (site_unreachable)",
    ]

    code, out, err = await zp("history", "district-portal", "--state", str(state), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema_version"] == 1
    first, second = doc["changes"]
    assert (first["from"], first["to"]) == (None, "ok")
    assert (second["from"], second["to"], second["decided_by"]) == ("ok", "zombie", "availability")
    assert second["time"].endswith("+08:00")  # the default zone, with its offset
    assert [r["code"] for r in second["reasons"]] == ["site_unreachable"]
    [check] = second["checks"]
    assert check["failure"] == "soft_error" and "系统维护" in check["error"]
    [page] = second["pages"]
    assert (page["url"], page["status"], page["encoding"]) == (site.url, 200, "gb18030")

    code, out, err = await zp("history", "district-portal", "--state", str(state))
    assert code == 0, err
    assert "ok -> zombie (decided by the availability check)" in out
    assert f"--show-snapshot {page['id']}" in out

    saved = tmp_path / "page.html"
    code, _, err = await zp(
        "history", "district-portal", "--state", str(state),
        "--show-snapshot", str(page["id"]), "--output", str(saved),
    )  # fmt: skip
    assert code == 0, err
    assert saved.read_bytes() == MAINTENANCE.encode("gbk")  # the bytes the server sent


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [(["--state", "{missing}"], 2, "no such file"),  # as serve exits for a state file
     ([], 3, "give -c FILE"),
     (["--state", "{state}", "--show-snapshot", "99"], 3, "no stored page 99")],
)  # fmt: skip
async def test_history_errors_are_one_line(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    state = tmp_path / "state.db"
    Store.open(state).close()
    filled = [a.format(missing=tmp_path / "nope.db", state=state) for a in args]
    got, _, err = await zp("history", "district-portal", *filled)
    assert got == code
    assert message in err and len(err.strip().splitlines()) == 1


def _page(n: int, size: int) -> PageSnapshot:
    body = random.Random(n).randbytes(size)  # incompressible: stored at about its size
    return PageSnapshot(f"http://x.gov.cn/{n}", 200, "text/html", "utf-8", body, size, False)


def test_pruning_keeps_the_change_in_force_and_bounds_the_pages(store: Store) -> None:
    def change(ts: float, state: State, pages: list[PageSnapshot]) -> None:
        verdict = Verdict("site", "website", state, (), ts)
        evidence.record_change(store, None, verdict, [], "availability", pages)

    change(1000.0, State.OK, [_page(1, 4096)])
    change(2000.0, State.ZOMBIE, [_page(2, 4096), _page(3, 4096)])
    change(9000.0, State.OK, [_page(4, 4096)])
    changes, pages = evidence.prune(store, 2500.0, 2500.0, max_total=10**9)
    assert (changes, pages) == (2, 3)  # the two old changes, cascading to their pages
    change(9500.0, State.ZOMBIE, [_page(5, 4096)])
    _, pages = evidence.prune(store, 0.0, 0.0, max_total=5000)
    assert pages == 1  # the oldest page went to fit the size bound
    [only] = evidence.timeline(store, "site", 9400.0)[-1:]
    assert [p.url for p in only.pages] == ["http://x.gov.cn/5"]


def test_prune_never_drops_the_only_change_of_a_channel(store: Store) -> None:
    verdict = Verdict("site", "website", State.ZOMBIE, (), 1000.0)
    evidence.record_change(store, None, verdict, [], "availability", [])
    assert evidence.prune(store, 5000.0, 5000.0, 10**9) == (0, 0)
    [kept] = evidence.timeline(store, "site", 4000.0)
    assert kept.to_state is State.ZOMBIE  # still says since when it has been a zombie


def test_a_change_the_state_file_cannot_take_is_stored_after_the_next_check(
    tmp_path: Path,
) -> None:
    config = parse_config(
        "channels: [{name: site, kind: website, owner: x, url: 'http://127.0.0.1:1/', "
        "checks: {availability: {}}}]"
    )
    [channel] = config.channels
    verdict = Verdict("site", "website", State.ZOMBIE, (), 1000.0)
    clock = FrozenClock(1000.0)
    with Store.open(tmp_path / "state.db", write_timeout=0.05, clock=clock) as store:
        tracker = ChangeTracker(store, config.global_.evidence)
        holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the file
        assert tracker.observe(channel, verdict, {}, "availability") is False
        assert store.health.errors == 1  # counted (and logged) by the store
        holder.execute("ROLLBACK")
        holder.close()
        clock.advance(2.0)  # the store's next write attempt is due
        assert tracker.observe(channel, verdict, {}, "availability") is True
        assert [c.to_state for c in evidence.timeline(store, "site", 0.0)] == [State.ZOMBIE]


async def test_history_with_a_config_reads_its_state_file_in_the_channel_zone(
    tmp_path: Path,
) -> None:
    state = tmp_path / "berlin.db"
    config = tmp_path / "berlin.yaml"
    config.write_text(
        f'global: {{state_path: "{state}"}}\n'
        "channels: [{name: embassy, kind: website, owner: 使馆, url: 'http://127.0.0.1:1/',\n"
        "            timezone: Europe/Berlin, checks: {availability: {}}}]\n",
        encoding="utf-8",
    )
    winter = 1_796_400_000.0  # 2026-12-04 16:00 UTC: CET, UTC+1
    reason = Reason("site_unreachable", State.ZOMBIE, "3/3 probes failed in 7d")
    with Store.open(state) as store:
        verdict = Verdict("embassy", "website", State.ZOMBIE, (reason,), winter)
        evidence.record_change(store, None, verdict, [], "availability", [])
    code, out, err = await zp("history", "embassy", "-c", str(config), "--since", "36500d")
    assert code == 0, err
    assert out.startswith("2026-12-04 17:00:00+01:00  embassy: none -> zombie")
    assert "zombie site_unreachable: 3/3 probes failed in 7d" in out
