"""Static checks of the container deployment (Docker cannot run in the test environment):
the Dockerfile runs the monitor as a non-root user with a health check on /-/healthy and the
config mounted where the docs say; the compose file wires monitor, Prometheus, Alertmanager,
Grafana and mosquitto to files that exist; its Prometheus config is valid for promtool and
scrapes the port the image exposes; Alertmanager only names alerts that exist."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dashboard_support import ALERTS, ROOT, alert_rules

DEPLOY = ROOT / "deploy"
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _instruction(name: str) -> list[str]:
    """The arguments of every `NAME ...` instruction of the final stage (continuations joined)."""
    final = DOCKERFILE.rsplit("\nFROM ", 1)[-1]
    joined = re.sub(r"\\\n\s*", " ", final)
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.+)$", joined, re.M)]


def test_image_is_python_311_slim_and_installs_the_package() -> None:
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)[-1] == "python:3.11-slim"
    assert re.search(r'pip install [^\n]*"\.(\[[\w,]+\])?"', DOCKERFILE)


def test_image_runs_as_a_non_root_user() -> None:
    (user,) = _instruction("USER")
    assert user.split(":")[0] not in {"root", "0"}


def test_image_serves_on_the_exposed_port_with_the_mounted_config() -> None:
    assert _instruction("EXPOSE") == ["9705"]
    (entrypoint,) = _instruction("ENTRYPOINT")
    (cmd,) = _instruction("CMD")
    argv = json.loads(entrypoint) + json.loads(cmd)
    assert argv == [
        "zombie-probes", "serve", "-c", "/etc/zombie-probes/config.yaml",
        "--listen", "0.0.0.0:9705",
    ]  # fmt: skip


def test_healthcheck_probes_healthy_endpoint_without_curl() -> None:
    (health,) = _instruction("HEALTHCHECK")
    argv = json.loads(health.split("CMD", 1)[1])
    assert argv[:2] == ["python", "-c"]
    assert "http://127.0.0.1:9705/-/healthy" in argv[2]
    compile(argv[2], "<healthcheck>", "exec")  # valid Python
    assert "curl" not in DOCKERFILE


def test_dockerignore_keeps_the_build_context_small() -> None:
    text = (ROOT / ".dockerignore").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "*", "exclude everything, then allow what the build needs"
    assert "!probes/" in lines
    assert "!pyproject.toml" in lines


def test_compose_runs_the_whole_stack() -> None:
    assert set(COMPOSE["services"]) == {
        "monitor", "prometheus", "alertmanager", "grafana", "mosquitto",
    }  # fmt: skip
    assert COMPOSE["services"]["monitor"]["build"]["context"] == ".."


def _host_paths() -> list[tuple[str, str]]:
    out = []
    for name, service in COMPOSE["services"].items():
        for volume in service.get("volumes", []):
            host = volume.split(":")[0] if not volume.startswith("${") else volume
            # ${VAR:-default}:/container -> the default
            m = re.match(r"\$\{\w+:-([^}]+)\}", host)
            host = m.group(1) if m else host
            if host.startswith((".", "/")):
                out.append((name, host))
    return out


@pytest.mark.parametrize(("service", "host"), _host_paths())
def test_compose_mounts_files_that_exist(service: str, host: str) -> None:
    assert (DEPLOY / host).exists(), f"{service} mounts missing {host}"


def test_compose_mounts_the_config_where_the_image_reads_it() -> None:
    volumes = COMPOSE["services"]["monitor"]["volumes"]
    assert any(v.endswith(":/etc/zombie-probes/config.yaml:ro") for v in volumes)
    assert any(v.split(":")[1] == "/var/lib/zombie-probes" for v in volumes)


def test_compose_prometheus_config_is_valid_and_scrapes_the_monitor(tmp_path: Path) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    (job,) = (j for j in config["scrape_configs"] if j["job_name"] == "zombie-probes")
    assert job["static_configs"][0]["targets"] == ["monitor:9705"]
    assert config["rule_files"] == ["alerts.yml"]
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI")
        pytest.skip("promtool not installed")
    # Lay the files out as the compose file mounts them.
    shutil.copy(DEPLOY / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(ALERTS, tmp_path / "alerts.yml")
    run = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def _alertnames_in(matchers: list[str]) -> set[str]:
    names: set[str] = set()
    for matcher in matchers:
        m = re.fullmatch(r'alertname=~?"([^"]+)"', matcher)
        if m:
            names.update(m.group(1).split("|"))
    return names


def test_alertmanager_routes_and_inhibitions_name_existing_alerts() -> None:
    doc = yaml.safe_load((DEPLOY / "alertmanager.yml").read_text(encoding="utf-8"))
    receivers = {r["name"] for r in doc["receivers"]}
    routes = [doc["route"], *doc["route"].get("routes", [])]
    assert {r["receiver"] for r in routes} <= receivers
    named: set[str] = set()
    for route in routes:
        named |= _alertnames_in(route.get("matchers", []))
    for rule in doc["inhibit_rules"]:
        named |= _alertnames_in(rule["source_matchers"] + rule["target_matchers"])
    assert named, "expected routes or inhibitions by alert name"
    unknown = named - {r.name for r in alert_rules()}
    assert not unknown, f"alertmanager.yml names alerts that do not exist: {unknown}"


def test_mosquitto_listens_on_the_port_compose_publishes() -> None:
    conf = (DEPLOY / "mosquitto.conf").read_text()
    assert re.search(r"^listener 1883$", conf, re.M)
    assert "1883:1883" in COMPOSE["services"]["mosquitto"]["ports"]


def test_compose_sets_only_what_the_monitor_reads() -> None:
    """The monitor reads its environment only through `${NAME}` in its config: every
    variable compose sets must be one the mounted config names."""
    monitor = COMPOSE["services"]["monitor"]
    mount = next(v for v in monitor["volumes"] if v.endswith(":/etc/zombie-probes/config.yaml:ro"))
    default = re.match(r"\$\{\w+:-([^}]+)\}", mount)
    config = (DEPLOY / (default.group(1) if default else mount.split(":")[0])).read_text()
    named = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", config))
    assert set(monitor.get("environment", {})) <= named
    assert "MQTT_HOST" in monitor["environment"], "the monitor's broker is compose's mosquitto"
