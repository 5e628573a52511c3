"""Real government pages (../shared/realdata/pages, answers in its expected.tsv), served
over HTTP by a local server and read through the checks production runs: each listing's
newest date and item count, each article's own publication date, a script-rendered list
unknown, and every anti-bot challenge unknown with `blocked_by_waf`, never a zombie."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from probes.cli.check import one_off_config
from probes.clock import FrozenClock
from probes.findings.freshness import ColumnFindings, FreshnessFindings
from probes.model import CheckResult, Failure, State, Verdict
from probes.pages.dates import CN_TZ
from probes.runtime.runner import open_runtime, run_channel
from tests.measurements import measured
from tests.page_server import serve_pages

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT.parent / "shared" / "realdata" / "pages"
EXPECTED = list(csv.DictReader((PAGES / "expected.tsv").open(encoding="utf-8"), delimiter="\t"))
pytestmark = pytest.mark.skipif(not PAGES.is_dir(), reason="shared real data not present")

# How each challenge answered a client without its cookie: 瑞数 with 412, 加速乐 with 521
# (the stage-1 file is the script of that answer's body). Two are served with 200 so the
# page itself, not its status, has to give the challenge away (their captures did not
# record the status).
CHALLENGE_STATUS = {
    "sbj_cnipa_rs.html": 200,
    "gansu_scjg_search_rs412.html": 412,
    "gansu_scjg_detail_rs412.html": 200,
    "cde_trials_rs412.html": 412,
    "mps_gov_jsl521_challenge1.js": 521,
    "sist_kcyd_jsl_stage2.html": 521,
}
PRODUCT = {
    "sbj_cnipa_rs.html": "瑞数",
    "gansu_scjg_search_rs412.html": "瑞数",
    "gansu_scjg_detail_rs412.html": "瑞数",
    "cde_trials_rs412.html": "瑞数",
    "mps_gov_jsl521_challenge1.js": "加速乐",
    "sist_kcyd_jsl_stage2.html": "加速乐",
}


def _body(name: str) -> bytes:
    raw = (PAGES / name).read_bytes()
    return b"<script>" + raw + b"</script>" if name.endswith(".js") else raw


@pytest.fixture
async def site() -> AsyncIterator[str]:
    """The real pages on a local HTTP server: GET /pages/NAME."""
    pages = {
        f"/pages/{row['file']}": (CHALLENGE_STATUS.get(row["file"], 200), _body(row["file"]))
        for row in EXPECTED
    }
    async with serve_pages(pages) as base:
        yield base + "/pages/"


async def check(
    url: str, kind: str, state: Path, clock: FrozenClock, **options: Any
) -> tuple[Verdict, CheckResult]:
    """One check of `url` as `zombie-probes check URL --as KIND` runs it, with its state in
    the file `state` (kept between calls, as a running monitor keeps it)."""
    config = one_off_config(url, kind, options)
    async with open_runtime(config.global_, clock=clock, state_path=state) as rt:
        verdict, [result] = await run_channel(rt, config.channels[0])
    return verdict, result


def columns(result: CheckResult) -> tuple[ColumnFindings, ...]:
    assert isinstance(result.findings, FreshnessFindings), result
    return result.findings.columns


def _day(ts: float | None) -> str:
    return "none" if ts is None else dt.datetime.fromtimestamp(ts, CN_TZ).date().isoformat()


@pytest.mark.parametrize(
    "row",
    [r for r in EXPECTED if r["page_type"] in ("listing", "article")],
    ids=lambda r: r["file"],
)
async def test_real_page_gets_its_expected_newest_date_and_item_count(
    row: dict[str, str], site: str, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    verdict, result = await check(
        site + row["file"], "freshness", tmp_path / "state.db", frozen_clock
    )
    [column] = columns(result)
    assert _day(column.newest) == row["expected_newest"], column
    assert column.page == row["page_type"], column
    if row["page_type"] == "listing":
        assert column.items == int(row["items"]), column
    if row["expected_newest"] == "none":
        # A list that prints no dates cannot be judged from one page: unknown, never stale.
        assert column.status == "unknown"
        assert verdict.state is State.UNKNOWN
    else:
        assert column.status in ("fresh", "stale")


async def test_script_rendered_list_is_unknown_and_never_dated_from_elsewhere(
    site: str, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    [row] = [r for r in EXPECTED if r["page_type"] == "js-list"]
    verdict, result = await check(
        site + row["file"], "freshness", tmp_path / "state.db", frozen_clock
    )
    [column] = columns(result)
    assert column.status == "unknown" and column.newest is None
    assert verdict.state is State.UNKNOWN
    assert [r.code for r in verdict.reasons] == ["list_rendered_by_script"]


CHALLENGES = [r["file"] for r in EXPECTED if r["page_type"] == "challenge"]


@pytest.mark.parametrize("name", CHALLENGES)
@pytest.mark.parametrize("kind", ["availability", "freshness", "board", "links"])
async def test_challenge_is_unknown_blocked_by_waf_naming_the_product(
    name: str, kind: str, site: str, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    verdict, result = await check(site + name, kind, tmp_path / "state.db", frozen_clock)
    assert result.failure is Failure.BLOCKED
    assert result.success is None
    assert verdict.state is State.UNKNOWN
    [reason] = [r for r in verdict.reasons if r.code == "blocked_by_waf"]
    assert PRODUCT[name] in reason.detail
    assert "allow the monitor's address" in reason.detail
    assert not any(r.state in (State.ZOMBIE, State.DEGRADED) for r in verdict.reasons)


async def test_blocked_probes_never_count_toward_the_unreachable_share(
    site: str, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    url = site + "cde_trials_rs412.html"
    for _ in range(5):
        verdict, result = await check(url, "availability", tmp_path / "state.db", frozen_clock)
        frozen_clock.advance(1800)
    assert verdict.state is State.UNKNOWN
    assert "site_unreachable" not in {r.code for r in verdict.reasons}
    assert result.window is not None
    assert (result.window.runs, result.window.failures) == (0, 0)
    assert measured(result, "availability_window_probes") == 0


async def test_check_of_a_challenge_exits_unknown_with_blocked_by_waf(site: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "probes", "check", site + "gansu_scjg_search_rs412.html",
        "--as", "availability", "--json", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, _ = await proc.communicate()
    assert proc.returncode == 3
    doc = json.loads(out)
    assert doc["state"] == "unknown"
    assert "blocked_by_waf" in {r["code"] for r in doc["reasons"]}
    assert doc["checks"][0]["failure"] == "blocked"
