"""One /metrics body of a monitor in tests, as a scrape receives it."""

from __future__ import annotations

from probes.runtime.monitor import Monitor


async def scrape(monitor: Monitor, detail: bool | None = None) -> bytes:
    """The whole body `monitor.metrics` streams, joined."""
    return b"".join([piece async for piece in monitor.metrics(detail)])
