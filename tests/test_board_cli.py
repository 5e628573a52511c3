"""`zombie-probes check URL --as board`: one-off board checks list the unanswered and
overdue messages with their ages, and exit with the monitoring-plugin status."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from probes.demo.portal import RunningPortal, run_portal

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


async def zombie_probes(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "probes", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_board_check_lists_unanswered_and_overdue_messages_with_ages(
    portal: RunningPortal,
) -> None:
    url = f"{portal.base_url}/boards/mayor/list"
    code, out = await zombie_probes(
        "check", url, "--as", "board",
        "-o", "item=table.letters tbody tr", "-o", "status=td.status",
        "-o", f"page_url_template={url}?page={{page}}",
    )  # fmt: skip
    assert code == 2, out  # CRITICAL: a message unanswered for more than 3 months
    assert "board_unanswered" in out
    # The CLI runs on the real clock and the portal's today is the tests' frozen one, so
    # ages are the portal's plus the days between the two.
    extra = round((time.time() - portal.now) / 86400)
    lines = out.splitlines()
    veto = next(line for line in lines if "「村道破损严重影响出行」" in line and "posted" in line)
    assert "OVER 90 DAYS" in veto
    assert f"{121 + extra} days ago" in veto
    late = next(line for line in lines if "「农民工工资被拖欠三个月」" in line)
    assert "overdue" in late
    assert f"{20 + extra} days ago" in late


async def test_board_check_with_auto_detection_reports_json() -> None:
    # A board goes silent over a window ending now, and the CLI's now is the real clock:
    # the portal's today must be the same day (the frozen one drifts out of the window).
    async with run_portal(now=time.time()) as live:
        code, out = await zombie_probes(
            "check", f"{live.base_url}/boards/silent/list", "--as", "board", "--json"
        )
    assert code == 1, out  # WARNING: overdue and silent
    doc = json.loads(out)
    assert doc["state"] == "degraded"
    assert {r["code"] for r in doc["reasons"]} == {"board_overdue", "board_silent"}


async def test_board_check_of_an_unreadable_page_exits_unknown(portal: RunningPortal) -> None:
    code, out = await zombie_probes(
        "check", f"{portal.base_url}/boards/broken/list", "--as", "board"
    )
    assert code == 3, out
    assert "no messages found" in out
