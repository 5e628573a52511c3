"""What a check kind receives besides its spec: the shared fetcher, the page-work pool, the
clock, the state store, a logger, the channel it watches, and the deadline of this run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, TypeVarTuple

import httpx

from probes.clock import Clock
from probes.config import ChannelConfig, GlobalConfig
from probes.http.fetcher import Fetcher, FetchOutcome, QueueTime
from probes.kinds.pagework import PageWorkers
from probes.state.store import Store

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True, slots=True)
class CheckContext:
    fetcher: Fetcher
    pages: PageWorkers
    clock: Clock
    store: Store
    log: logging.Logger
    channel: ChannelConfig
    settings: GlobalConfig
    deadline: float  # on clock.monotonic(): the run must end by then
    # Time the run was blocked by the monitor's own per-host queue: it extends the deadline.
    queue: QueueTime | None = None
    # One page of this run in a worker at a time: a check with many big pages never holds
    # every worker, so other checks' pages are not kept waiting into their deadlines.
    _reading: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

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

    async def read(self, body: bytes, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """`fn(*args)`, the reading of the fetched page `body`, off the event loop
        (`probes.kinds.pagework`) within the time left of this run: running out of it
        raises TimeoutError, which the runner reports as the check's timeout."""
        if self.pages.inline(body):
            return fn(*args)
        async with self._reading:
            return await self.pages.run(body, self.remaining(), fn, *args)
