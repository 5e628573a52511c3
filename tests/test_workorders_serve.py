"""`serve` with a followed work-order file: events are ingested and counted by source and
outcome (stored, duplicate) or refused by reason, the workorders check judges them, and
the live /metrics pass promtool."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from probes.demo.orders import generate
from tests.test_serve import Served, free_port, start, stop, wait_healthy

pytestmark = pytest.mark.integration
TZ = dt.timezone(dt.timedelta(hours=8))
CONFIG = """
global:
  interval: 1s
  timeout: 5s
  state_path: {state}
channels:
  - name: h12345
    kind: hotline
    owner: 市政务服务中心
    checks:
      workorders: {{}}
orders:
  files:
    - path: {events}
      channel: h12345
      poll: 0.2s
"""


async def test_serve_follows_work_orders_and_exports_their_verdict(tmp_path: Path) -> None:
    stream = generate("buck_passing", orders=60, end=dt.datetime.now(TZ) - dt.timedelta(hours=1),
                      seed=5)  # fmt: skip
    events = tmp_path / "orders.jsonl"
    lines = [json.dumps(e, ensure_ascii=False) for e in stream.events]
    # The first event again (a re-exported line): stored once, counted as a duplicate.
    events.write_text("\n".join([*lines, "{not json", lines[0]]) + "\n", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(state=tmp_path / "state.db", events=events), encoding="utf-8")
    port = free_port()
    proc = await start(config, port)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            await wait_healthy(client, base)
            served = Served(proc, base, config, client)
            source = "orders:orders.jsonl"
            await served.wait_for("zombie_workorder_events_ingested_total", float(len(lines)),
                                  source=source, outcome="stored")  # fmt: skip
            await served.wait_for("zombie_workorder_events_ingested_total", 1.0, source=source,
                                  outcome="duplicate")  # fmt: skip
            await served.wait_for("zombie_channel_reason", 1.0, channel="h12345", kind="hotline",
                                  reason="workorder_buck_passing")  # fmt: skip
            rejected = {dict(labels)["reason"]: value for (name, labels), value in
                        (await served.metrics()).items()
                        if name == "zombie_workorder_events_rejected_total"}  # fmt: skip
            assert rejected == {"malformed": 1.0}
            flagged = sum(why is not None for why in stream.truth.values())
            assert await served.value("zombie_workorder_flagged_orders", channel="h12345",
                                      kind="hotline", reason="buck_passing") == flagged  # fmt: skip
            text = (await client.get(f"{base}/metrics")).text
        finally:
            await stop(proc)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: scripts/test installs Debian's prometheus package")
    lint = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                          capture_output=True, check=False)  # fmt: skip
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")
