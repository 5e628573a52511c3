"""End to end with a real Prometheus: the simulated portal, the monitor (`python -m probes
serve -c config/demo.yaml --web.config.file web.yml`, TLS and basic auth) and Prometheus
(Debian's binary) loading dashboards/alerts.yml with the settings of dashboards/prometheus.yml
(including its documented https/basic_auth scrape settings), scraping every second. Then
every dashboard query and every alert expression is evaluated through Prometheus' HTTP API
and must return data (a panel that can never show anything is a bug), and the zombie alert
for a channel the portal's ground truth calls a zombie must be pending or firing.

Documented exceptions, each visible as a skip with its reason:
- a query whose series only a check kind produces that config/demo.yaml does not use yet
  (for example hotlines before the demo has a hotline) is skipped, naming the kind;
- the TLS certificate panel: the simulated portal serves plain HTTP, so no certificate;
- alert expressions whose condition the demo does not create (the monitor down, a failed
  reload, a reason no demo channel has) are evaluated without that condition: the alert
  with its `reason` matcher removed, or the inner selector listed in INNER, which must be
  part of the expression.

Without the binaries the test skips, except in CI (`CI` set), where it fails.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from dashboard_support import (
    ALERTS,
    PROMETHEUS_YML,
    ROOT,
    AlertRule,
    PanelQuery,
    alert_rules,
    dashboard,
    metric_names,
    panel_queries,
    render,
)

from probes.catalogue import BY_NAME
from probes.clock import SystemClock
from probes.config import load_config
from probes.demo.orders import seed_demo_orders
from probes.state.store import Store
from tests.mosquitto import Mosquitto
from tests.mosquitto import available as mosquitto_available

pytestmark = pytest.mark.integration

DEMO_CONFIG = ROOT / "config" / "demo.yaml"
# The call robot's records, then one record that is not JSON, so the ingest and rejection
# series and panels have something to show.
ROBOT = """
import asyncio, sys, aiomqtt
from probes.demo.callrobot import run_robot
async def main(port):
    async with aiomqtt.Client("127.0.0.1", port, identifier="e2e-bad-record") as c:
        await c.publish("zombie/calls/hotline-healthy", b"not a call record", qos=1)
    await run_robot("127.0.0.1", port)
