"""Findings of the `hotline` check: what the stored call records measure. The kind only
measures; the rule (`probes.verdict.hotline`) judges, with the predicates here, which the
kind also uses for its own success."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from probes.model import Findings, Outcome


@dataclass(frozen=True, slots=True)
class CallWindow:
    """Calls that started in service hours within one rolling window of service time:
    how many ended each way, how many were answered within `answer_within`, hung up
    within `quick_hangup` of the answer, or passed back to a department they had left."""

    label: str
    seconds: float
    since: float
    by_outcome: Mapping[Outcome, int]
    answered_within: int
    quick_hangups: int
    transfer_loops: int

    @property
    def calls(self) -> int:
        return sum(self.by_outcome.values())

    @property
    def answered(self) -> int:
        return self.by_outcome.get(Outcome.ANSWERED, 0)

    @property
    def answered_ratio(self) -> float | None:
        return self.answered / self.calls if self.calls else None


@dataclass(frozen=True, slots=True)
class HotlineFindings(Findings):
    """windows: the rolling windows, shortest first; last_calls: the outcomes of the last
    N calls in service hours, newest first; silent_for: service seconds since the last
    record (None: never a record); in_service: whether now is within service hours."""

    windows: tuple[CallWindow, ...]
    last_calls: tuple[Outcome, ...]
    silent_for: float | None
    in_service: bool

    @property
    def long(self) -> CallWindow:
        """The longest window, the one the ratio rules are judged over."""
        return max(self.windows, key=lambda w: w.seconds)

    def feed_silent(self, after: float) -> bool:
        """No record yet, or none for more than `after` seconds of service time."""
        return self.silent_for is None or self.silent_for > after

    def dead(self, last_n: int) -> bool:
        """None of the last `last_n` calls in service hours answered (and there were that
        many)."""
        return len(self.last_calls) >= last_n and Outcome.ANSWERED not in self.last_calls

    def answered_below(self, ratio: float, min_calls: int) -> bool:
        """The long window's answered share is below `ratio`, with at least `min_calls`
        calls to judge by."""
        w = self.long
        return w.calls >= min_calls and w.calls > 0 and w.answered / w.calls < ratio
