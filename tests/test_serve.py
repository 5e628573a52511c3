"""`zombie-probes serve` as a real process over real sockets, watching the simulated portal:
the endpoints, promtool on the live /metrics, /probe's refusal to fetch anything that is
not configured, reloads (a bad config keeps the old one running), SIGTERM, and a restart
that keeps the last verdicts."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from probes.demo.portal import RunningPortal

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]

CONFIG = """
global:
  interval: {interval}
  timeout: 2s
  state_path: {state}
channels:
  - name: home
    kind: website
    owner: 云泽市人民政府办公室
    title: 云泽市人民政府门户网站
    url: {portal}/sites/home/
    checks: {{availability: {{}}}}
  - name: broken
    kind: website
    owner: 云泽市教育局
    title: 云泽市教育局网站
    url: {portal}/sites/error500/
    checks: {{availability: {{}}}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    proc: asyncio.subprocess.Process
    base: str
    config: Path
    client: httpx.AsyncClient

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = (await self.client.get(f"{self.base}/metrics")).text
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text)
            for s in fam.samples
        }

    async def value(self, name: str, **labels: str) -> float | None:
        return (await self.metrics()).get((name, tuple(sorted(labels.items()))))

    async def wait_for(self, name: str, want: float, timeout: float = 15, **labels: str) -> None:
        async with asyncio.timeout(timeout):
            while await self.value(name, **labels) != want:
                await asyncio.sleep(0.2)