asyncio.run(main(int(sys.argv[1])))
"""
STARTUP_DEADLINE = 45.0  # seconds for the first round of checks to be scraped
PASSWORD = "scrape-口令"

# Alerts whose condition the demo never creates: the inner expression evaluated instead.
SELECTOR = 'job=~"zombie-probes.*"'  # the rules' job selector (scripts/render-alerts)
STORED = SELECTOR + ', outcome="stored"'
INNER = {
    "MonitorDown": f"up{{{SELECTOR}}}",
    "ConfigReloadFailed": f"zombie_config_last_reload_successful{{{SELECTOR}}}",
    "IngestionStalled": f"increase(zombie_hotline_records_ingested_total{{{STORED}}}[30m])",
    "CallRecordsRejected": f"rate(zombie_hotline_records_ingested_total{{{STORED}}}[15m])",
    "MonitorFallingBehind": f"rate(zombie_scheduler_lateness_seconds_bucket{{{SELECTOR}}}[10m])",
    "StateWritesFailing": f"increase(zombie_state_write_errors_total{{{SELECTOR}}}[5m])",
}

# Series produced only by one check kind (the others come from the exporter for every
# channel, or from the monitor itself).
_KIND_OF_PREFIX = {
    "zombie_http_": "availability", "zombie_tls_": "availability",
    "zombie_availability_": "availability", "zombie_content_": "freshness",
    "zombie_links_": "links", "zombie_service_": "service", "zombie_board_": "board",
    "zombie_hotline_records_": "calls", "zombie_hotline_": "hotline",
    "zombie_workorder_events_": "orders", "zombie_workorder_": "workorders",
}  # fmt: skip


def _require(binary: str) -> str:
    found = shutil.which(binary)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{binary} is required in CI (Debian package `prometheus`)")
        pytest.skip(f"{binary} not installed (apt-get install prometheus)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _logs(folder: Path) -> str:
    """The last lines of every process log in `folder`, for a failure message."""
    return "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        for log in sorted(folder.glob("*.log"))
    )


def _wait_for(
    what: str, check: Any, deadline: float, procs: list[subprocess.Popen[bytes]], logs: Path
) -> Any:
    while True:
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(
                    f"{proc.args[0:4]} exited with {proc.returncode} before {what}\n{_logs(logs)}"
                )
        try:
            result = check()
        except (OSError, urllib.error.URLError, ValueError):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{_logs(logs)}")
        time.sleep(0.25)


@dataclass
class Stack:
    prometheus: str  # base URL
    kinds_in_demo: set[str]
    logs: Path
    monitor: str = ""  # https://127.0.0.1:PORT
    ca_file: Path | None = None

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            body = _get(url)
        except urllib.error.HTTPError as exc:
            pytest.fail(f"Prometheus refused {expr!r}: {exc.read().decode()}")
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


def _demo_check_kinds() -> set[str]:
    """The check kinds config/demo.yaml uses, plus "calls" / "orders" when it has call-record
    / work-order sources (the demo's work orders are stored before start, not followed)."""
    config = load_config(DEMO_CONFIG, environ={**os.environ, "ZOMBIE_STATE": "unused.db"})
    kinds = {name for channel in config.channels for name, _spec in channel.enabled_checks()}
    if config.calls is not None:
        kinds.add("calls")
    if config.orders is not None:
        kinds.add("orders")
    return kinds


def _prometheus_config(tmp: Path, monitor_port: int, ca_file: Path) -> Path:
    """dashboards/prometheus.yml pointed at the test's monitor, scraping every second, with
    the TLS and basic-auth settings the file documents for a secured monitor."""
    config = yaml.safe_load(PROMETHEUS_YML.read_text(encoding="utf-8"))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config.pop("alerting", None)  # no Alertmanager here; alert states are read from the API
    shutil.copy(ALERTS, tmp / "alerts.yml")
    config["rule_files"] = [str(tmp / "alerts.yml")]
    (job,) = (j for j in config["scrape_configs"] if j["job_name"] == "zombie-probes")
    job.update(scrape_interval="1s", scrape_timeout="1s")
    job["static_configs"] = [{"targets": [f"127.0.0.1:{monitor_port}"]}]
    job.update(
        scheme="https",
        tls_config={"ca_file": str(ca_file)},
        basic_auth={"username": "prometheus", "password_file": str(tmp / "password")},
    )
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _fast_demo_config(tmp: Path) -> Path:
    """config/demo.yaml with a 5 s global interval: first runs are spread over one interval,
    so every channel has its first verdict within seconds instead of 20."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    fast = re.sub(r"(?m)^(global:\n(?:[ #].*\n)*?  interval:) \S+", r"\1 5s", text, count=1)
    path = tmp / "demo.yaml"
    path.write_text(fast, encoding="utf-8")
    return path


def _web_config(tmp: Path, ca_files: tuple[Path, Path, Path]) -> Path:
    """An exporter-toolkit web config (TLS, one bcrypt user) and the password file."""
    import bcrypt

    cert, key, _ca = ca_files
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    (tmp / "password").write_text(PASSWORD, encoding="utf-8")
    web = tmp / "web.yml"
    web.write_text(
        f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n"
        f"basic_auth_users:\n  prometheus: '{hashed}'\n",
        encoding="utf-8",
    )
    return web


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, ca_files: tuple[Path, Path, Path]
) -> Iterator[Stack]:
    """Portal, monitor (secured by a web config) and Prometheus, until the first round of
    checks has been scraped."""
    prometheus = _require("prometheus")
    if not mosquitto_available():
        _require("mosquitto")
    tmp = tmp_path_factory.mktemp("e2e")
    broker = Mosquitto()
    broker.start()
    portal_port, monitor_port, prom_port = _free_port(), _free_port(), _free_port()
    ca_file = ca_files[2]
    env = {
        **os.environ,
        "DEMO_PORTAL": f"http://127.0.0.1:{portal_port}",
        "ZOMBIE_STATE": str(tmp / "state.db"),
        "DEMO_MQTT_HOST": "127.0.0.1",
        "DEMO_MQTT_PORT": str(broker.port),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    commands = {
        "portal": [sys.executable, "-m", "probes.demo.portal", "--port", str(portal_port)],
        "monitor": [
            sys.executable, "-m", "probes", "serve", "-c", str(_fast_demo_config(tmp)),
            "--listen", f"127.0.0.1:{monitor_port}", "--log-level", "warning",
            "--web.config.file", str(_web_config(tmp, ca_files)),
        ],
        "prometheus": [
            prometheus, f"--config.file={_prometheus_config(tmp, monitor_port, ca_file)}",
            f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}",
            "--log.level=warn",
        ],
    }  # fmt: skip
    # The demo's work-order streams, stored as `zombie-probes demo` stores them.
    with Store.open(tmp / "state.db") as store:
        seed_demo_orders(store, SystemClock())
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, argv in commands.items():
            log = (tmp / f"{name}.log").open("wb")
            procs.append(
                subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + STARTUP_DEADLINE
        base = f"http://127.0.0.1:{prom_port}"
        found = Stack(base, _demo_check_kinds(), tmp, f"https://127.0.0.1:{monitor_port}", ca_file)
        _wait_for("Prometheus to be ready",
                  lambda: urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200,
                  deadline, procs, tmp)  # fmt: skip
        # Every demo channel judged on its own checks (no `not_checked_yet` left) and
        # scraped, with the rate windows holding a few samples.
        _wait_for("the first round of checks to be scraped",
                  lambda: found.query("zombie_channel_info")
                  and not found.query('zombie_channel_reason{reason="not_checked_yet"}'),
                  deadline, procs, tmp)  # fmt: skip
        # The robot starts once the monitor is up: the broker keeps QoS 1 records only for
        # a session that has subscribed, and the monitor's first session starts with it.
        with (tmp / "robot.log").open("wb") as log:
            procs.append(subprocess.Popen([sys.executable, "-c", ROBOT, str(broker.port)],
                                          cwd=ROOT, env=env, stdout=log,
                                          stderr=subprocess.STDOUT))  # fmt: skip
        # Answered calls judged too: the first hotline checks may see only the first
        # records, of a line that never answers.
        _wait_for("the call robot's records to be ingested and scraped",
                  lambda: found.query("zombie_hotline_calls_total")
                  and found.query("zombie_hotline_records_rejected_total")
                  and found.query("zombie_hotline_last_answered_timestamp_seconds"),
                  deadline, procs, tmp)  # fmt: skip
        time.sleep(3)
        yield found
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        broker.stop()


def _skip_unless_demo_produces(stack: Stack, expr: str) -> None:
    for name in metric_names(expr):
        for prefix, kind in _KIND_OF_PREFIX.items():
            if name.startswith(prefix) and kind not in stack.kinds_in_demo:
                pytest.skip(
                    f"config/demo.yaml has no `{kind}` check or source, which alone exports {name}"
                )
            if name.startswith(prefix):
                break  # the first matching prefix is the most specific


def test_known_zombie_channel_alert_is_pending_or_firing(stack: Stack) -> None:
    from probes.demo.portal import ground_truth
    from probes.model import State

    zombies = sorted(name for name, truth in ground_truth().items() if truth.state is State.ZOMBIE)
    assert zombies, "the portal's ground truth has no zombie channel"

    def alert_states() -> dict[str, str]:
        alerts = _get(f"{stack.prometheus}/api/v1/alerts")["data"]["alerts"]
        return {
            a["labels"]["channel"]: a["state"]
            for a in alerts
            if a["labels"]["alertname"] == "ZombieChannel"
        }

    deadline = time.monotonic() + 10
    states = alert_states()
    while zombies[0] not in states and time.monotonic() < deadline:
        time.sleep(0.5)
        states = alert_states()
    assert states.get(zombies[0]) in {"pending", "firing"}, states
    # The alert carries the channel's owner and Chinese title for routing and reading.
    alert = next(
        a for a in _get(f"{stack.prometheus}/api/v1/alerts")["data"]["alerts"]
        if a["labels"].get("channel") == zombies[0] and a["labels"]["alertname"] == "ZombieChannel"
    )  # fmt: skip
    assert alert["labels"]["owner"]
    assert alert["labels"]["title"]
    assert alert["labels"]["severity"] == "critical"


def test_prometheus_loaded_every_alert_rule(stack: Stack) -> None:
    groups = _get(f"{stack.prometheus}/api/v1/rules")["data"]["groups"]
    loaded = {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
    assert loaded == {r.name for r in alert_rules()}
    unhealthy = [r["name"] for g in groups for r in g["rules"] if r.get("health") == "err"]
    assert not unhealthy


@pytest.mark.parametrize("query", panel_queries(dashboard()), ids=lambda q: f"{q.panel}/{q.ref}")
def test_dashboard_query_returns_data(stack: Stack, query: PanelQuery) -> None:
    expr = render(query.expr)
    _skip_unless_demo_produces(stack, expr)
    if "zombie_tls_cert_not_after_timestamp_seconds" in expr:
        pytest.skip("the simulated portal serves plain HTTP: no certificate to show")
    if "zombie_hotline_records_rejected_total" in expr and not stack.query(
        "zombie_hotline_records_rejected_total"
    ):
        pytest.skip("the demo's call records are all valid: none rejected")
    assert stack.query(expr), f"panel {query.panel!r} shows nothing:\n{expr}"


@pytest.mark.parametrize("name", ["job", "kind", "owner", "channel"])
def test_dashboard_variable_lists_values(stack: Stack, name: str) -> None:
    """The variable's `label_values(SELECTOR, LABEL)` finds values, so its menu is not empty."""
    (var,) = (v for v in dashboard()["templating"]["list"] if v["name"] == name)
    m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", var["definition"])
    assert m, var["definition"]
    selector, label = render(m.group(1)), m.group(2)
    values = {r["metric"].get(label) for r in stack.query(selector)} - {None}
    assert values, f"${name}: {var['definition']} lists nothing"


def test_dashboard_annotation_query_runs_on_real_series(stack: Stack) -> None:
    """The "became a zombie" annotation needs a channel to turn zombie while Prometheus
    watches, which depends on whether the first scrape came before the first verdicts; its
    `changes(...)` part must return data either way, and the whole query must be accepted."""
    (annotation,) = (a for a in dashboard()["annotations"]["list"] if "expr" in a)
    expr = render(annotation["expr"])
    inner = 'changes(zombie_channel_state{state="zombie"}[2m])'
    assert inner in expr
    stack.query(expr)  # fails the test if Prometheus refuses it
    assert stack.query(inner)


def _without_reason(expr: str) -> str:
    return re.sub(r',\s*reason=~?"[^"]*"', "", expr)


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r.name)
def test_alert_expression_returns_data(stack: Stack, rule: AlertRule) -> None:
    _skip_unless_demo_produces(stack, rule.expr)
    if stack.query(rule.expr):
        return
    if rule.name in INNER:
        inner = INNER[rule.name]
        assert inner in rule.expr, "INNER must quote part of the alert expression"
    else:
        inner = _without_reason(rule.expr)
        assert inner != rule.expr, f"{rule.name} returned nothing and has no reason matcher"
    assert stack.query(inner), f"{rule.name}: even {inner!r} returns nothing"


