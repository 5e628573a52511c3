"""Fault suite, error texts: whatever a server sends, the failure a check reports is one
line (aiohttp's parser errors span several lines, with a caret under the bad byte), on
both transports, over real sockets; so is any check's."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from probes import kinds
from probes.config import parse_config
from probes.http.fetcher import FetchFailure
from probes.kinds.context import CheckContext
from probes.model import Failure, Report
from probes.runtime.runner import Runtime, run_channel
from tests.test_fetch_sockets import TRANSPORTS, fetcher, serve

pytestmark = [pytest.mark.integration, pytest.mark.fault]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (b"HTTP/1.1 2OO OK\r\n\r\n", "2OO"),
        (b"GARBAGE\r\n\r\n", "GARBAGE"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "Bad Header"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk"),
    ],
    ids=["status", "no-http", "content-length", "header", "chunk-size"],
)
async def test_a_garbled_response_fails_with_a_one_line_error(
    transport: str, reply: bytes, says: str
) -> None:
    async def garbled(writer: asyncio.StreamWriter) -> None:
        writer.write(reply)
        await writer.drain()

    async with serve(garbled) as (port, _), fetcher(transport) as f:
        out = await f.fetch(f"http://127.0.0.1:{port}/", timeout=5)
    assert isinstance(out, FetchFailure)
    assert out.failure is Failure.CONNECT
    assert "\n" not in out.error and "\r" not in out.error
    assert "^" not in out.error.split()
    assert says in out.error


async def test_a_check_whose_error_spans_lines_reports_one_line(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def multi_line(spec: object, ctx: CheckContext) -> Report:
        # As a kind that puts a library's exception text into its error would.
        return Report(False, failure=Failure.CONNECT, error="first line\n  second line\r\n  ^")

    check = kinds.KINDS["availability"]
    monkeypatch.setitem(kinds.KINDS, "availability", replace(check, check=multi_line))
    channel = parse_config(
        "channels:\n  - {name: site, kind: website, owner: x, url: 'http://127.0.0.1:1/',"
        " checks: {availability: {}}}\n"
    ).channel("site")
    assert channel is not None
    _, (result,) = await run_channel(runtime, channel)
    assert result.error == "first line second line"
