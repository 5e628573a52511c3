"""The alerting rules in dashboards/alerts.yml: valid for Prometheus (`promtool check
rules`), behaving as their unit tests say (`promtool test rules`), covering every alert the
operations guide promises, each with severity and bilingual annotations, each using only
series the exporter renders, and each proven to fire by at least one unit test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dashboard_support import (
    ALERTS,
    ALERTS_TEST,
    PROMETHEUS_SERIES,
    AlertRule,
    alert_rules,
    catalogue_series,
    metric_names,
)

# The alerts the operations guide (docs/operations.md) documents, one per failure an
# operator must hear about.
PROMISED = {
    "ZombieChannel", "DegradedChannel", "SiteUnreachable", "StaleContent",
    "BoardOverdue", "BoardUnanswered", "HotlineUnanswered", "HotlineFeedSilent",
    "CertificateExpiring", "MonitorDown", "ConfigReloadFailed", "IngestionStalled",
}  # fmt: skip


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI (Debian package `prometheus`)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return found


def test_promtool_accepts_the_rules() -> None:
    run = subprocess.run(
        [_promtool(), "check", "rules", str(ALERTS)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_rule_unit_tests_pass() -> None:
    run = subprocess.run(
        [_promtool(), "test", "rules", str(ALERTS_TEST)],
        capture_output=True, text=True, timeout=60, check=False, cwd=ALERTS_TEST.parent,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_promised_alert_exists() -> None:
    missing = PROMISED - {r.name for r in alert_rules()}
    assert not missing


def test_alert_names_are_unique() -> None:
    names = [r.name for r in alert_rules()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r.name)
def test_alert_has_severity_and_bilingual_annotations(rule: AlertRule) -> None:
    assert rule.labels.get("severity") in {"critical", "warning"}
    annotations = rule.annotations
    for key in ("summary", "summary_zh", "description", "description_zh"):
        assert annotations.get(key, "").strip(), f"{rule.name} lacks {key}"
    # The Chinese text is Chinese, not a copy of the English one.
    assert any("\u4e00" <= ch <= "\u9fff" for ch in annotations["description_zh"])


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r.name)
def test_alert_uses_only_exported_series(rule: AlertRule) -> None:
    names = metric_names(rule.expr)
    assert names, "an alert must select at least one series"
    unknown = names - catalogue_series() - PROMETHEUS_SERIES
    assert not unknown, f"not rendered by the exporter (probes/catalogue.py): {unknown}"


def _alerts_proven_to_fire() -> set[str]:
    doc = yaml.safe_load(ALERTS_TEST.read_text(encoding="utf-8"))
    return {
        case["alertname"]
        for test in doc["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r.name)
def test_every_alert_has_a_unit_test_where_it_fires(rule: AlertRule) -> None:
    assert rule.name in _alerts_proven_to_fire()


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('zombie_channel_state{state="zombie"} == 1', {"zombie_channel_state"}),
        (
            "histogram_quantile(0.9, sum by (le) "
            "(rate(zombie_scheduler_lateness_seconds_bucket[5m])))",
            {"zombie_scheduler_lateness_seconds_bucket"},
        ),
        ("time() - zombie_hotline_last_record_timestamp_seconds > 3600",
         {"zombie_hotline_last_record_timestamp_seconds"}),
        ("a * on(job, instance) group_left(owner) b offset 5m", {"a", "b"}),
        ('{__name__="zombie_build_info"}', {"zombie_build_info"}),
        ('up{job=~"zombie.*"} == 0 unless ignoring(x) foo_bar', {"up", "foo_bar"}),
    ],
)  # fmt: skip
def test_metric_name_extraction(expr: str, expected: set[str]) -> None:
    """The checks above are only as good as the extraction of names from PromQL."""
    assert metric_names(expr) == expected


RENDER = ALERTS.parent.parent / "scripts" / "render-alerts"


def _render(*args: str) -> str:
    run = subprocess.run([sys.executable, str(RENDER), *args], capture_output=True,
                         text=True, timeout=60, check=True)  # fmt: skip
    return run.stdout


def test_rendering_with_the_default_selector_gives_the_shipped_rules() -> None:
    assert _render() == ALERTS.read_text(encoding="utf-8")


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r.name)
def test_every_expression_takes_the_job_selector(rule: AlertRule) -> None:
    """Each selector of the rule carries the one job selector the renderer replaces."""
    for selector in re.findall(r"\b(?:zombie_\w+|up)(\{[^}]*\})?", rule.expr):
        assert 'job=~"zombie-probes.*"' in selector, rule.name


# Three vantage points with the rules rendered for `--min-locations 2` and other job
# names: two locations agreeing are enough; one alone is not; a job the selector does
# not name is not seen at all.
MIN_LOCATIONS_TEST = """
rule_files: [alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{series}
    alert_rule_test:
      - eval_time: 15m
        alertname: SiteUnreachable
        exp_alerts:
          - exp_labels: {{severity: critical, channel: two-of-three, kind: website, reason: site_unreachable, owner: o, title: t, url: u}}
            exp_annotations:
              summary: "t (two-of-three) is unreachable"
              summary_zh: "「t」无法访问"
              description: "Availability probes of u fail too often (more than the official share of a week's probes, or several in a row). Check DNS, the certificate, the server and the network path from the monitor; the dashboard shows the failure reason per probe (zombie_check_failure)."
              description_zh: "「t」（u）可用性探测失败次数超过规定比例或连续失败。请检查域名解析、证书、服务器及网络；仪表盘中可查看每次失败的原因。"
"""  # noqa: E501


def _series(job: str, location: str, channel: str, unreachable: bool) -> str:
    labels = f'job="{job}",instance="{location}:9705",location="{location}",channel="{channel}"'
    lines = [
        f'zombie_channel_state{{{labels},kind="website",state="ok"}}',
        f'zombie_channel_info{{{labels},kind="website",owner="o",title="t",url="u"}}',
    ]
    if unreachable:
        lines.append(f'zombie_channel_reason{{{labels},kind="website",reason="site_unreachable"}}')
    return "".join(f"      - series: '{line}'\n        values: '1x20'\n" for line in lines)


def test_min_locations_lets_that_many_agreeing_locations_alert(tmp_path: Path) -> None:
    series = "".join(
        _series(job, location, channel, unreachable)
        for job, channel, verdicts in [
            ("probes", "two-of-three", (True, True, False)),
            ("probes", "one-of-three", (True, False, False)),
            ("zombie-probes", "not-selected", (True, True, True)),
        ]
        for location, unreachable in zip(("a", "b", "c"), verdicts, strict=True)
    )
    (tmp_path / "alerts.yml").write_text(
        _render("--selector", 'job="probes"', "--min-locations", "2"), encoding="utf-8"
    )
    (tmp_path / "test.yml").write_text(MIN_LOCATIONS_TEST.format(series=series.rstrip("\n")),
                                       encoding="utf-8")  # fmt: skip
    run = subprocess.run([_promtool(), "test", "rules", "test.yml"], capture_output=True,
                         text=True, timeout=60, check=False, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
