"""The runner's envelope and the typed contract from kind to rule: a check that ran out of
time is a failure its rule sees (never ok), and the latest results, findings included,
come back from the state store as they were stored (a restart judges what it judged)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from probes import kinds
from probes.clock import FrozenClock
from probes.config import ChannelConfig, Config, parse_config
from probes.kinds.context import CheckContext
from probes.model import Failure, Report, State
from probes.runtime.runner import HARD_STOP_GRACE, Runtime, run_channel
from probes.runtime.scheduler import Scheduler
from probes.runtime.status import MonitorStatus
from probes.state import history

# One channel per check kind, each with a 1 s deadline.
STUCK_CONFIG = """
global: {timeout: 1s}
channels:
  - {name: site, kind: website, owner: x, url: "http://127.0.0.1:1/",
     checks: {availability: {}}}
  - {name: columns, kind: website, owner: x,
     checks: {freshness: {columns: [{id: news, url: "http://127.0.0.1:1/news/"}]}}}
  - {name: links, kind: website, owner: x, url: "http://127.0.0.1:1/", checks: {links: {}}}
  - {name: svc, kind: service, owner: x, url: "http://127.0.0.1:1/",
     checks: {service: {steps: [{name: home, url: /}]}}}
  - {name: board, kind: board, owner: x, url: "http://127.0.0.1:1/", checks: {board: {}}}
  - {name: line, kind: hotline, owner: x, checks: {hotline: {}}}
"""


@pytest.mark.parametrize(
    ("channel", "check", "code", "state"),
    [
        ("site", "availability", "site_unreachable", State.ZOMBIE),  # a failed probe
        ("svc", "service", "service_broken", State.DEGRADED),  # a failed run
        ("columns", "freshness", "evidence_missing", State.UNKNOWN),
        ("links", "links", "evidence_missing", State.UNKNOWN),
        ("board", "board", "evidence_missing", State.UNKNOWN),
        ("line", "hotline", "hotline_feed_silent", State.UNKNOWN),
    ],
)
async def test_a_check_that_ran_out_of_time_is_never_ok(
    channel: str,
    check: str,
    code: str,
    state: State,
    runtime: Runtime,
    frozen_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def stuck(spec: object, ctx: CheckContext) -> Report:
        await asyncio.Event().wait()  # ignores its deadline, as a runaway parse would
        raise AssertionError("unreachable")

    monkeypatch.setitem(kinds.KINDS, check, replace(kinds.KINDS[check], check=stuck))
    found = parse_config(STUCK_CONFIG).channel(channel)
    assert found is not None

    running = asyncio.create_task(run_channel(runtime, found))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not running.done()  # nothing but the clock ends it
    frozen_clock.advance(1 + HARD_STOP_GRACE)
    async with asyncio.timeout(10):  # a bound for a broken runner, not a wait
        verdict, (result,) = await running

    assert (result.check, result.success, result.failure) == (check, False, Failure.TIMEOUT)
    assert "did not finish within 1s" in result.error
    assert [(r.code, r.state) for r in verdict.reasons] == [(code, state)]
    assert verdict.state is state


CHANNELS = ["demo-home", "demo-closed-port", "svc-step2", "demo-columns-stale",
            "board-mayor", "demo-links-dead"]  # fmt: skip


def _channels(config: Config) -> list[ChannelConfig]:
    found = [config.channel(name) for name in CHANNELS]
    assert all(c is not None for c in found)
    return [c for c in found if c is not None]


@pytest.mark.integration
async def test_latest_results_come_back_from_the_store_as_they_were(
    demo_config: Config, runtime: Runtime
) -> None:
    ran = {}
    for channel in _channels(demo_config):
        _, results = await run_channel(runtime, channel)
        ran.update({(channel.name, r.check): r for r in results})

    restored = history.latest(runtime.store)

    assert restored == ran
    assert all(r.findings is not None for r in restored.values())


async def test_hotline_findings_come_back_from_the_store_as_they_were(runtime: Runtime) -> None:
    from probes.demo import callrobot
    from tests.test_hotline_verdicts import _channel, _ingest

    _ingest(runtime.store, callrobot.records(runtime.clock.now()))
    channel = _channel("hotline-busy")

    _, (result,) = await run_channel(runtime, channel)

    assert result.findings is not None
    assert history.latest(runtime.store) == {("hotline-busy", "hotline"): result}


@pytest.mark.integration
async def test_restart_judges_from_the_restored_results_what_the_run_judged(
    demo_config: Config, runtime: Runtime
) -> None:
    channels = _channels(demo_config)
    judged = {c.name: (await run_channel(runtime, c))[0] for c in channels}
    scheduler = Scheduler(runtime, MonitorStatus())
    scheduler.apply(demo_config.model_copy(update={"channels": channels}))

    scheduler.restore()

    got = scheduler.status.verdicts
    assert {n: (v.state, v.reasons) for n, v in got.items()} == {
        n: (v.state, v.reasons) for n, v in judged.items()
    }


async def test_a_result_stored_in_an_older_shape_is_not_checked_yet_not_a_crash(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(STUCK_CONFIG)
    old = {"check": "freshness", "kind": "freshness", "success": True, "started": 1.0,
           "duration": 0.1, "failure": None, "error": "", "evidence": [], "measurements": [],
           "details": {"columns": []}}  # fmt: skip
    with runtime.store.transaction() as conn:
        conn.execute(
            "INSERT INTO check_latest VALUES (?, ?, ?)", ("columns", "freshness", json.dumps(old))
        )
    scheduler = Scheduler(runtime, MonitorStatus())
    scheduler.apply(config)

    scheduler.restore()

    verdict = scheduler.status.verdicts["columns"]
    assert (verdict.state, [r.code for r in verdict.reasons]) == (
        State.UNKNOWN, ["not_checked_yet"]
    )  # fmt: skip
    assert "columns/freshness" in caplog.text
