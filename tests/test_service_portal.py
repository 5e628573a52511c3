"""The online services of the simulated portal, monitored over real sockets with
config/demo.yaml: verdicts match the ground truth, and the failing services become
zombies exactly at the K-th consecutive failed run."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from probes.clock import FrozenClock
from probes.config import Config
from probes.demo.portal import RunningPortal
from probes.demo.truth import codes
from probes.findings import ServiceFindings
from probes.model import State
from probes.runtime.runner import Runtime, run_channel

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("name", "failing_step"),
    [("svc-step2", "submit"), ("svc-slow", "query"), ("svc-maint", "form")],
)
async def test_failing_service_is_a_zombie_at_the_third_failed_run(
    name: str, failing_step: str, demo_config: Config, runtime: Runtime, frozen_clock: FrozenClock
) -> None:
    channel = demo_config.channel(name)
    assert channel is not None
    spec = channel.checks.service
    assert spec is not None
    assert spec.failures_for_broken == 3
    states = []
    for _ in range(spec.failures_for_broken):
        verdict, (result,) = await run_channel(runtime, channel)
        states.append(verdict.state)
        assert isinstance(result.findings, ServiceFindings)
        *passed, last = result.findings.steps
        assert all(s.ok for s in passed)
        assert (last.name, last.ok) == (failing_step, False)
        frozen_clock.advance(spec.every)

    assert states == [State.DEGRADED, State.DEGRADED, State.ZOMBIE]
    assert codes(verdict) == {"service_broken"}


async def test_working_service_stays_ok_run_after_run(
    demo_config: Config, runtime: Runtime, frozen_clock: FrozenClock
) -> None:
    channel = demo_config.channel("svc-ok")
    assert channel is not None
    for _ in range(3):
        verdict, (result,) = await run_channel(runtime, channel)
        assert verdict.state is State.OK, verdict.summary
        assert [line.split(":")[0] for line in result.evidence] == [
            "step form",
            "step submit",
            "step status",
        ]
        frozen_clock.advance(1200)


async def test_cli_prints_each_step_of_a_configured_service(portal: RunningPortal) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "probes", "check", "-c", str(ROOT / "config" / "demo.yaml"),
        "--channel", "svc-ok", "--channel", "svc-step2",
        cwd=ROOT, env={**os.environ, "DEMO_PORTAL": portal.base_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    text = out.decode()
    assert proc.returncode == 1, text  # WARNING: svc-step2 failed once
    for step in ("form", "submit", "status"):
        assert f"step {step}: ok" in text
    assert "step submit: FAILED (HTTP 500" in text
