"""Fault suite, configuration: alias bombs, recursive aliases, runaway nesting, huge files
and zero intervals are refused at once naming file, line and field, by `config check` and
by a reload of a running monitor, which answers 400, keeps the old config and says so in
`zombie_config_last_reload_successful`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from probes.config import ConfigError, load_config
from probes.config.loader import MAX_CONFIG_BYTES
from probes.demo.portal import RunningPortal
from tests.test_cli import zp
from tests.test_serve import CONFIG, Served, free_port, start, stop, wait_healthy

pytestmark = pytest.mark.fault

# Nine levels of nine: 387,420,489 strings from 350 bytes.
ALIAS_BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
ZERO_INTERVAL = """global:
  timeout: 5s
  interval: 0s
channels: []
"""
SITE = """channels:
  - name: a
    kind: website
    owner: x
    url: http://a.example.gov.cn/
    checks: {availability: {timeout: 0s}}
"""


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (ALIAS_BOMB, ":7:4: ", "expands to more than 2,000,000 values"),
        ("global: &g {interval: [*g]}\n", ":1:24: ", "recursive alias *g"),
        ("channels: " + "[" * 100_000 + "]" * 100_000 + "\n", ":1:", "nest"),
        ("channels:\n" + "".join("  " * i + "k:\n" for i in range(1, 200)), ":65:", "nested"),
        (ZERO_INTERVAL, ":3:3: global.interval: ", "interval 0s is below the minimum of 1s"),
        (SITE, ":6:29: channels[0].checks.availability.timeout: ", "below the minimum of 100ms"),
    ],
    ids=["alias bomb", "recursive alias", "100,000 deep", "200 deep", "interval 0s", "timeout 0s"],
)
def test_hostile_configs_are_refused_at_once_naming_file_line_and_field(
    tmp_path: Path, text: str, where: str, says: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert time.perf_counter() - started < 1.0
    assert len(info.value.issues) == 1
    assert str(info.value.issues[0]).startswith(f"{path}{where}")
    assert says in str(info.value)


def test_a_config_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError, match=r"huge.yaml:1:1: larger than 32 MiB"):
        load_config(path)


def test_anchors_and_aliases_within_the_bounds_still_work(tmp_path: Path) -> None:
    site = "  - {{name: s{i}, kind: website, owner: x, url: 'http://s{i}.gov.cn/', checks: {c}}}\n"
    first = site.format(i=0, c="&checks {availability: {interval: 1s, timeout: 100ms}}")
    rest = "".join(site.format(i=i, c="*checks") for i in range(1, 50))
    path = tmp_path / "ok.yaml"
    path.write_text("channels:\n" + first + rest, encoding="utf-8")
    config = load_config(path)
    assert len(config.channels) == 50
    specs = [c.checks.availability for c in config.channels]
    assert all(s is not None and (s.interval, s.timeout) == (1.0, 0.1) for s in specs)


@pytest.mark.parametrize(
    ("text", "says"),
    [(ALIAS_BOMB, "bad.yaml:7:4: expands"), (ZERO_INTERVAL, "bad.yaml:3:3: global.interval")],
    ids=["alias bomb", "interval 0s"],
)
async def test_config_check_refuses_with_file_line_and_field(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = await zp("config", "check", str(path))
    assert code == 1
    assert says in out + err


@pytest.mark.integration
async def test_every_failed_reload_answers_400_keeps_the_old_config_and_says_so(
    portal: RunningPortal, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    good = CONFIG.format(interval="1h", state=tmp_path / "state.db", portal=portal.base_url)
    config.write_text(good, encoding="utf-8")
    port = free_port()
    async with httpx.AsyncClient(timeout=10) as client:
        served = Served(await start(config, port), f"http://127.0.0.1:{port}", config, client)
        try:
            await wait_healthy(client, served.base)
            faults: list[tuple[str, str | None]] = [
                ("alias bomb", ALIAS_BOMB),
                ("recursive alias", "global: &g {interval: [*g]}\n"),
                ("deep", "channels: " + "[" * 100_000 + "]" * 100_000),
                ("interval 0s", good.replace("interval: 1h", "interval: 0s")),
                ("not UTF-8", "global: {user_agent: \udcff}\n"),
                ("removed", None),
            ]
            for name, text in faults:
                if text is None:
                    config.unlink()
                else:
                    config.write_bytes(text.encode("utf-8", errors="surrogateescape"))
                started = time.monotonic()
                response = await client.post(f"{served.base}/-/reload")
                assert response.status_code == 400, name
                assert time.monotonic() - started < 2.0, name
                assert str(config) in response.text, name
                assert await served.value("zombie_config_last_reload_successful") == 0, name
                # The old config keeps running: both channels are still there.
                channels = {dict(labels)["channel"] for (metric, labels) in
                            await served.metrics() if metric == "zombie_channel_info"}  # fmt: skip
                assert channels == {"home", "broken"}, name
                config.write_text(good, encoding="utf-8")
                assert (await client.post(f"{served.base}/-/reload")).status_code == 200
                assert await served.value("zombie_config_last_reload_successful") == 1
        finally:
            assert await stop(served.proc) == 0


@pytest.mark.integration
async def test_metrics_answer_while_a_large_config_is_being_reloaded(
    portal: RunningPortal, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    good = CONFIG.format(interval="1h", state=tmp_path / "state.db", portal=portal.base_url)
    config.write_text(good, encoding="utf-8")
    port = free_port()
    async with httpx.AsyncClient(timeout=10) as client:
        served = Served(await start(config, port), f"http://127.0.0.1:{port}", config, client)
        try:
            await wait_healthy(client, served.base)
            # Thousands of channels to read, then an error at the very end: reading it takes
            # seconds of C code holding the GIL (libyaml, pydantic-core), in a child process.
            many = "".join(
                f"  - {{name: s{i}, kind: website, owner: x, url: 'http://s{i}.gov.cn/', "
                "checks: {availability: {enabled: false}}}\n"
                for i in range(20_000)
            )
            text = good + many + "  - {name: 'bad name'}\n"
            config.write_text(text, encoding="utf-8")
            reload = asyncio.create_task(client.post(f"{served.base}/-/reload", timeout=60))
            await asyncio.sleep(0.3)
            waits: list[float] = []
            while not reload.done():
                started = time.monotonic()
                assert (await client.get(f"{served.base}/metrics")).status_code == 200
                waits.append(time.monotonic() - started)
                await asyncio.sleep(0.1)
            answer = await reload
            assert answer.status_code == 400
            # The error names file, line and field as a small file's would.
            where = f"{config}:{text.count(chr(10))}:6: channels[20002].name: channel name"
            assert where in answer.text
            assert len(waits) >= 3, "the reload was too quick to show anything"
            assert max(waits) < 1.0
            assert await served.value("zombie_config_last_reload_successful") == 0
        finally:
            assert await stop(served.proc) == 0
