"""Spec of the `workorders` check (12345 work orders) and the work-order sources.

The check judges each order's lifecycle (受理 → 派发/转办 → 退回/改派 → 办理/答复 → 办结 →
回访 → 重办) from its stored events; the verdict takes, per reason, the share of the orders
judged (received in `window`, plus older orders still open) that show it, against a
degraded and a zombie share. The defaults and their grounds are in the README
("Work orders").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from probes.config.base import CheckSpec
from probes.config.board import DEFAULT_BOILERPLATE_PHRASES, DEFAULT_FORWARD_WORDS
from probes.config.calls import FollowedFile
from probes.config.types import Duration, Strict, default_duration, time_zone

DAY = 86400.0


class Share(Strict):
    """Shares of judged orders at which a reason makes the channel degraded or a zombie."""

    degraded: float = Field(ge=0, le=1)
    zombie: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Share:
        if self.zombie < self.degraded:
            raise ValueError("the zombie share must not be below the degraded share")
        return self


class WorkOrderThresholds(Strict):
    buck_passing: Share = Field(default_factory=lambda: Share(degraded=0.05, zombie=0.2))
    forward_only: Share = Field(default_factory=lambda: Share(degraded=0.1, zombie=0.3))
    overdue: Share = Field(default_factory=lambda: Share(degraded=0.05, zombie=0.2))
    fake_closure: Share = Field(default_factory=lambda: Share(degraded=0.05, zombie=0.15))
    boilerplate: Share = Field(default_factory=lambda: Share(degraded=0.3, zombie=0.6))
    min_orders: int = Field(
        default=10, ge=1, description="fewer judged orders than this: no share is judged"
    )


class WorkOrdersSpec(CheckSpec):
    """The `workorders` check: lifecycles of the work orders stored for the channel."""

    timeout: Duration | None = Field(
        default=default_duration("2m"),
        description="overall deadline of one run: no request is made, but comparing the "
        "replies of a busy centre's month takes seconds (README, Work orders)",
    )

    window: Duration = Field(
        default=default_duration("30d"), gt=0, description="orders received in it are judged"
    )
    open_lookback: Duration = Field(
        default=default_duration("180d"),
        gt=0,
        description="orders received this long ago and still open are judged too (overdue)",
    )
    timezone: str = Field(default="Asia/Shanghai", description="zone of working days")
    max_reassignments: int = Field(
        default=3, ge=0, description="more returns and reassignments than this: buck-passing"
    )
    follow_up_workdays: int = Field(
        default=3, ge=1, le=60,
        description="a unit given an order that does nothing within this many working days "
        "only forwarded it",
    )  # fmt: skip
    time_limit_workdays: int = Field(
        default=15, ge=1, le=365, description="办理时限: working days from receipt to closure"
    )
    category_limits: dict[str, int] = Field(
        default_factory=dict, description="category -> its own time limit in working days"
    )
    repeat_window: Duration = Field(
        default=default_duration("30d"),
        description="a complaint again within this after closure: the closure was fake",
    )
    near_duplicate_threshold: float = Field(
        default=0.8, gt=0, le=1,
        description="character-shingle similarity of near-identical texts and template replies",
    )  # fmt: skip
    boilerplate_phrases: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BOILERPLATE_PHRASES)
    )
    forward_words: list[str] = Field(default_factory=lambda: list(DEFAULT_FORWARD_WORDS))
    min_substance_chars: int = Field(
        default=10, ge=0,
        description="a reply with fewer characters once boilerplate phrases are removed only "
        "acknowledges",
    )  # fmt: skip
    short_reply_chars: int = Field(default=50, ge=0)
    worst_shown: int = Field(default=5, ge=0, le=100, description="worst orders in the evidence")
    thresholds: WorkOrderThresholds = Field(default_factory=WorkOrderThresholds)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("category_limits")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        for category, days in value.items():
            if days < 1:
                raise ValueError(f"category {category!r}: the time limit must be positive")
        return value

    def time_limit(self, category: str) -> int:
        return self.category_limits.get(category, self.time_limit_workdays)


class OrderFileSource(FollowedFile):
    """A JSON Lines work-order file followed like `tail -F`, its offset kept in the state."""

    format: Literal["jsonl"] = "jsonl"
    channel: str | None = Field(default=None, description="every event belongs to this channel")


class OrderSourcesConfig(Strict):
    files: list[OrderFileSource] = Field(default_factory=list)
    retention: Duration = Field(
        default=default_duration("400d"),
        gt=0,
        description="orders whose last event is older than this are deleted (hourly)",
    )
