"""What every verdict rule receives and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probes.config import ChannelConfig
from probes.model import CheckResult, Reason
from probes.state.store import Store


@dataclass(frozen=True, slots=True)
class JudgeContext:
    """The channel being judged, the state store (for window rules) and the time."""

    channel: ChannelConfig
    store: Store
    now: float


Rule = Callable[[Any, CheckResult, JudgeContext], list[Reason]]
