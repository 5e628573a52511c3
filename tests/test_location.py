"""Vantage points: `serve --location NAME` (or `global.location`) puts a `location` label on
every series of /metrics and /probe, so two monitors watching the same channels from
different networks stay apart behind one Prometheus; a name that cannot be a label value
is refused in one line."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_serve import CONFIG, free_port, stop, wait_healthy

from probes.demo.portal import RunningPortal

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path, portal: RunningPortal, location: str = "") -> Path:
    path = tmp_path / "config.yaml"
    text = CONFIG.format(interval="1h", state=tmp_path / "state.db", portal=portal.base_url)
    if location:
        text = text.replace("global:\n", f"global:\n  location: {location}\n")
    path.write_text(text, encoding="utf-8")
    return path


async def _labels_of_every_sample(text: str) -> list[dict[str, str]]:
    return [s.labels for fam in text_string_to_metric_families(text) for s in fam.samples]


@pytest.mark.parametrize(
    ("in_config", "on_command_line", "expected"),
    [("", "inside", "inside"), ("outside", "", "outside"), ("outside", "inside", "inside")],
    ids=["command-line", "config", "command-line-wins"],
)
async def test_every_series_carries_the_location(
    portal: RunningPortal, tmp_path: Path, in_config: str, on_command_line: str, expected: str
) -> None:
    config = _config(tmp_path, portal, in_config)
    port = free_port()
    extra = ["--location", on_command_line] if on_command_line else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "probes", "serve", "-c", str(config),
        "--listen", f"127.0.0.1:{port}", "--log-level", "warning", *extra,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=30) as client:
        try:
            await wait_healthy(client, base)
            probe = (await client.get(f"{base}/probe", params={"channel": "home"})).text
            metrics = (await client.get(f"{base}/metrics")).text
        finally:
            assert await stop(proc) == 0
    for text in (probe, metrics):
        labels = await _labels_of_every_sample(text)
        assert labels
        assert {series.get("location") for series in labels} == {expected}
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: scripts/test installs Debian's prometheus package")
    lint = subprocess.run([promtool, "check", "metrics"], input=metrics.encode(),
                          capture_output=True, check=False)  # fmt: skip
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


@pytest.mark.parametrize("where", ["command-line", "config"])
def test_a_location_that_cannot_be_a_label_is_refused_in_one_line(
    portal: RunningPortal, tmp_path: Path, where: str
) -> None:
    bad = "inside/the province"
    config = _config(tmp_path, portal, f"'{bad}'" if where == "config" else "")
    extra = ["--location", bad] if where == "command-line" else []
    run = subprocess.run(
        [sys.executable, "-m", "probes", "serve", "-c", str(config), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "location" in run.stderr and "must be 1-64 letters" in run.stderr
    assert "Traceback" not in run.stderr