async def start(config: Path, port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "probes", "serve", "-c", str(config),
        "--listen", f"127.0.0.1:{port}", "--log-level", "warning",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


async def wait_healthy(client: httpx.AsyncClient, base: str) -> None:
    async with asyncio.timeout(20):
        while True:
            try:
                if (await client.get(f"{base}/-/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(15):
        return await proc.wait()


@pytest.fixture
async def served(portal: RunningPortal, tmp_path: Path) -> AsyncIterator[Served]:
    config = tmp_path / "config.yaml"
    config.write_text(
        CONFIG.format(interval="1s", state=tmp_path / "state.db", portal=portal.base_url),
        encoding="utf-8",
    )
    port = free_port()
    proc = await start(config, port)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            await wait_healthy(client, base)
            yield Served(proc, base, config, client)
        finally:
            await stop(proc)


async def test_live_metrics_pass_promtool_and_show_verdicts(served: Served) -> None:
    await served.wait_for("zombie_channel_state", 1.0, channel="broken", kind="website",
                          state="zombie")  # fmt: skip
    await served.wait_for("zombie_channel_state", 1.0, channel="home", kind="website", state="ok")
    text = (await served.client.get(f"{served.base}/metrics")).text
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: scripts/test installs Debian's prometheus package")
    lint = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                          capture_output=True, check=False)  # fmt: skip
    assert lint.returncode == 0
    assert lint.stdout + lint.stderr == b""
    assert await served.value("zombie_channel_reason", channel="broken", kind="website",
                              reason="site_unreachable") == 1.0  # fmt: skip
    assert await served.value("zombie_check_failure", channel="broken", kind="website",
                              check="availability", reason="http_status") == 1.0  # fmt: skip
    assert await served.value("zombie_http_status_code", channel="broken", kind="website") == 500
    # The window the verdict judged: every probe of "broken" failed, all in a row.
    snapshot = await served.metrics()  # one scrape: a probe may land between two

    def window(name: str, channel: str) -> float | None:
        return snapshot.get((f"zombie_availability_{name}",
                             (("channel", channel), ("kind", "website"))))  # fmt: skip

    probes = window("window_probes", "broken")
    assert probes is not None and probes >= 1
    assert window("window_failures", "broken") == probes
    assert window("consecutive_failures", "broken") == probes
    assert window("window_failures", "home") == 0


async def test_probe_runs_a_configured_channel_like_blackbox(served: Served) -> None:
    response = await served.client.get(f"{served.base}/probe", params={"channel": "broken"})
    assert response.status_code == 200
    samples = {s.name: s for f in text_string_to_metric_families(response.text) for s in f.samples}
    assert samples["probe_success"].value == 0
    assert samples["probe_duration_seconds"].value > 0
    assert 'zombie_channel_state{channel="broken",kind="website",state="zombie"} 1.0' in (
        response.text
    )
    assert 'channel="home"' not in response.text


@pytest.mark.parametrize(
    "params",
    [{"channel": "unknown"}, {"target": "TARGET"}, {"channel": "home", "target": "TARGET"},
     {"module": "http_2xx", "target": "TARGET"}, {}],
    ids=["unknown-channel", "target", "channel-and-target", "blackbox-style", "nothing"],
)  # fmt: skip
async def test_probe_fetches_nothing_that_is_not_configured(
    served: Served, params: dict[str, str]
) -> None:
    connections = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    trap = await asyncio.start_server(count, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{trap.sockets[0].getsockname()[1]}/"
    query = {k: (url if v == "TARGET" else v) for k, v in params.items()}
    response = await served.client.get(f"{served.base}/probe", params=query)
    await asyncio.sleep(0.3)
    trap.close()
    assert 400 <= response.status_code < 500
    assert connections == 0


async def test_health_and_readiness(served: Served) -> None:
    assert (await served.client.get(f"{served.base}/-/healthy")).text == "OK\n"
    assert (await served.client.get(f"{served.base}/-/ready")).status_code == 200


async def test_bad_reload_keeps_the_old_config_running(served: Served) -> None:
    good = served.config.read_text(encoding="utf-8")
    served.config.write_text(good.replace("timeout: 2s", "timeout: soon"), encoding="utf-8")
    response = await served.client.post(f"{served.base}/-/reload")
    assert response.status_code == 400
    assert "config.yaml:4" in response.text and "global.timeout" in response.text
    assert await served.value("zombie_config_last_reload_successful") == 0
    # The old channels keep being checked.
    runs = await served.value("zombie_check_runs_total", channel="home", kind="website",
                              check="availability", result="success")  # fmt: skip
    await asyncio.sleep(1.5)
    later = await served.value("zombie_check_runs_total", channel="home", kind="website",
                               check="availability", result="success")  # fmt: skip
    assert runs is not None and later is not None and later > runs
    # A good config by SIGHUP: applied, a channel removed, the flag back to 1.
    served.config.write_text(good.split("  - name: broken")[0], encoding="utf-8")
    served.proc.send_signal(signal.SIGHUP)
    await served.wait_for("zombie_config_last_reload_successful", 1.0)
    assert await served.value("zombie_channel_state", channel="broken", kind="website",
                              state="zombie") is None  # fmt: skip


async def test_sigterm_drains_and_exits_cleanly(served: Served) -> None:
    await served.wait_for("zombie_channel_state", 1.0, channel="home", kind="website", state="ok")
    assert await stop(served.proc) == 0


async def test_restart_shows_the_last_verdicts_at_once(
    portal: RunningPortal, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    # A long interval: after the restart no check is due for a while, so what /metrics
    # shows comes from the state file.
    config.write_text(
        CONFIG.format(interval="1h", state=tmp_path / "state.db", portal=portal.base_url),
        encoding="utf-8",
    )
    async with httpx.AsyncClient(timeout=10) as client:
        for attempt in range(2):
            port = free_port()
            proc = await start(config, port)
            served = Served(proc, f"http://127.0.0.1:{port}", config, client)
            try:
                await wait_healthy(client, served.base)
                if attempt == 0:
                    await client.get(f"{served.base}/probe", params={"channel": "broken"})
                else:
                    assert await served.value("zombie_channel_state", channel="broken",
                                              kind="website", state="zombie") == 1.0  # fmt: skip
            finally:
                assert await stop(proc) == 0
