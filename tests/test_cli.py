"""The command line as users run it: one-off checks with plugin exit codes, human and JSON
output, config check naming file, line and field, and the JSON Schema."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from probes.config.schema import schema_text
from probes.demo.portal import RunningPortal

ROOT = Path(__file__).resolve().parents[1]


async def zp(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run `zombie-probes ARGS` in a subprocess without blocking the portal's loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "probes", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **(env or {})},
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_check_of_a_refused_port_is_critical_with_a_one_line_reason() -> None:
    code, out, _ = await zp("check", "http://127.0.0.1:1/", "--as", "availability")
    assert code == 2
    first = out.splitlines()[0]
    assert first.startswith("CRITICAL check (website) zombie: site_unreachable")
    assert "connection refused" in first.lower() or "connect" in first


@pytest.mark.parametrize(
    ("path", "code", "state", "failure"),
    [("/sites/home/", 0, "ok", None),
     ("/sites/error500/", 2, "zombie", "http_status"),
     ("/sites/maintenance/", 2, "zombie", "soft_error")],
)  # fmt: skip
async def test_check_json_reports_state_failure_and_measurements(
    portal: RunningPortal, path: str, code: int, state: str, failure: str | None
) -> None:
    rc, out, _ = await zp("check", portal.base_url + path, "--as", "availability", "--json")
    doc = json.loads(out)
    assert (rc, doc["state"], doc["exit_code"]) == (code, state, code)
    [result] = doc["checks"]
    assert result["failure"] == failure
    names = {m["name"] for m in result["measurements"]}
    assert {"zombie_http_status_code", "zombie_http_duration_seconds"} <= names


async def test_check_of_configured_channels_exits_with_the_worst_state(
    portal: RunningPortal, tmp_path: Path
) -> None:
    env = {"DEMO_PORTAL": portal.base_url}
    demo = str(ROOT / "config" / "demo.yaml")
    ok, out, _ = await zp("check", "-c", demo, "--channel", "demo-home", env=env)
    assert ok == 0 and out.startswith("OK demo-home")
    worst, out, _ = await zp("check", "-c", demo, "--channel", "demo-home",
                             "--channel", "demo-error500", env=env)  # fmt: skip
    assert worst == 2
    assert "CRITICAL demo-error500" in out and "OK demo-home" in out


async def test_check_rejects_an_unknown_channel_as_unknown() -> None:
    code, _, err = await zp("check", "-c", str(ROOT / "config" / "demo.yaml"),
                            "--channel", "nope")  # fmt: skip
    assert code == 3
    assert "no channel named nope" in err


async def test_check_with_a_bad_option_is_unknown_with_the_field() -> None:
    code, _, err = await zp("check", "http://127.0.0.1:1/", "--as", "availability",
                            "--timeout", "soon")  # fmt: skip
    assert code == 3
    assert "timeout" in err and "invalid duration" in err


async def test_config_check_names_file_line_and_field() -> None:
    bad = ROOT / "tests" / "configs" / "invalid" / "bad_duration.yaml"
    code, _, err = await zp("config", "check", str(bad))
    assert code == 1
    assert f"{bad}:8:" in err and "channels[0].checks.availability.timeout" in err


async def test_config_check_accepts_the_example() -> None:
    code, out, _ = await zp("config", "check", str(ROOT / "config" / "example.yaml"))
    assert code == 0 and "ok" in out


async def test_config_schema_prints_the_json_schema() -> None:
    code, out, _ = await zp("config", "schema")
    assert code == 0
    schema = json.loads(out)
    assert out == schema_text()
    assert "channels" in schema["properties"] and "global" in schema["properties"]


async def test_version_prints_the_installed_package_version() -> None:
    from importlib.metadata import version

    code, out, _ = await zp("--version")
    assert (code, out.strip()) == (0, f"zombie-probes {version('zombie-probes')}")


@pytest.mark.parametrize(
    "args",
    [("check", "--no-such-option"), ("calls", "import"), ("no-such-command",), ()],
)
async def test_usage_errors_exit_unknown_not_critical(args: tuple[str, ...]) -> None:
    # Nagios and Icinga read 2 as CRITICAL: a typo in a check command must not page anyone.
    code, _, _ = await zp(*args)
    assert code == 3


async def test_first_line_carries_nagios_performance_data(portal: RunningPortal) -> None:
    code, out, _ = await zp("check", portal.base_url + "/sites/home/", "--as", "availability")
    assert code == 0
    text, sep, perf = out.splitlines()[0].partition(" | ")
    assert text.startswith("OK check (website) ok") and sep
    items = dict(item.split("=", 1) for item in perf.split())
    assert items["availability_duration"].endswith("s;;;0")
    assert items["http_status_code"] == "200;;;"
    duration = float(items["http_duration_seconds"].split(";")[0].removesuffix("s"))
    assert 0 < duration < 15


async def test_freshness_performance_data_gives_the_newest_item_age_in_days(
    portal: RunningPortal,
) -> None:
    _, out, _ = await zp("check", portal.base_url + "/sites/home/", "--as", "freshness")
    perf = out.splitlines()[0].partition(" | ")[2]
    ages = [item for item in perf.split() if "_age_days" in item]
    assert ages, perf
    for item in ages:
        age = float(item.split("=", 1)[1].split(";")[0])
        assert -1 < age < 3650


async def test_json_output_is_versioned(portal: RunningPortal) -> None:
    _, out, _ = await zp(
        "check", portal.base_url + "/sites/home/", "--as", "availability", "--json"
    )
    assert json.loads(out)["schema_version"] == 1
