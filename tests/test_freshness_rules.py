"""The freshness verdict's official thresholds, the content-change state, and the CLI spec."""

from __future__ import annotations

import pytest

from probes.config import ChannelConfig
from probes.config.freshness import FreshnessSpec
from probes.findings.freshness import ColumnFindings, ColumnStatus, FreshnessFindings
from probes.model import CheckResult, State
from probes.state import content
from probes.state.store import Store
from probes.verdict.common import JudgeContext
from probes.verdict.freshness import reasons

DAY = 86400.0


def _spec(n: int) -> FreshnessSpec:
    return FreshnessSpec.model_validate(
        {"columns": [{"id": f"c{i}", "url": f"http://a.gov.cn/{i}/"} for i in range(n)]}
    )


def _col(
    i: int, status: ColumnStatus, cls: str = "news", age: float = DAY, fake: bool = False
) -> ColumnFindings:
    return ColumnFindings(f"c{i}", cls, 14 * DAY, status, age=age, fake=fake,
                          reason="no dated items found" if status == "unknown" else "")  # fmt: skip


def _judge(cols: list[ColumnFindings]) -> set[tuple[str, State]]:
    findings = FreshnessFindings(tuple(cols))
    result = CheckResult("freshness", True, 0.0, 0.1, findings=findings)
    jc = JudgeContext(_channel(len(cols)), 0.0)
    return {(r.code, r.state) for r in reasons(_spec(len(cols)), result, findings, jc)}


def _channel(n: int) -> ChannelConfig:
    return ChannelConfig.model_validate(
        {"name": "site", "kind": "website", "owner": "-", "checks": {"freshness": _spec(n)}}
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["fresh"] * 6, set()),
        (["stale", "fresh", "fresh", "fresh"], set()),  # one of four: evidence, not verdict
        (["stale", "stale", "fresh", "fresh"], set()),
        (["stale"] * 3 + ["fresh"] * 3, {("content_stale", State.DEGRADED)}),
        (["stale"] * 5 + ["fresh"], {("content_stale", State.ZOMBIE)}),
        (["stale"], {("content_stale", State.DEGRADED)}),  # every judged column is stale
        (["stale", "unknown"], {("content_stale", State.DEGRADED),
                                ("column_undated", State.UNKNOWN)}),
        (["blank"] * 3 + ["fresh"], {("column_blank", State.DEGRADED)}),
        (["blank"] * 5, {("column_blank", State.ZOMBIE)}),
        (["blank", "fresh", "fresh"], set()),
        (["unknown", "fresh"], {("column_undated", State.UNKNOWN)}),
    ],
)  # fmt: skip
def test_site_counts_of_stale_and_blank_columns(
    statuses: list[ColumnStatus], expected: set[tuple[str, State]]
) -> None:
    assert _judge([_col(i, s) for i, s in enumerate(statuses)]) == expected


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [(9, set()), (11, {("homepage_stale", State.DEGRADED)}),
     (15, {("homepage_stale", State.ZOMBIE)})],
)  # fmt: skip
def test_home_page_age(age_days: float, expected: set[tuple[str, State]]) -> None:
    status = "stale" if age_days > 14 else "fresh"
    cols = [_col(0, status, "home", age_days * DAY), _col(1, "fresh")]
    assert _judge(cols) == expected


def test_fake_freshness_is_degraded_even_when_the_dates_look_fresh() -> None:
    assert _judge([_col(0, "fresh", fake=True), _col(1, "fresh")]) == {
        ("fake_freshness", State.DEGRADED)
    }


def test_content_change_tracks_items_not_dates(store: Store) -> None:
    def observe(items: str, dates: str, now: float) -> content.ColumnChange:
        return content.observe(store, "site", "news", items_fp=items, dates_fp=dates,
                               newest=100.0, now=now)  # fmt: skip

    first = observe("A", "d1", 1000.0)
    assert (first.first_seen, first.last_change, first.fake_since) == (True, 100.0, None)
    same = observe("A", "d1", 2000.0)
    assert (same.last_change, same.fake_since) == (100.0, None)
    moved = observe("A", "d2", 3000.0)  # dates moved, items did not
    assert (moved.last_change, moved.fake_since) == (100.0, 3000.0)
    still = observe("A", "d2", 4000.0)  # stays flagged until the items change
    assert still.fake_since == 3000.0
    changed = observe("B", "d3", 5000.0)
    assert (changed.last_change, changed.fake_since) == (5000.0, None)


def test_fingerprint_ignores_order_unless_asked() -> None:
    rows = [("a", "1"), ("b", "2")]
    assert content.fingerprint(rows) == content.fingerprint(reversed(rows))
    assert content.fingerprint(rows, ordered=True) != content.fingerprint(
        reversed(rows), ordered=True
    )


@pytest.mark.parametrize(
    ("options", "limit"),
    [({}, 14 * DAY), ({"max_age": "30d"}, 30 * DAY), ({"class": "notice"}, 180 * DAY),
     ({"class": "policy", "max_age": "1d"}, DAY)],
)  # fmt: skip
def test_one_off_spec_from_cli_options(options: dict[str, str], limit: float) -> None:
    spec = FreshnessSpec.for_url("http://a.gov.cn/tzgg/", options)
    assert [c.limit for c in spec.columns] == [limit]


def test_column_ids_are_bounded_labels() -> None:
    with pytest.raises(ValueError, match="column id"):
        FreshnessSpec.model_validate({"columns": [{"id": "http://x/", "url": "http://x/"}]})
