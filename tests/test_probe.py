"""`/probe` without side effects, over real sockets: a local HTTP server that counts its
hits is the target, `zombie-probes serve` answers on its real endpoints. Concurrent
probes share one run, a fresh result answers as it is, `probe_success` follows the
verdict as well as the checks, `debug=true` shows the evidence, and the monitor's own
per-host queue is never taken for the target's timeout."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_serve import free_port, start, stop, wait_healthy

pytestmark = pytest.mark.integration

UNDATED = "<html><body><ul>" + "".join(
    f"<li><a href='/a/{i}.html'>关于做好第{i}项工作的通知</a></li>" for i in range(12)
) + "</ul></body></html>"  # fmt: skip


@dataclass
class Target:
    """An HTTP/1.1 server on 127.0.0.1 counting requests per path; `answer(path, hit)`
    gives (status, body, delay in seconds) for the hit-th request to the path."""

    answer: Callable[[str, int], tuple[int, str, float]]
    hits: Counter[str] = field(default_factory=Counter)
    base: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            self.hits[path] += 1
            status, body, delay = self.answer(path, self.hits[path])
            await asyncio.sleep(delay)
            data = body.encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serve_target(
    answer: Callable[[str, int], tuple[int, str, float]],
) -> AsyncIterator[Target]:
    target = Target(answer)
    server = await asyncio.start_server(target.handle, "127.0.0.1", 0)
    target.base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield target


@dataclass
class Monitor:
    base: str
    client: httpx.AsyncClient

    async def probe(self, channel: str, **extra: str) -> httpx.Response:
        return await self.client.get(f"{self.base}/probe", params={"channel": channel, **extra})


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


@asynccontextmanager
async def serve_monitor(tmp_path: Path, config: str) -> AsyncIterator[Monitor]:
    path = tmp_path / "config.yaml"
    path.write_text(config, encoding="utf-8")
    port = free_port()
    proc = await start(path, port)
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        try:
            await wait_healthy(client, base)
            yield Monitor(base, client)
        finally:
            assert await stop(proc) == 0


def channel(name: str, url: str, checks: str) -> str:
    return f"""
  - name: {name}
    kind: website
    owner: 云泽市人民政府办公室
    url: {url}
    checks: {checks}"""


def config(tmp_path: Path, channels: str, *, per_host: int = 2, timeout: str = "5s") -> str:
    return (
        f"global: {{interval: 1h, timeout: {timeout}, per_host_concurrency: {per_host}, "
        f"state_path: {tmp_path / 'state.db'}}}\nchannels:{channels}"
    )


async def test_concurrent_probes_within_an_interval_fetch_the_target_once(
    tmp_path: Path,
) -> None:
    # Slow enough that the 100 requests arrive while the one run is in flight.
    async with serve_target(lambda path, hit: (200, "<title>首页</title>", 0.5)) as target:
        # A loaded machine answering 100 probes at once must not time the one run out.
        checks = channel("home", f"{target.base}/", "{availability: {}}")
        cfg = config(tmp_path, checks, timeout="30s")
        async with serve_monitor(tmp_path, cfg) as monitor:
            for _wave in range(2):  # in flight, then answered from the fresh result
                answers = await asyncio.gather(*(monitor.probe("home") for _ in range(100)))
                assert {a.status_code for a in answers} == {200}
                assert {samples(a.text)[("probe_success", ())] for a in answers} == {1.0}
                assert target.hits["/"] == 1


def _flaky(path: str, hit: int) -> tuple[int, str, float]:
    if path == "/undated/":
        return 200, UNDATED, 0.0
    if path == "/down/" or (path == "/flaky/" and hit == 1):
        return 500, "<title>500</title>", 0.0
    return 200, "<title>首页</title>", 0.0


@pytest.mark.parametrize(
    ("name", "state", "check_success", "probe_success"),
    [
        ("ok", "ok", 1.0, 1.0),
        ("down", "zombie", 0.0, 0.0),
        # Its latest fetch worked, but one failure in its first few probes is a zombie.
        ("flaky", "zombie", 1.0, 0.0),
        # A column without a date: the check could not tell, the channel is unknown.
        ("undated", "unknown", None, 0.0),
    ],
)  # fmt: skip
async def test_probe_success_is_0_unless_every_check_succeeded_and_the_channel_is_alive(
    tmp_path: Path, name: str, state: str, check_success: float | None, probe_success: float
) -> None:
    async with serve_target(_flaky) as target:
        channels = "".join(
            (
                channel("ok", f"{target.base}/ok/", "{availability: {}}"),
                channel("down", f"{target.base}/down/", "{availability: {}}"),
                channel("flaky", f"{target.base}/flaky/", "{availability: {interval: 1s}}"),
                channel("undated", f"{target.base}/undated/", f"{{freshness: {{columns: "
                        f"[{{id: news, url: '{target.base}/undated/'}}]}}}}"),
            )
        )  # fmt: skip
        check = "freshness" if name == "undated" else "availability"
        async with serve_monitor(tmp_path, config(tmp_path, channels)) as monitor:
            async with asyncio.timeout(20):
                while True:  # the flaky site answers from its second request on
                    got = samples((await monitor.probe(name)).text)
                    labels = (("channel", name), ("check", check), ("kind", "website"))
                    if got.get(("zombie_check_success", labels)) == check_success:
                        break
                    await asyncio.sleep(0.3)
            ch = (("channel", name), ("kind", "website"), ("state", state))
            assert got[("zombie_channel_state", ch)] == 1.0
            assert got[("probe_success", ())] == probe_success


async def test_debug_shows_the_checks_evidence_as_text(tmp_path: Path) -> None:
    async with serve_target(_flaky) as target:
        cfg = config(tmp_path, channel("down", f"{target.base}/down/", "{availability: {}}"))
        async with serve_monitor(tmp_path, cfg) as monitor:
            response = await monitor.probe("down", debug="true")
            plain = await monitor.probe("down")
            refused = await monitor.probe("down", debug="yes")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert text.startswith("Probe of channel down (website): zombie\n")
    assert "reason site_unreachable (zombie, availability)" in text
    assert "Check availability: failed" in text
    assert "  failure: http_status\n" in text
    assert "  measurement: zombie_http_status_code{} 500" in text
    metrics = text.split("Metrics that would have been returned:\n\n", 1)[1]
    assert samples(metrics) == samples(plain.text) | {
        ("probe_duration_seconds", ()): samples(metrics)[("probe_duration_seconds", ())]
    }
    assert refused.status_code == 400
    assert target.hits["/down/"] == 1


async def test_waiting_for_the_monitors_own_per_host_slot_is_never_a_timeout(
    tmp_path: Path,
) -> None:
    # 20 channels on one host answering in 0.5 s through 2 slots: the last request waits
    # 4.5 s in the monitor's queue, far past the 2 s timeout, and is still no timeout.
    async with serve_target(lambda path, hit: (200, "<title>站点</title>", 0.5)) as target:
        channels = "".join(
            channel(f"site-{i}", f"{target.base}/{i}/", "{availability: {}}") for i in range(20)
        )
        cfg = config(tmp_path, channels, per_host=2, timeout="2s")
        async with serve_monitor(tmp_path, cfg) as monitor:
            answers = await asyncio.gather(*(monitor.probe(f"site-{i}") for i in range(20)))
    for answer in answers:
        assert samples(answer.text)[("probe_success", ())] == 1.0, answer.text
        assert "zombie_check_failure" not in answer.text
    assert sum(target.hits.values()) == 20