def test_catalogue_kind_prefixes_cover_every_per_kind_family() -> None:
    """The skip rule above must know every family's kind; a new family prefix fails here."""
    shared = ("channel_", "check_", "scheduler_", "config_", "state_", "build_info")
    for name in BY_NAME:
        if not name.startswith(shared):
            assert any(("zombie_" + name).startswith(p) for p in _KIND_OF_PREFIX), name


@pytest.fixture(scope="module")
def ca_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A server certificate for 127.0.0.1, its key, and the CA that signed it."""
    import trustme

    ca = trustme.CA()
    tmp = tmp_path_factory.mktemp("tls")
    issued = ca.issue_cert("127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(str(tmp / "server.crt"))
    issued.private_key_pem.write_to_path(str(tmp / "server.key"))
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    return tmp / "server.crt", tmp / "server.key", tmp / "ca.pem"


def test_every_monitor_endpoint_requires_the_password(stack: Stack) -> None:
    """`serve --web.config.file`: Prometheus got in with the documented scrape settings
    (the tests above read its data); anyone without the password gets 401 everywhere, and
    plain HTTP to the TLS port gets no answer."""
    tls = ssl.create_default_context(cafile=str(stack.ca_file))
    for path in ("/metrics", "/-/healthy", "/-/ready", "/probe?channel=demo-home"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{stack.monitor}{path}", timeout=5, context=tls)
        assert refused.value.code == 401, path
        assert refused.value.headers["WWW-Authenticate"].startswith("Basic ")
    plain = stack.monitor.replace("https://", "http://")
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(f"{plain}/metrics", timeout=5)
    up = stack.query('up{job="zombie-probes"}')
    assert [r["value"][1] for r in up] == ["1"]
