"""The simulated portal's ground truth, channel by channel: the first round of checks over
real HTTP must reach exactly the state and the reason codes each section says.

Every section served over HTTP is covered here through `probes.demo.portal.ground_truth`;
the call robot's hotlines are judged from records (tests/test_hotline_verdicts.py)."""

from __future__ import annotations

import pytest

from probes.config import Config
from probes.demo.portal import ground_truth
from probes.demo.truth import codes
from probes.runtime.runner import Runtime, run_channel

pytestmark = pytest.mark.integration
TRUTH = ground_truth()


@pytest.mark.parametrize("name", sorted(TRUTH))
async def test_first_round_verdict_matches_ground_truth(
    name: str, demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel(name)
    assert channel is not None, f"{name} is missing from config/demo.yaml"
    truth = TRUTH[name]

    verdict, _ = await run_channel(runtime, channel)

    assert (verdict.state, codes(verdict)) == (truth.state, truth.reasons), verdict.summary
