"""The `service` check: multi-step transactions, values and cookies carried between steps,
the failing step named, and `service_broken` only after K consecutive failed runs.

These run the demo portal's service section in-process (httpx's ASGI transport), so they
need no socket; `test_service_portal.py` runs the same services over real HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from probes.clock import FrozenClock
from probes.config import ChannelConfig, ConfigError, parse_config
from probes.demo import services
from probes.http.fetcher import Fetcher
from probes.model import Failure, State
from probes.runtime.runner import Runtime, judge_channel, run_check
from probes.state.store import Store

BASE = "http://portal.test"
NOW = 1_795_000_000.0  # 2026-11-19

OK_STEPS = """
          - name: form
            url: /services/ok/form
            extract:
              token: {css: "input[name=csrf_token]", attr: value}
          - name: submit
            method: POST
            url: /services/ok/submit
            form: {csrf_token: "{token}", id_no: "110101199001011234"}
            expect: {content_type: application/json, json_equals: {$.code: 0}}
            extract:
              app_id: {jsonpath: $.data.applyId}
          - name: status
            url: /services/ok/status/{app_id}
            expect: {body_contains: [已受理]}
"""

CHANNELS = {
    "svc-ok": OK_STEPS,
    "svc-step2": """
          - name: form
            url: /services/step2/form
            extract:
              token: {regex: 'name="csrf_token" value="(\\w+)"'}
          - name: submit
            method: POST
            url: /services/step2/submit
            form: {csrf_token: "{token}"}
""",
    "svc-slow": """
          - name: query
            url: /services/slow/query
""",
    "svc-maint": """
          - name: form
            url: /services/maint/form
          - name: submit
            method: POST
            url: /services/maint/submit
""",
}


def channel_config(name: str, steps: str, base: str = BASE) -> ChannelConfig:
    text = f"""
