"""Hostile bodies served over HTTP: a page too deep to parse is refused in well under the
deadline as too_complex (never judged, never OK), and bytes that are not text are not a
healthy page nor an empty column."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from probes.clock import FrozenClock
from probes.model import Failure, State
from probes.pages.complexity import too_complex
from tests.page_server import serve_pages
from tests.test_real_pages import check

DEEP = ("<html><body>" + "<div>" * 200_000 + "x" + "</div>" * 200_000 + "</body></html>").encode()
# Closers between the openers: a nest no run of openers gives away.
INTERLEAVED = ("<html><body>" + "<div><i></i>" * 30_000 + "</div>" * 30_000).encode()
RANDOM = os.urandom(1 << 20)


@pytest.fixture
async def hostile() -> AsyncIterator[str]:
    pages = {"/deep": (200, DEEP), "/interleaved": (200, INTERLEAVED), "/random": (200, RANDOM)}
    async with serve_pages(pages) as base:
        yield base


@pytest.mark.parametrize("path", ["/deep", "/interleaved"])
@pytest.mark.parametrize("kind", ["freshness", "availability"])
async def test_a_page_too_deep_to_parse_is_refused_quickly_and_never_ok(
    path: str, kind: str, hostile: str, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    started = time.monotonic()
    verdict, result = await check(hostile + path, kind, tmp_path / "state.db", frozen_clock)
    assert time.monotonic() - started < 5
    assert result.success is not True
    assert verdict.state is not State.OK
    assert "too_complex" in " ".join(result.evidence)


@pytest.mark.parametrize("kind", ["freshness", "availability"])
async def test_random_bytes_served_as_html_are_not_a_healthy_page(
    kind: str, hostile: str, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    verdict, result = await check(hostile + "/random", kind, tmp_path / "state.db", frozen_clock)
    assert result.success is not True
    assert verdict.state is not State.OK
    assert result.failure is Failure.PARSE_ERROR


@pytest.mark.parametrize(
    "html",
    [
        "<ul>" + "<li><a href='/a'>x</a><p>y" * 30_000 + "</ul>",
        "<svg>" + "<path d='M0'/>" * 30_000 + "</svg>",
        "<table>" + "<tr><td>1<td>2" * 20_000 + "</table>",
    ],
    ids=["unclosed-li-and-p", "self-closed-svg", "unclosed-cells"],
)
def test_large_flat_pages_are_not_too_complex(html: str) -> None:
    assert too_complex(html) is None
