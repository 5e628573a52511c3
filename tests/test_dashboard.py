"""Static checks of the Grafana dashboard and its provisioning: it loads as current-schema
JSON, it has the datasource and channel/kind/owner variables, every panel queries through
the datasource variable, every query is valid PromQL (checked by promtool) that uses only
series the exporter renders, and the supervisor's overview table joins the Chinese titles.
Whether each query returns data from a real Prometheus is tests/test_e2e_prometheus.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from dashboard_support import (
    DASHBOARDS,
    PROMETHEUS_SERIES,
    PROMETHEUS_YML,
    PanelQuery,
    catalogue_series,
    dashboard,
    detail_series,
    metric_names,
    panel_queries,
    panels,
    render,
)

BOARD = dashboard()
QUERIES = panel_queries(BOARD)
# Grafana 10.4 / 11 write schemaVersion 39; older schemas get migrated on every load.
MIN_SCHEMA = 39


def _variables() -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in BOARD["templating"]["list"]}


def test_dashboard_has_current_schema_and_a_stable_uid() -> None:
    assert BOARD["schemaVersion"] >= MIN_SCHEMA
    assert BOARD["uid"] == "zombie-probes"
    assert BOARD["title"]
    assert "id" not in BOARD or BOARD["id"] is None, "an exported id breaks provisioning"


def test_datasource_is_a_prometheus_variable() -> None:
    ds = _variables()["datasource"]
    assert ds["type"] == "datasource"
    assert ds["query"] == "prometheus"


@pytest.mark.parametrize(
    ("name", "query_has"),
    [
        ("kind", "label_values(zombie_channel_info, kind)"),
        ("owner", 'label_values(zombie_channel_info{kind=~"$kind"}, owner)'),
        ("channel", 'owner=~"$owner"'),
    ],
)
def test_channel_kind_owner_variables_come_from_channel_info(name: str, query_has: str) -> None:
    var = _variables()[name]
    assert var["type"] == "query"
    assert query_has in var["definition"]
    assert var["multi"]
    assert var["includeAll"]
    # No custom "All" value: Grafana then sends the listed values, so the owner and kind
    # filters still narrow the channels when "All" channels are selected.
    assert not var.get("allValue")


def test_every_panel_and_target_uses_the_datasource_variable() -> None:
    for panel in panels(BOARD):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_panel_ids_are_unique_and_panels_do_not_overlap() -> None:
    ids = [p["id"] for p in panels(BOARD)]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for p in panels(BOARD):
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        mine = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not mine & cells, f"{p['title']} overlaps another panel"
        cells |= mine


def test_every_panel_has_a_query_and_a_description() -> None:
    for panel in panels(BOARD):
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["description"].strip(), panel["title"]


def test_panels_reading_detail_series_say_they_need_detail() -> None:
    # A panel left empty by the headline default must tell the operator why, not look broken.
    detail = detail_series()
    readers = [
        panel
        for panel in panels(BOARD)
        if any(metric_names(render(t["expr"])) & detail for t in panel.get("targets", []))
    ]
    assert readers
    for panel in readers:
        assert "global.metrics_detail: true" in panel["description"], panel["title"]
        assert "/metrics?detail=true" in panel["description"], panel["title"]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.panel}/{q.ref}")
def test_panel_query_uses_only_exported_series(query: PanelQuery) -> None:
    names = metric_names(render(query.expr))
    assert names
    unknown = names - catalogue_series() - PROMETHEUS_SERIES
    assert not unknown, f"not rendered by the exporter (probes/catalogue.py): {unknown}"


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.panel}/{q.ref}")
def test_per_channel_queries_follow_the_channel_and_kind_variables(query: PanelQuery) -> None:
    per_channel = {n for n in metric_names(query.expr) if n.startswith("zombie_")} - {
        f"zombie_{name}" for name in MONITOR_FAMILIES
    }
    if per_channel:
        assert '$channel"' in query.expr, query.panel
        assert '$kind"' in query.expr, query.panel


MONITOR_FAMILIES = (
    "scheduler_lateness_seconds_bucket", "scheduler_checks_in_flight", "scheduler_channels",
    "config_last_reload_successful", "config_last_reload_success_timestamp_seconds",
    "hotline_records_rejected_total", "hotline_records_ingested_total",
    "hotline_records_not_mine_total", "state_write_errors_total", "state_writes_pending",
    "hotline_source_connected", "build_info", "workorder_events_rejected_total",
    "workorder_events_ingested_total",
)  # fmt: skip


def test_dashboard_covers_every_family_an_operator_needs() -> None:
    used = set().union(*(metric_names(q.expr) for q in QUERIES))
    # Families deliberately left to ad-hoc queries: per-probe details that the panels
    # already summarise (status code, duration, success share are shown). The window
    # counts are the verdict's inputs; the success panel reads zombie_check_success.
    left_out = {
        "zombie_availability_window_probes", "zombie_availability_window_failures",
        "zombie_availability_consecutive_failures", "zombie_http_content_length_bytes",
        "zombie_http_redirects", "zombie_scheduler_lateness_seconds_sum",
        "zombie_scheduler_lateness_seconds_count",
    }  # fmt: skip
    missing = catalogue_series() - used - left_out
    assert not missing, f"no panel shows {sorted(missing)}"


def test_overview_table_names_channels_by_title_and_owner() -> None:
    overview = next(p for p in panels(BOARD) if p["title"].startswith("Channels that need"))
    expr = overview["targets"][0]["expr"]
    assert "zombie_channel_reason" in expr
    assert "group_left(owner, title)" in expr
    assert "zombie_channel_info" in expr
    assert overview["targets"][0]["format"] == "table"


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each rendered query as a recording rule."""
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI (Debian package `prometheus`)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    exprs = [render(q.expr) for q in QUERIES]
    exprs += [render(a["expr"]) for a in BOARD["annotations"]["list"] if "expr" in a]
    exprs += [
        v["definition"].removeprefix("label_values(").rsplit(",", 1)[0]
        for v in _variables().values()
        if v["type"] == "query"
    ]
    rules = {
        "groups": [
            {"name": "dashboard", "rules": [
                {"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)
            ]}
        ]
    }  # fmt: skip
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    run = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_render_fills_grafana_variables() -> None:
    expr = 'rate(x{channel=~"$channel", kind=~"${kind}"}[$__rate_interval])'
    assert render(expr) == 'rate(x{channel=~".*", kind=~".*"}[1m])'
    assert render(expr, {"channel": "a|b"}) == 'rate(x{channel=~"a|b", kind=~".*"}[1m])'


# --- provisioning and the example Prometheus config ---------------------------------------


def test_datasource_provisioning_declares_the_default_prometheus() -> None:
    doc = yaml.safe_load((DASHBOARDS / "provisioning/datasources/prometheus.yml").read_text())
    assert doc["apiVersion"] == 1
    (ds,) = doc["datasources"]
    assert ds["type"] == "prometheus"
    assert ds["isDefault"] is True


def test_dashboard_provisioning_points_where_compose_mounts_the_json() -> None:
    doc = yaml.safe_load((DASHBOARDS / "provisioning/dashboards/zombie-probes.yml").read_text())
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    compose = yaml.safe_load((DASHBOARDS.parent / "deploy/compose.yaml").read_text())
    grafana_volumes = compose["services"]["grafana"]["volumes"]
    assert any(
        v.split(":")[1].rstrip("/") == provider["options"]["path"]
        or v.split(":")[1] == provider["options"]["path"] + "/zombie-probes.json"
        for v in grafana_volumes
    ), grafana_volumes


def test_example_prometheus_config_loads_the_alert_rules() -> None:
    doc = yaml.safe_load(PROMETHEUS_YML.read_text())
    assert doc["rule_files"] == ["alerts.yml"]
    jobs = {j["job_name"]: j for j in doc["scrape_configs"]}
    # MonitorDown watches this job name.
    assert "zombie-probes" in jobs


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.panel}/{q.ref}")
def test_every_query_takes_the_job_and_location_variables(query: PanelQuery) -> None:
    for name, matchers in re.findall(r"\b(zombie_\w+)\{([^}]*)\}", query.expr):
        assert 'job=~"$job"' in matchers, f"{query.panel}: {name}"
        if name != "zombie_channel_info":  # the owner and title are the same everywhere
            assert 'location=~"$location"' in matchers, f"{query.panel}: {name}"


