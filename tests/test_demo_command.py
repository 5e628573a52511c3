"""`zombie-probes demo`, the README's first command, end to end: the portal and the
monitor start, the first round is judged, and every verdict matches the ground truth."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from probes.demo.portal import ground_truth
from probes.model import State
from tests import mosquitto

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]


def demo_once(cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`zombie-probes demo --once` on free ports, run from `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", "probes", "demo", "--once", "--portal-port", "0",
         "--listen", "127.0.0.1:0", *extra],
        cwd=cwd, capture_output=True, text=True, timeout=150, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "60"},  # a narrow terminal
    )  # fmt: skip


def test_demo_first_round_matches_the_portals_ground_truth(tmp_path: Path) -> None:
    done = demo_once(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdicts match the ground truth: yes" in done.stdout
    assert "metrics: http://127.0.0.1:" in done.stdout
    assert "demo-error500: site_unreachable" in done.stdout  # zombies listed with why
    explained = {line.split(":")[0].strip() for line in done.stdout.splitlines()
                 if line.startswith("  ") and ": " in line}  # fmt: skip
    not_ok = {name for name, t in ground_truth().items() if t.state is not State.OK}
    assert not_ok <= explained  # every non-ok channel, not only the zombies
    table_words = set(done.stdout.split())
    for t in ground_truth().values():
        assert t.reasons <= table_words  # every code whole, never folded mid-word
    assert not list(tmp_path.iterdir()), "the demo leaves no state file behind"


def test_demo_with_a_broker_judges_the_call_robots_hotlines(tmp_path: Path) -> None:
    if not mosquitto.available():
        pytest.fail("mosquitto is missing: scripts/test installs Debian's mosquitto package")
    with mosquitto.Mosquitto() as broker:
        done = demo_once(tmp_path, "--mqtt", f"127.0.0.1:{broker.port}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdicts match the ground truth: yes" in done.stdout
    assert "hotline-dead: hotline_dead" in done.stdout
