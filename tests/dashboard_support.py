"""What the dashboard and alert tests share: the files under dashboards/, every PromQL
expression in them (panel targets with Grafana's variables filled in, alert rules), and
the metric names an expression may use according to probes/catalogue.py.

PromQL has no Python parser; `metric_names` strips what cannot be a metric name (strings,
label matchers, ranges, grouping clauses, functions, keywords) and returns the rest. It is
deliberately strict: anything it does not recognise shows up as a name and fails the
catalogue check, so a new construct gets looked at rather than slipping through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from probes.catalogue import FAMILIES

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "dashboards"
DASHBOARD_JSON = DASHBOARDS / "zombie-probes.json"
ALERTS = DASHBOARDS / "alerts.yml"
ALERTS_TEST = DASHBOARDS / "alerts_test.yml"
PROMETHEUS_YML = DASHBOARDS / "prometheus.yml"

# Series that Prometheus itself adds to every target.
PROMETHEUS_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

_SUFFIXES = {"gauge": ("",), "counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


def catalogue_series() -> frozenset[str]:
    """Every series name the exporter renders, by the catalogue's family types."""
    return frozenset(f.full_name + suffix for f in FAMILIES for suffix in _SUFFIXES[f.type])


def detail_series() -> frozenset[str]:
    """The series of the families `/metrics` leaves out unless detail is asked for."""
    return frozenset(
        f.full_name + suffix for f in FAMILIES if f.detail for suffix in _SUFFIXES[f.type]
    )


_KEYWORDS = frozenset(
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
        "and", "or", "unless", "atan2", "inf", "nan", "Inf", "NaN",
    }
)  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_FUNCTION = re.compile(r"\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(")
_OFFSET = re.compile(r"\boffset\s+-?\w+")
_IDENT = re.compile(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*")
_NUMBER_UNIT = re.compile(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?[smhdwy]*\b")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (bare names and `{__name__="..."}`)."""
    names = set(re.findall(r'__name__\s*=\s*"([^"]+)"', expr))
    text = _BRACES.sub(" ", _STRING.sub('""', expr))
    text = _GROUPING.sub(" ", _RANGE.sub(" ", _OFFSET.sub(" ", text)))
    text = _FUNCTION.sub("(", text)
    text = _NUMBER_UNIT.sub(" ", text)
    names.update(n for n in _IDENT.findall(text) if n not in _KEYWORDS)
    return names


# --- alert rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule of dashboards/alerts.yml."""

    name: str
    expr: str
    labels: dict[str, str]
    annotations: dict[str, str]


def alert_rules() -> list[AlertRule]:
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [
        AlertRule(r["alert"], r["expr"], r.get("labels", {}), r.get("annotations", {}))
        for group in doc["groups"]
        for r in group["rules"]
        if "alert" in r
    ]


# --- the dashboard -------------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD_JSON.read_text(encoding="utf-8"))
    return loaded


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


@dataclass(frozen=True)
class PanelQuery:
    """One Prometheus target of a panel, as written in the dashboard."""

    panel: str
    ref: str
    expr: str
    instant: bool


def panel_queries(board: dict[str, Any]) -> list[PanelQuery]:
    return [
        PanelQuery(p["title"], t.get("refId", "?"), t["expr"], bool(t.get("instant")))
        for p in panels(board)
        for t in p.get("targets", [])
    ]


# Grafana's built-in interval variables, as Grafana would fill them for a short range.
_BUILTINS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
}


def render(expr: str, variables: dict[str, str] | None = None) -> str:
    """The expression as Grafana sends it: template variables replaced by `variables`
    (default: every custom variable matches all values) and built-ins by fixed intervals."""
    for name, value in _BUILTINS.items():
        expr = expr.replace(name, value)
    chosen = variables or {}

    def sub(m: re.Match[str]) -> str:
        return chosen.get(m.group(1) or m.group(2), ".*")

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", sub, expr)
