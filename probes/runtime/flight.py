"""One run per check at a time, its result shared: the single flight that the scheduler and
`/probe` both go through.

A check is keyed by (channel, check). Whoever wants a check run while one is in flight
(the scheduler at its due time, any number of concurrent `/probe` requests) awaits that
same run instead of starting another, so the target sees one request, not one per asker.
The run is shielded: a `/probe` client that hangs up cancels only its own wait, never the
run the others share.

`is_fresh` is the other half of "no side effects": a result younger than the check's
interval answers a `/probe` as it is, because the scheduler would not run the check again
before then either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from probes.model import CheckResult

Key = tuple[str, str]  # (channel, check)


def is_fresh(result: CheckResult | None, interval: float, now: float) -> bool:
    """Whether a check's latest result is younger than its interval (wall clock)."""
    return result is not None and 0.0 <= now - result.started < interval


class Flights:
    """The runs in flight, by (channel, check); created by the scheduler's owner."""

    def __init__(self) -> None:
        self._running: dict[Key, asyncio.Task[CheckResult]] = {}

    def __len__(self) -> int:
        return len(self._running)

    def in_flight(self, key: Key) -> bool:
        return key in self._running

    async def run(
        self, key: Key, start: Callable[[], Coroutine[Any, Any, CheckResult]]
    ) -> CheckResult:
        """The result of the run in flight for `key`, starting `start()` when there is
        none. Every caller gets the same result (or the same exception)."""
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(start(), name=f"check {key[0]}/{key[1]}")
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    def _forget(self, key: Key, done: asyncio.Task[CheckResult]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            # Read the outcome so an exception nobody awaited any more is not reported
            # as "never retrieved": every waiter already got it through the shield.
            done.exception()