def _panel(title: str) -> str:
    (query,) = (q for q in QUERIES if q.panel == title)
    return render(query.expr)


# One zombie channel scraped by the /metrics job and by a /probe job, an ok one by the
# /metrics job only: the dashboard shows each channel once.
_TWO_JOBS = [
    (job, instance, channel, state)
    for job, instance, channel, state in (
        ("zombie-probes", "m1:9705", "yz-portal", "zombie"),
        ("zombie-probes-probe", "yz-portal", "yz-portal", "zombie"),
        ("zombie-probes", "m1:9705", "yz-board", "ok"),
    )
]


def _two_jobs_series() -> list[dict[str, str]]:
    out = []
    for job, instance, channel, current in _TWO_JOBS:
        labels = f'job="{job}",instance="{instance}",channel="{channel}",kind="website"'
        for state in ("ok", "degraded", "zombie", "unknown"):
            value = "1x5" if state == current else "0x5"
            out.append({"series": f'zombie_channel_state{{{labels},state="{state}"}}',
                        "values": value})  # fmt: skip
        out.append({"series": f'zombie_channel_info{{{labels},owner="o",title="t",url="u"}}',
                    "values": "1x5"})  # fmt: skip
    return out


def test_a_channel_scraped_by_two_jobs_counts_once(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (apt-get install prometheus)")
    state = 'channel="{0}", kind="website", owner="o", state="{1}", title="t", url="u"'
    cases = [
        (_panel("Channels zombie"), [{"labels": "{}", "value": 1}]),
        (_panel("Channels ok"), [{"labels": "{}", "value": 1}]),
        (_panel("Channels degraded"), [{"labels": "{}", "value": 0}]),
        (_panel("All channels 全部渠道"), [
            {"labels": "{" + state.format("yz-portal", "zombie") + "}", "value": 1},
            {"labels": "{" + state.format("yz-board", "ok") + "}", "value": 1},
        ]),
    ]  # fmt: skip
    doc = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": _two_jobs_series(),
            "promql_expr_test": [
                {"expr": expr, "eval_time": "2m", "exp_samples": samples} for expr, samples in cases
            ],
        }],
    }  # fmt: skip
    path = tmp_path / "two_jobs_test.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    run = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True,
                         text=True, timeout=60, check=False, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
