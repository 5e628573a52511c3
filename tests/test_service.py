"""The `service` check: multi-step transactions, values and cookies carried between steps,
the failing step named, and `service_broken` only after K consecutive failed runs.

These run the demo portal's service section in-process (httpx's ASGI transport), so they
need no socket; `test_service_portal.py` runs the same services over real HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from probes.clock import FrozenClock
from probes.config import ChannelConfig, ConfigError, parse_config
from probes.demo import services
from probes.findings import ServiceFindings
from probes.http.client import open_fetcher
from probes.kinds.pagework import open_page_workers
from probes.model import CheckResult, Failure, State, Verdict
from probes.runtime.runner import Runtime, run_channel
from probes.state.store import Store
from tests.measurements import measured

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


@asynccontextmanager
async def in_process(app: Starlette, clock: FrozenClock) -> AsyncIterator[Runtime]:
    """The runtime `open_runtime` opens, with the portal app as the client's transport."""
    settings = parse_config("").global_
    transport = httpx.ASGITransport(app=app)
    async with (
        open_fetcher(settings, clock=clock, transport=transport) as fetcher,
        open_page_workers() as pages,
    ):
        with Store.open(":memory:") as store:
            yield Runtime(fetcher, store, clock, settings, pages)


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    async with in_process(Starlette(routes=services.routes(NOW)), FrozenClock(NOW)) as rt:
        yield rt


async def run(rt: Runtime, channel: ChannelConfig) -> tuple[CheckResult, Verdict]:
    verdict, (result,) = await run_channel(rt, channel)
    return result, verdict


def failed_step(result: CheckResult) -> str:
    """The step the transaction stopped at: the last one run, and the one that failed."""
    assert isinstance(result.findings, ServiceFindings)
    *passed, last = result.findings.steps
    assert all(s.ok for s in passed) and not last.ok
    return last.name


async def test_working_transaction_carries_token_cookie_and_id_through_three_steps(
    runtime: Runtime,
) -> None:
    channel = channel_config("svc-ok", OK_STEPS)
    result, verdict = await run(runtime, channel)
    assert result.success is True, result.error
    for step in ("form", "submit", "status"):
        assert measured(result, "service_step_success", step=step) == 1.0
    assert measured(result, "service_consecutive_failures") == 0.0
    assert any("step status: ok" in line for line in result.evidence)
    assert verdict.state is State.OK


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
    result, verdict = await run(runtime, channel)
    assert result.success is False
    assert result.failure is failure
    assert failed_step(result) == failing_step
    assert result.error.startswith(f"step {failing_step}:")
    assert words in result.error
    assert measured(result, "service_step_success", step=failing_step) == 0.0
    assert verdict.state is State.DEGRADED


async def test_steps_after_the_failing_one_are_not_run_and_say_so(runtime: Runtime) -> None:
    result, _ = await run(runtime, channel_config("svc-maint", CHANNELS["svc-maint"]))
    assert measured(result, "service_step_success", step="submit") is None
    assert any("not run after the failure: submit" in e for e in result.evidence)


async def test_service_is_broken_after_k_consecutive_failed_runs(runtime: Runtime) -> None:
    channel = channel_config("svc-step2", CHANNELS["svc-step2"])
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    states = []
    for _ in range(3):
        result, verdict = await run(runtime, channel)
        states.append(verdict.state)
        clock.advance(1800)
    assert states == [State.DEGRADED, State.DEGRADED, State.ZOMBIE]
    assert measured(result, "service_consecutive_failures") == 3.0
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
    async with in_process(app, clock) as rt:
        channel = channel_config("flaky", "          - {name: q, url: /q}\n")
        seen = []
        for flip in (False, False, True, False):
            healthy["now"] = flip
            result, verdict = await run(rt, channel)
            seen.append((verdict.state, measured(result, "service_consecutive_failures")))
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
    assert result.failure is Failure.ASSERTION
    assert failed_step(result) == "form"
    assert "could not take token" in result.error


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
    assert result.failure is Failure.HTTP_STATUS
    assert "got 403" in result.error


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
