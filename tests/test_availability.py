"""The availability kind and its verdict rule: soft error pages, and the official "site
unreachable" window over the stored history, judged through the runner (on loopback)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from probes.clock import FrozenClock
from probes.config import ChannelConfig, parse_config
from probes.demo.portal import RunningPortal
from probes.model import CheckResult, Failure, State, Verdict
from probes.pages.softerror import DEFAULT_SOFT_ERRORS, soft_error
from probes.runtime.runner import Runtime, run_channel
from probes.state import history
from probes.state.history import RunWindows
from probes.state.store import Store
from probes.verdict import JudgeContext, judge
from tests.conftest import Site

NEWS = "".join(
    f"<li><a href='/n{i}.html'>关于第{i}批政务公开事项的通知</a></li>" for i in range(80)
)


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<title>系统维护中</title><body>请稍后访问</body>", "系统维护"),
        ("<body><h1>系统维护中</h1><p>预计今晚恢复，给您带来不便敬请谅解。</p></body>", "系统维护"),
        ("<body><div>抱歉，您访问的页面不存在！</div><a href='/'>首页</a></body>", "页面不存在"),
        ("<title>某某市人民政府</title><body><ul>"
         "<li><a href='/t1.html'>关于政务服务网系统维护升级的通知</a></li>" + NEWS + "</ul></body>",
         None),
        ("<title>某某市人民政府</title><body><p>" + "政务公开。" * 400
         + "本网站将于周六进行系统维护。</p></body>", None),
        ("<body><script>var msg='系统维护';</script><p>欢迎访问</p></body>", None),
    ],
    ids=["title", "short-page", "not-found", "headline-in-news-list", "long-page-mention",
         "script-only"],
)  # fmt: skip
def test_soft_error_is_the_pages_message_not_a_mention(html: str, found: str | None) -> None:
    assert soft_error(html, list(DEFAULT_SOFT_ERRORS)) == found


DEAD = "http://127.0.0.1:1/"  # nothing listens on port 1: connection refused
NOW = 1_794_967_200.0  # the frozen clock of the `runtime` fixture


def _channel(url: str) -> ChannelConfig:
    config = parse_config(
        f"""
channels:
  - name: portal
    kind: website
    owner: 市政府办公厅
    url: {url}
    checks: {{availability: {{}}}}
"""
    )
    return config.channels[0]


def _fill(store: Store, outcomes: list[bool], start: float, step: float) -> None:
    """Past runs, as the runner records them."""
    for i, ok in enumerate(outcomes):
        result = CheckResult(
            "availability", ok, start + i * step, 0.1,
            failure=None if ok else Failure.CONNECT, error="" if ok else "connect: refused",
        )  # fmt: skip
        history.record(store, "portal", result)


async def _probe(runtime: Runtime, up: bool, portal: RunningPortal) -> Verdict:
    """One more probe through the runner, of the healthy home page or of a dead port."""
    verdict, _ = await run_channel(runtime, _channel(f"{portal.base_url}/" if up else DEAD))
    return verdict


@pytest.mark.integration
@pytest.mark.parametrize(
    ("failures", "tail_failures", "state"),
    [(0, 0, State.OK), (6, 0, State.DEGRADED), (12, 0, State.ZOMBIE), (1, 2, State.DEGRADED),
     (0, 1, State.OK)],
    ids=["all-up", "3pct-degraded", "5pct-zombie", "two-in-a-row", "one-blip"],
)  # fmt: skip
async def test_site_unreachable_follows_the_official_weekly_share(
    failures: int, tail_failures: int, state: State, runtime: Runtime, portal: RunningPortal
) -> None:
    # 200 probes over the week (about 28 a day), failures spread, then the latest ones;
    # the last of them is probed now.
    outcomes = [True] * 200
    for i in range(failures):
        outcomes[10 + i * 15] = False
    outcomes += [False] * tail_failures
    _fill(runtime.store, outcomes[:-1], NOW - 7 * 86400 + 60, 3000)
    verdict = await _probe(runtime, outcomes[-1], portal)
    assert verdict.state is state, verdict.summary
    if state is not State.OK:
        assert {r.code for r in verdict.reasons} == {"site_unreachable"}


@pytest.mark.integration
async def test_failures_older_than_the_window_are_forgotten(
    runtime: Runtime, portal: RunningPortal
) -> None:
    _fill(runtime.store, [False] * 20, NOW - 9 * 86400, 600)  # a bad day, 9 days ago
    _fill(runtime.store, [True] * 150, NOW - 6 * 86400, 3000)
    verdict = await _probe(runtime, True, portal)
    assert verdict.state is State.OK, verdict.summary


def test_a_channel_never_checked_is_unknown_not_ok() -> None:
    channel = _channel(DEAD)
    verdict = judge(channel, {}, JudgeContext(channel, NOW))
    assert verdict.state is State.UNKNOWN
    assert [r.code for r in verdict.reasons] == ["not_checked_yet"]


@pytest.mark.integration
async def test_each_check_finds_its_own_configured_phrases_on_a_gbk_page(
    runtime: Runtime, site: Site
) -> None:
    # A county site (served as GBK) whose home page says its online hall is closed; one
    # check lists that phrase beside the defaults, the other keeps the defaults.
    site.body = ("<html><head><title>某某区人民政府</title></head>"
                 "<body><h1>网上办事大厅暂停办理业务</h1></body></html>")  # fmt: skip
    config = parse_config(
        f"""
channels:
  - name: own-phrases
    kind: website
    owner: 区政府办公室
    url: {site.url}
    checks: {{availability: {{soft_error_patterns: [系统维护, 暂停办理]}}}}
  - name: defaults
    kind: website
    owner: 区政府办公室
    url: {site.url}
    checks: {{availability: {{}}}}
"""
    )
    own, default = [await run_channel(runtime, c) for c in config.channels]
    assert own[1][0].failure is Failure.SOFT_ERROR
    assert own[1][0].error == "soft_error: page says '暂停办理'"
    assert default[1][0].success is True, default[1][0].error


@pytest.mark.integration
async def test_a_restart_judges_the_window_as_the_running_monitor_does(
    runtime: Runtime, portal: RunningPortal, frozen_clock: FrozenClock, tmp_path: Path
) -> None:
    # The same probes judged by a monitor that keeps its windows in memory and by one
    # restarted before every probe (its windows counted from the state file), while the
    # week's oldest failures leave the window.
    past = [False] * 4 + [True] * 150
    _fill(runtime.store, past, NOW - 7 * 86400 + 60, 3900)
    with Store.open(tmp_path / "restarted.db") as other:
        _fill(other, past, NOW - 7 * 86400 + 60, 3900)
        for up in [False, True, False, False, True, True, False]:
            frozen_clock.advance(1800)
            running = await _probe(runtime, up, portal)
            restarted = await _probe(
                replace(runtime, store=other, windows=RunWindows()), up, portal
            )
            assert (restarted.state, restarted.reasons) == (running.state, running.reasons)
