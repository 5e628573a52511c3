"""Channel labels: keys declared in `global.labels`, bounded values per channel, exported
on `zombie_channel_info` so dashboards and alert routing can group by them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from probes.config import ConfigError, parse_config
from probes.runtime.monitor import open_monitor
from tests.scrape import scrape

CONFIG = """
global:
  state_path: "{state}"
  labels: [district, level]
channels:
  - name: xihu-portal
    kind: website
    owner: 西湖区人民政府办公室
    url: http://127.0.0.1:1/
    labels: {{district: 西湖区, level: 区县}}
    checks: {{availability: {{}}}}
  - name: city-portal
    kind: website
    owner: 杭州市人民政府办公厅
    url: http://127.0.0.1:1/
    labels: {{level: 地市}}
    checks: {{availability: {{}}}}
"""


async def test_declared_labels_are_exported_on_channel_info(tmp_path: Path) -> None:
    config = parse_config(CONFIG.format(state=tmp_path / "state.db"))
    async with open_monitor(config) as monitor:
        text = await scrape(monitor)
    info = {
        s.labels["channel"]: s.labels
        for fam in text_string_to_metric_families(text.decode())
        for s in fam.samples
        if s.name == "zombie_channel_info"
    }
    assert (info["xihu-portal"]["district"], info["xihu-portal"]["level"]) == ("西湖区", "区县")
    assert info["city-portal"]["level"] == "地市"
    assert info["city-portal"].get("district", "") == ""  # Prometheus: empty is no label
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: scripts/test installs Debian's prometheus package")
    lint = subprocess.run([promtool, "check", "metrics"], input=text,
                          capture_output=True, check=False)  # fmt: skip
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


@pytest.mark.parametrize(
    ("change", "message"),
    [(("labels: {{district: 西湖区, level: 区县}}", "labels: {{system: 政务云}}"),
      "label system is not declared in global.labels"),
     (("labels: [district, level]", "labels: [district, owner]"), "label key 'owner'"),
     (("labels: [district, level]", "labels: [District]"), "label key 'District'"),
     (("district: 西湖区", "district: http://xihu.gov.cn/"), "not a URL"),
     (("district: 西湖区", "district: " + "区" * 65), "1-64 printable characters")],
)  # fmt: skip
def test_bad_labels_are_config_errors(change: tuple[str, str], message: str) -> None:
    old, new = change
    with pytest.raises(ConfigError) as caught:
        parse_config(CONFIG.replace(old, new).format(state=":memory:"))
    assert message in str(caught.value)
