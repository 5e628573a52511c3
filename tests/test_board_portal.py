"""The message boards of the simulated portal, monitored over real sockets with
config/demo.yaml: verdicts match the ground truth exactly, pagination and GBK pages are
read, and tracked messages are followed after they leave the pages read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from probes.clock import FrozenClock
from probes.config import Config
from probes.demo import boards
from probes.demo.truth import codes
from probes.httpclient import fetcher_for, open_client
from probes.runner import Runtime, run_channel
from probes.state.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture
async def runtime(
    demo_config: Config, store: Store, frozen_clock: FrozenClock
) -> AsyncIterator[Runtime]:
    settings = demo_config.global_
    async with open_client(settings) as client:
        yield Runtime(fetcher_for(settings, client), store, frozen_clock, settings)


@pytest.mark.parametrize("name", sorted(boards.TRUTH))
async def test_first_round_verdict_matches_ground_truth(
    name: str, demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel(name)
    assert channel is not None, f"{name} is missing from config/demo.yaml"
    truth = boards.TRUTH[name]

    verdict, _ = await run_channel(runtime, channel)

    assert (verdict.state, codes(verdict)) == (truth.state, truth.reasons), verdict.summary
