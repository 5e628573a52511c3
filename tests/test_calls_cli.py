"""`calls import` and `calls report` as users run them: the state file named by -c or
--state (never a silent ./zombie-probes.db), the config's channel mapping, a report that
is valid JSON with --json and never cut when piped, times in the configured zone."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Asterisk's standard Master.csv order; `dst` is the dialled number that names the hotline.
LINE = (
    '"","1001","{dst}","from-internal","""Zhang"" <1001>","SIP/1001-0001","SIP/200-0002",'
    '"Dial","SIP/200,30","2026-11-20 09:00:{s:02d}","{answer}","2026-11-20 09:01:{s:02d}",'
    '"60","{bill}","{disp}","DOCUMENTATION","1763600400.{s}",""'
)


def _cdr(path: Path) -> None:
    rows = [
        LINE.format(dst="12345", s=1, answer="2026-11-20 09:00:13", bill="48", disp="ANSWERED"),
        LINE.format(dst="12345", s=2, answer="", bill="0", disp="NO ANSWER"),
        LINE.format(dst="96123", s=3, answer="2026-11-20 09:00:20", bill="41", disp="ANSWERED"),
        LINE.format(dst="96123", s=3, answer="2026-11-20 09:00:20", bill="41", disp="ANSWERED"),
        LINE.format(dst="11111", s=4, answer="", bill="0", disp="BUSY"),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _config(tmp_path: Path, answer_within: str = "15s") -> Path:
    config = tmp_path / "city.yaml"
    config.write_text(
        f"""
global: {{state_path: "{tmp_path / "city.db"}", timezone: Asia/Shanghai}}
channels:
  - name: hotline-12345
    kind: hotline
    owner: 市政务服务热线
    checks: {{hotline: {{answer_within: {answer_within}}}}}
  - name: report-line-with-a-long-name-for-the-environment-bureau
    kind: hotline
    owner: 市生态环境局
    checks: {{hotline: {{answer_within: {answer_within}}}}}
calls:
  files:
    - path: "{tmp_path / "Master.csv"}"
      format: asterisk-csv
      channel_column: dst
      channels:
        "12345": hotline-12345
        "96123": report-line-with-a-long-name-for-the-environment-bureau
""",
        encoding="utf-8",
    )
    return config


async def _run(cwd: Path, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"},
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate(stdin)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def zp(cwd: Path, *args: str) -> tuple[int, str, str]:
    return await _run(cwd, sys.executable, "-m", "probes", *args)


async def test_import_without_a_config_or_state_file_writes_nothing(tmp_path: Path) -> None:
    _cdr(tmp_path / "Master.csv")
    code, _, err = await zp(tmp_path, "calls", "import", "Master.csv", "--format", "asterisk-csv",
                            "--channel", "hotline-12345")  # fmt: skip
    assert code == 3
    assert "give -c FILE" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "zombie-probes.db").exists()


async def test_import_uses_the_config_mapping_and_report_json_is_valid(tmp_path: Path) -> None:
    config = _config(tmp_path)
    _cdr(tmp_path / "Master.csv")
    code, out, err = await zp(tmp_path, "calls", "import", "Master.csv", "--format",
                              "asterisk-csv", "-c", str(config))  # fmt: skip
    assert code == 0, err
    assert out.strip() == (
        f"imported 3 records into {tmp_path / 'city.db'}; 1 already stored; "
        "not stored: unknown_channel: 1"
    )
    code, out, err = await zp(tmp_path, "calls", "report", "-c", str(config), "--json")
    assert code == 0, err
    tool, pretty, _ = await _run(tmp_path, sys.executable, "-m", "json.tool",
                                 stdin=out.encode())  # fmt: skip
    assert tool == 0 and json.loads(pretty) == json.loads(out)
    doc = json.loads(out)
    assert doc["schema_version"] == 1
    by_name = {h["channel"]: h for h in doc["hotlines"]}
    hotline = by_name["hotline-12345"]
    assert (hotline["total"], hotline["calls"]["answered"], hotline["calls"]["no_answer"]) == (
        2, 1, 1,
    )  # fmt: skip
    assert hotline["answered_within"] == {"seconds": 15, "calls": 1, "of": 1}
    assert hotline["last_record"]["time"] == "2026-11-20 09:00:02+08:00"
    report_line = by_name["report-line-with-a-long-name-for-the-environment-bureau"]
    assert report_line["answered_within"]["calls"] == 0  # answered after 20 s


@pytest.mark.parametrize(("answer_within", "header"), [("15s", "≤15s"), ("20s", "≤20s")])
async def test_report_text_is_never_cut_when_piped(
    tmp_path: Path, answer_within: str, header: str
) -> None:
    config = _config(tmp_path, answer_within)
    _cdr(tmp_path / "Master.csv")
    await zp(tmp_path, "calls", "import", "Master.csv", "--format", "asterisk-csv",
             "-c", str(config))  # fmt: skip
    code, out, err = await zp(tmp_path, "calls", "report", "-c", str(config))
    assert code == 0, err
    head, *rows = out.splitlines()
    assert head.split("  ")[0].strip() == "channel"
    assert header in head and head.rstrip().endswith("window answered")
    long = next(r for r in rows if r.startswith("report-line-with-a-long-name"))
    assert "report-line-with-a-long-name-for-the-environment-bureau" in long
    assert "2026-11-20 09:00:03+08:00" in long  # whole, with its offset, past 80 columns
    assert "…" not in out
