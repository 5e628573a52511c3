"""Check kinds: one module each, all with `async def check(spec, ctx) -> Report`.

`KINDS` is the one literal dispatch table; the runner looks a check's kind up here and
nothing else knows which modules exist. A kind whose rule judges its past runs (the
official "site unreachable" week, consecutive failed service runs) says over what span
(`window_span`) and which measurements show that window (`window_measurements`); the runner
computes the window once per run and stamps it on the result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from probes.kinds import availability, board, freshness, hotline, links, service
from probes.kinds.context import CheckContext
from probes.model import Measurement, Report, RunWindow

CheckFn = Callable[[Any, CheckContext], Awaitable[Report]]


def _no_window_measurements(window: RunWindow) -> tuple[Measurement, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class Kind:
    """A check kind: its check, and for a kind whose rule judges history, the span of past
    runs (from its spec) and the measurements of that window."""

    check: CheckFn
    window_span: Callable[[Any], float] | None = None
    window_measurements: Callable[[RunWindow], tuple[Measurement, ...]] = _no_window_measurements


KINDS: dict[str, Kind] = {
    "availability": Kind(
        availability.check, availability.window_span, availability.window_measurements
    ),
    "freshness": Kind(freshness.check),
    "links": Kind(links.check),
    "service": Kind(service.check, service.window_span, service.window_measurements),
    "board": Kind(board.check),
    "hotline": Kind(hotline.check),
}

__all__ = ["KINDS", "CheckContext", "CheckFn", "Kind"]
