"""The columns section of the simulated portal, monitored over real sockets: extraction and
verdicts reach the portal's ground truth exactly, through the real client, fetcher,
runner and state store."""

from __future__ import annotations

import pytest

from probes.clock import FrozenClock
from probes.config import Config
from probes.demo import columns
from probes.demo.portal import RunningPortal
from probes.findings.freshness import ColumnFindings, FreshnessFindings
from probes.model import CheckResult
from probes.runtime.runner import Runtime, run_channel
from tests.measurements import measured

pytestmark = pytest.mark.integration


def _columns(result: CheckResult) -> dict[str, ColumnFindings]:
    assert isinstance(result.findings, FreshnessFindings)
    return {c.id: c for c in result.findings.columns}


@pytest.mark.parametrize("name", sorted(columns.TRUTH))
async def test_every_column_yields_exactly_its_ground_truth(
    name: str, demo_config: Config, runtime: Runtime, portal: RunningPortal
) -> None:
    channel = demo_config.channel(name)
    assert channel is not None
    expected = {
        col: truth
        for (chan, col), truth in columns.column_truth(portal.now).items()
        if chan == name
    }

    _, (result,) = await run_channel(runtime, channel)

    found = _columns(result)
    assert found.keys() == expected.keys()
    for col, truth in expected.items():
        got = found[col]
        assert (got.status, got.newest, got.newest_title, got.items, got.fake) == (
            truth.status, truth.newest, truth.title, truth.items, truth.fake,
        ), (col, got)  # fmt: skip


async def test_fake_freshness_without_dates_in_urls_is_caught_on_the_second_run(
    demo_config: Config, runtime: Runtime, frozen_clock: FrozenClock
) -> None:
    channel = demo_config.channel("demo-columns-fake")
    assert channel is not None

    _, (first,) = await run_channel(runtime, channel)
    frozen_clock.advance(1800)
    _, (second,) = await run_channel(runtime, channel)

    assert _columns(first)["bulletin"].fake is False
    assert _columns(second)["bulletin"].fake is True
    # The list did not change, so its newest item cannot be newer than the first sighting.
    last_change = _columns(first)["bulletin"].last_change
    assert _columns(second)["bulletin"].last_change == last_change
    assert isinstance(last_change, float)
    assert _columns(second)["bulletin"].newest <= last_change
    assert any("bulletin" in line and "fake freshness" in line for line in second.evidence)


async def test_unreadable_columns_are_unknown_not_fresh_and_not_stale(
    demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel("demo-columns-unreadable")
    assert channel is not None

    _, (result,) = await run_channel(runtime, channel)

    assert result.success is None
    reasons = {c: v.reason for c, v in _columns(result).items()}
    assert reasons["undated"].startswith("no dated items found")
    assert reasons["huge"].startswith("too_large")
    assert reasons["junk"].startswith("parse_error: not an HTML page")
    assert measured(result, "content_stale_columns") == 0
    assert measured(result, "content_items", column="undated") is None


async def test_measurements_are_labelled_by_column_id(
    demo_config: Config, runtime: Runtime, portal: RunningPortal
) -> None:
    channel = demo_config.channel("demo-columns-stale")
    assert channel is not None
    truth = columns.column_truth(portal.now)[("demo-columns-stale", "notices")]

    _, (result,) = await run_channel(runtime, channel)

    assert measured(result, "content_newest_item_timestamp_seconds", column="notices") == (
        truth.newest
    )
    assert measured(result, "content_items", column="notices") == truth.items
    assert measured(result, "content_max_age_seconds", column="notices") == 180 * 86400
    assert measured(result, "content_stale_columns") == 5
    assert measured(result, "content_blank_columns") == 0
