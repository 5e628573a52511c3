"""What a check kind receives besides its spec: the shared fetcher, the clock, the state
store, a logger, the channel it watches, and the deadline of this run."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from probes.clock import Clock
from probes.config import ChannelConfig, GlobalConfig
from probes.http.fetcher import Fetcher, FetchOutcome, QueueTime
from probes.state.store import Store


@dataclass(frozen=True, slots=True)
class CheckContext:
    fetcher: Fetcher
    clock: Clock
    store: Store
    log: logging.Logger
    channel: ChannelConfig
    settings: GlobalConfig
    deadline: float  # on clock.monotonic(): the run must end by then
    # Time the run was blocked by the monitor's own per-host queue: it extends the deadline.
    queue: QueueTime | None = None

    def remaining(self) -> float:
        """Seconds left of this run's deadline (never negative)."""
        waited = self.queue.total if self.queue is not None else 0.0
        return max(0.0, self.deadline + waited - self.clock.monotonic())

    async def fetch(
        self,
        url: str,
        *,
        timeout: float | None = None,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        cookies: httpx.Cookies | None = None,
        max_body: int | None = None,
    ) -> FetchOutcome:
        """`Fetcher.fetch` within the time left of this run: `timeout` (a per-request
        limit such as a link's or a step's) can only shorten it."""
        left = self.remaining()
        return await self.fetcher.fetch(
            url,
            timeout=left if timeout is None else min(timeout, left),
            method=method,
            headers=headers,
            data=data,
            json=json,
            cookies=cookies,
            max_body=max_body,
        )
