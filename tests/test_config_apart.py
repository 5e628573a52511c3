"""A config loaded in a child process (how a running monitor reloads a large file) is
exactly the config, or exactly the errors, that loading it in the process gives."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from probes.config import ConfigError, load_config
from probes.config.apart import PART_CHANNELS, load_config_apart
from tests.test_faults_config import ALIAS_BOMB, ZERO_INTERVAL

ROOT = Path(__file__).resolve().parents[1]
SITE = (
    "  - {{name: s{i}, kind: website, owner: '${{OWNER}}', url: 'http://s{i}.gov.cn/', "
    "checks: {{availability: {{interval: {i}s}}}}}}\n"
)
MANY = "global: {timeout: 3s}\nchannels:\n" + "".join(
    SITE.format(i=i) for i in range(1, 2 * PART_CHANNELS + 51)
)


@pytest.mark.parametrize(
    "source", [ROOT / "config" / "example.yaml", ROOT / "config" / "demo.yaml", MANY],
    ids=["example", "demo", "450 channels in three parts"],
)  # fmt: skip
async def test_a_config_loaded_apart_equals_the_one_loaded_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: Path | str
) -> None:
    monkeypatch.setenv("OWNER", "云泽市数据局")  # the child sees this process's environment
    path = source if isinstance(source, Path) else tmp_path / "many.yaml"
    if isinstance(source, str):
        path.write_text(source, encoding="utf-8")
    here = load_config(path)
    apart = await load_config_apart(path)
    assert apart == here
    assert [c.name for c in apart.channels] == [c.name for c in here.channels]


@pytest.mark.parametrize(
    "text",
    [
        ALIAS_BOMB,
        ZERO_INTERVAL,
        MANY + "  - {name: s0, kind: website, owner: x, url: 'http://x.gov.cn/', checks: {}}\n"
        "  - {name: 'bad name'}\n",
        "channels:\n  - name: [unclosed\n",
        MANY.replace("${OWNER}", "${NOT_SET_ANYWHERE}", 1),
        b"global: {user_agent: \xff}\n",
        None,
    ],
    ids=["alias bomb", "interval 0s", "errors at the end", "YAML syntax", "missing variable",
         "not UTF-8", "no such file"],
)  # fmt: skip
async def test_a_bad_config_loaded_apart_names_the_same_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | bytes | None
) -> None:
    monkeypatch.setenv("OWNER", "x")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = tmp_path / "bad.yaml"
    if text is not None:
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(ConfigError) as here:
        load_config(path)
    with pytest.raises(ConfigError) as apart:
        await load_config_apart(path)
    assert apart.value.issues == here.value.issues
    assert str(apart.value) == str(here.value)
    assert str(apart.value).startswith(f"{path}:")


def _loaders() -> list[int]:
    """This process's children running the config loader."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            running = b"child_main" in (proc / "cmdline").read_bytes()  # empty once dead
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and running:
            found.append(int(proc.name))
    return found


async def test_a_cancelled_load_apart_stops_its_loader_process(tmp_path: Path) -> None:
    path = tmp_path / "national.yaml"
    sites = "".join(SITE.format(i=i) for i in range(1, 20_001))
    path.write_text("channels:\n" + sites.replace("${OWNER}", "x"), encoding="utf-8")
    load = asyncio.create_task(load_config_apart(path))
    async with asyncio.timeout(10):
        while not _loaders():
            await asyncio.sleep(0.02)
    load.cancel()
    with pytest.raises(asyncio.CancelledError):
        await load
    async with asyncio.timeout(3):  # the load alone takes longer
        while _loaders():
            await asyncio.sleep(0.02)
