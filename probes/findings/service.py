"""Findings of the `service` check: the outcome of each step of the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from probes.model import Failure, Findings


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What happened at one step: passed or not, why, and how long it took."""

    name: str
    ok: bool
    status: int
    duration: float
    failure: Failure | None = None
    error: str = ""

    @property
    def line(self) -> str:
        head = f"step {self.name}: "
        if self.ok:
            return head + f"ok, HTTP {self.status} in {self.duration:.2f}s"
        status = f"HTTP {self.status}, " if self.status else ""
        return head + f"FAILED ({status}{self.duration:.2f}s) {self.error}"


@dataclass(frozen=True, slots=True)
class ServiceFindings(Findings):
    """The steps run, in order, up to and including the first that failed."""

    steps: tuple[StepOutcome, ...]
