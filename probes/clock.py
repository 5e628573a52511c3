"""The injected clock: wall time for timestamps and staleness, monotonic time for durations
and deadlines, sleeping and timers. Tests pass a `FrozenClock` so windows, deadlines and
schedules need no real waiting: its time moves only when the test steps it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None:
        """Do not call the callback (a no-op once it has been called)."""


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock seconds since the epoch."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for durations."""

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""

    def call_later(self, seconds: float, callback: Callable[[], object]) -> Timer:
        """Call `callback` on the running event loop once `seconds` have passed on this
        clock (a timer, cheaper than a sleeping task for a loop that is woken early)."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(self, seconds: float, callback: Callable[[], object]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, seconds), callback)


class _FrozenTimer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], object]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FrozenClock:
    """A clock that moves only when told to (`advance`). Sleepers and timers fire when the
    clock has been advanced past their time, never by real time passing."""

    def __init__(self, now: float) -> None:
        self._now = now
        self._mono = 1000.0
        self._timers: list[tuple[float, int, _FrozenTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move time forward and fire every timer whose time has come, in time order."""
        self._now += seconds
        self._mono += seconds
        while self._timers and self._timers[0][0] <= self._mono:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.callback()

    def call_later(self, seconds: float, callback: Callable[[], object]) -> Timer:
        timer = _FrozenTimer(callback)
        heapq.heappush(self._timers, (self._mono + max(0.0, seconds), next(self._seq), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not waiter.done():  # a cancelled sleep leaves a done future
                waiter.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await waiter
        finally:
            timer.cancel()
