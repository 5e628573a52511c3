"""The message boards of the simulated portal, monitored over real sockets with
config/demo.yaml: verdicts match the ground truth exactly, pagination and GBK pages are
read, and tracked messages are followed after they leave the pages read."""

from __future__ import annotations

import pytest

from probes.config import Config
from probes.demo import boards
from probes.runtime.runner import Runtime, run_channel
from probes.state import board as tracked
from tests.measurements import measured

pytestmark = pytest.mark.integration


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
    assert measured(result, "board_boilerplate_ratio") == 5 / 8
