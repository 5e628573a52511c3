"""`zombie-probes channels import`: a register of sites (CSV as Excel writes it on a Chinese
Windows, or .xlsx) becomes channel YAML that `config check` accepts, and what could not be
mapped is named."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["序号", "网站名称", "网站标识码", "首页网址", "主办单位", "行政区划", "层级",
          "栏目:tzgg", "栏目:zwdt", "联系电话"]  # fmt: skip
ROWS = [
    ["1", "杭州市西湖区人民政府", "3301060001", "www.hzxh.gov.cn", "西湖区人民政府办公室",
     "西湖区", "区县", "http://www.hzxh.gov.cn/col/col1177/", "http://www.hzxh.gov.cn/col/col1/",
     "0571-87000000"],
    ["2", "西湖区教育局", "", "https://www.hzxh.gov.cn/jyj/", "西湖区教育局", "西湖区", "区县",
     "", "", ""],
    ["3", "无网址的网站", "", "", "某某局", "", "", "", "", ""],
    ["4", "西湖区人民政府（重复）", "", "www.hzxh.gov.cn", "西湖区人民政府办公室", "西湖区",
     "区县", "", "", ""],
]  # fmt: skip


async def zp(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "probes", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _csv(path: Path) -> None:
    lines = [",".join(f'"{cell}"' for cell in row) for row in [HEADER, *ROWS]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))


def _xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "网站名录"
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    book.save(path)


@pytest.mark.parametrize(("suffix", "write"), [(".csv", _csv), (".xlsx", _xlsx)])
async def test_a_register_becomes_config_that_config_check_accepts(
    tmp_path: Path, suffix: str, write: object
) -> None:
    register = tmp_path / f"register{suffix}"
    assert callable(write)
    write(register)
    out = tmp_path / "channels.yaml"
    code, _, err = await zp("channels", "import", str(register), "-o", str(out))
    assert code == 0, err
    assert "not mapped: column '序号'" in err and "not mapped: column '联系电话'" in err
    assert "skipped: row 4: no usable URL" in err  # the header is row 1
    assert err.strip().endswith("3 channels from 4 rows")
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["global"]["labels"] == ["district", "level"]
    first, second, third = doc["channels"]
    assert first == {
        "name": "3301060001", "kind": "website", "owner": "西湖区人民政府办公室",
        "title": "杭州市西湖区人民政府", "url": "http://www.hzxh.gov.cn/",
        "labels": {"district": "西湖区", "level": "区县"},
        "checks": {"availability": {}, "freshness": {"columns": [
            {"id": "tzgg", "url": "http://www.hzxh.gov.cn/col/col1177/", "class": "news"},
            {"id": "zwdt", "url": "http://www.hzxh.gov.cn/col/col1/", "class": "news"},
        ]}},
    }  # fmt: skip
    assert second["name"] == "hzxh.gov.cn-jyj"
    assert third["name"] == "hzxh.gov.cn"  # from the URL; the id column was empty
    code, _, err = await zp("config", "check", str(out))
    assert code == 0, err


async def test_a_register_without_url_or_owner_columns_is_refused(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text("名称,电话\n某某局,12345\n", encoding="utf-8")
    code, out, err = await zp("channels", "import", str(register))
    assert code == 3
    assert out == ""
    assert "not mapped: column '电话'" in err
    assert "no row could be made a channel" in err