global: {{timeout: 1s}}
channels:
  - name: {name}
    kind: service
    owner: 人社局
    url: {base}/
    checks:
      service:
        steps:
{steps}
"""
    config = parse_config(text)
    channel = config.channel(name)
    assert channel is not None
    return channel


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    app = Starlette(routes=services.routes(NOW))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        with Store.open(":memory:") as store:
            yield Runtime(Fetcher(client), store, FrozenClock(NOW), parse_config("").global_)


async def run(rt: Runtime, channel: ChannelConfig) -> tuple[object, State]:
    spec = channel.checks.service
    assert spec is not None
    result = await run_check(rt, channel, "service", spec)
    return result, judge_channel(rt, channel).state


async def test_working_transaction_carries_token_cookie_and_id_through_three_steps(
    runtime: Runtime,
) -> None:
    channel = channel_config("svc-ok", OK_STEPS)
    spec = channel.checks.service
    assert spec is not None
    result = await run_check(runtime, channel, "service", spec)
    assert result.success is True, result.error
    for step in ("form", "submit", "status"):
        assert result.measurement("service_step_success", step=step) == 1.0
    assert result.measurement("service_consecutive_failures") == 0.0
    assert any("step status: ok" in line for line in result.evidence)
    assert judge_channel(runtime, channel).state is State.OK


@pytest.mark.parametrize(
    ("name", "failing_step", "failure", "words"),
    [
        ("svc-step2", "submit", Failure.HTTP_STATUS, "got 500"),
        ("svc-slow", "query", Failure.TIMEOUT, "within"),
        ("svc-maint", "form", Failure.SOFT_ERROR, "系统维护"),
    ],
)
async def test_failing_service_names_the_step_and_why(
    runtime: Runtime, name: str, failing_step: str, failure: Failure, words: str
) -> None:
    channel = channel_config(name, CHANNELS[name])
    result, state = await run(runtime, channel)
    assert result.success is False  # type: ignore[attr-defined]
    assert result.failure is failure  # type: ignore[attr-defined]
    assert result.details["failed_step"] == failing_step  # type: ignore[attr-defined]
    assert result.error.startswith(f"step {failing_step}:")  # type: ignore[attr-defined]
    assert words in result.error  # type: ignore[attr-defined]
    assert result.measurement("service_step_success", step=failing_step) == 0.0  # type: ignore[attr-defined]
    assert state is State.DEGRADED


async def test_steps_after_the_failing_one_are_not_run_and_say_so(runtime: Runtime) -> None:
    result, _ = await run(runtime, channel_config("svc-maint", CHANNELS["svc-maint"]))
    assert result.measurement("service_step_success", step="submit") is None  # type: ignore[attr-defined]
    assert any("not run after the failure: submit" in e for e in result.evidence)  # type: ignore[attr-defined]


async def test_service_is_broken_after_k_consecutive_failed_runs(runtime: Runtime) -> None:
    channel = channel_config("svc-step2", CHANNELS["svc-step2"])
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    states = []
    for _ in range(3):
        result, state = await run(runtime, channel)
        states.append(state)
        clock.advance(1800)
    assert states == [State.DEGRADED, State.DEGRADED, State.ZOMBIE]
    assert result.measurement("service_consecutive_failures") == 3.0  # type: ignore[attr-defined]
    verdict = judge_channel(runtime, channel)
    assert [r.code for r in verdict.reasons] == ["service_broken"]
    assert "3 consecutive failed runs" in verdict.reasons[0].detail


async def test_a_successful_run_resets_the_consecutive_count() -> None:
    healthy = {"now": False}

    async def page(request: Request) -> Response:
        if healthy["now"]:
            return HTMLResponse("<p>查询结果：正常</p>")
        return HTMLResponse("<p>系统繁忙，请稍后再试</p>")

    app = Starlette(routes=[Route("/q", page)])
    clock = FrozenClock(NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        with Store.open(":memory:") as store:
            rt = Runtime(Fetcher(client), store, clock, parse_config("").global_)
            channel = channel_config("flaky", "          - {name: q, url: /q}\n")
            seen = []
            for flip in (False, False, True, False):
                healthy["now"] = flip
                result, state = await run(rt, channel)
                seen.append((state, result.measurement("service_consecutive_failures")))  # type: ignore[attr-defined]
                clock.advance(1800)
    assert seen == [
        (State.DEGRADED, 1.0),
        (State.DEGRADED, 2.0),
        (State.OK, 0.0),
        (State.DEGRADED, 1.0),
    ]


async def test_a_missing_extracted_value_fails_the_step_that_should_provide_it(
    runtime: Runtime,
) -> None:
    steps = """
          - name: form
            url: /services/ok/form
            extract:
              token: {css: "input[name=no_such_field]", attr: value}
          - name: submit
            method: POST
            url: /services/ok/submit
            form: {csrf_token: "{token}"}
"""
    result, _ = await run(runtime, channel_config("svc-x", steps))
    assert result.failure is Failure.ASSERTION  # type: ignore[attr-defined]
    assert result.details["failed_step"] == "form"  # type: ignore[attr-defined]
    assert "could not take token" in result.error  # type: ignore[attr-defined]


async def test_without_the_session_cookie_the_submission_is_refused(runtime: Runtime) -> None:
    # The same transaction with the form fetched on a different path: no cookie and no
    # token reach the submission, and the JSON assertion names the refusal.
    steps = """
          - name: submit
            method: POST
            url: /services/ok/submit
            form: {csrf_token: "guessed"}
            expect: {status: [200], json_equals: {$.code: 0}}
"""
    result, _ = await run(runtime, channel_config("svc-y", steps))
    assert result.failure is Failure.HTTP_STATUS  # type: ignore[attr-defined]
    assert "got 403" in result.error  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ("          - {name: a, url: '/x?t={token}'}\n", "uses token before"),
        ("          - {name: a, url: /x}\n          - {name: a, url: /y}\n", "used twice"),
        ("          - {name: Bad-Name, url: /x}\n", "metric label"),
        (
            "          - {name: a, url: /x, extract: {t: {jsonpath: '$.a[?(@.b)]'}}}\n",
            "unsupported JSON path",
        ),
        ("          - {name: a, url: /x, extract: {t: {css: p, regex: x}}}\n", "exactly one"),
        ("          - {name: a, method: POST, url: /x, form: {a: b}, json: {a: b}}\n", "not both"),
    ],
)
def test_config_rejects_broken_transactions(steps: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        channel_config("svc-bad", steps)
