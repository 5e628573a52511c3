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
from probes.state import board as tracked
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


@pytest.mark.parametrize(
    ("name", "pages", "messages"),
    # A next-page link ends on the last page; a page-number template reads one page past
    # the last and stops at the first empty one.
    [("board-healthy", 2, len(boards.HEALTHY)), ("board-mayor", 4, len(boards.MAYOR))],
)
async def test_every_page_of_a_paginated_board_is_read(
    name: str, pages: int, messages: int, demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel(name)
    assert channel is not None
    _, (result,) = await run_channel(runtime, channel)
    assert len(tracked.messages(runtime.store, name)) == messages
    assert result.evidence[0].startswith(f"read {pages} list page(s): {messages} messages")


async def test_gbk_board_replies_are_decoded_and_templates_found(
    demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel("board-boilerplate")
    assert channel is not None
    _, (result,) = await run_channel(runtime, channel)
    texts = {m.id: m.reply_text for m in tracked.messages(runtime.store, "board-boilerplate")}
    assert texts == {str(m.id): m.reply for m in boards.BOILERPLATE}
    assert result.measurement("board_boilerplate_ratio") == 5 / 8
