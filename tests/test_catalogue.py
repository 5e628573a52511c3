"""The metric catalogue is a contract with dashboards and alerts: this pins every family's
name, type and labels, so a rename is a deliberate edit of tests/data/metric_catalogue.txt
(and of the dashboards and alerting rules that use it)."""

from __future__ import annotations

import re
from pathlib import Path

from probes.catalogue import CH, FAMILIES, PREFIX
from probes.model import Failure

PINNED = Path(__file__).parent / "data" / "metric_catalogue.txt"
URLISH = {"url"}


def _lines() -> list[str]:
    suffix = {"counter": "_total", "gauge": "", "histogram": ""}
    return [f"{PREFIX}{f.name}{suffix[f.type]} {f.type} {','.join(f.labels)}" for f in FAMILIES]


def test_catalogue_matches_the_pinned_list() -> None:
    pinned = [
        line for line in PINNED.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]  # fmt: skip
    assert _lines() == pinned


def test_names_follow_prometheus_conventions() -> None:
    for family in FAMILIES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", family.name), family.name
        assert not family.name.endswith("_total"), "counters are declared without _total"
        if "timestamp" in family.name:
            assert family.name.endswith("_timestamp_seconds"), family.name
        assert not re.search(r"_(ms|milliseconds|minutes|hours|days|kb|mb)(_|$)", family.name)


def test_per_channel_families_carry_channel_and_kind_and_no_free_text_labels() -> None:
    for family in FAMILIES:
        if "channel" in family.labels:
            assert family.labels[:2] == CH, family.name
        free_text = URLISH & set(family.labels)
        assert not free_text or family.name == "channel_info", family.name


def test_check_failure_reasons_are_the_fixed_set_its_help_names() -> None:
    # The `reason` label of zombie_check_failure takes these values only; dashboards and
    # alerts match on them, so a new one is a deliberate edit here and in the help text.
    fixed = ["dns", "connect", "tls", "timeout", "http_status", "soft_error", "blocked",
             "assertion", "parse_error", "too_large"]  # fmt: skip
    assert sorted(f.value for f in Failure) == sorted(fixed)
    [family] = [f for f in FAMILIES if f.name == "check_failure"]
    assert all(reason in family.help for reason in fixed)
