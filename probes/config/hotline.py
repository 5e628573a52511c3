"""Spec of the `hotline` check: service hours, rolling windows and the GB/T 33358-2016
thresholds (answer within 15 s; at least 95% of calls connected over 24 h) its verdict
applies to the call records ingested for the channel.

Service hours are written `24x7`, `workdays 09:00-17:00` (Chinese working days, statutory
holidays and adjusted workdays included) or `daily 08:00-20:00`; several ranges are
separated by commas: `workdays 09:00-12:00,13:30-17:00`. They are parsed once here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, field_validator

from probes.config.base import CheckSpec
from probes.config.types import Duration, Strict, time_zone

_HOURS = re.compile(r"^(workdays|daily)\s+(.+)$")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class Hours:
    """Parsed service hours: which days (`always`, `workdays`, `daily`) and the minute
    ranges of the day [start, end) they cover; `always` means around the clock."""

    days: Literal["always", "workdays", "daily"]
    ranges: tuple[tuple[int, int], ...] = ()  # minutes since midnight, start < end

    def __str__(self) -> str:
        if self.days == "always":
            return "24x7"
        spans = ",".join(
            f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in self.ranges
        )
        return f"{self.days} {spans}"


def parse_hours(value: Any) -> Hours:
    """`24x7`, `workdays 09:00-17:00`, `daily 08:00-12:00,14:00-18:00`."""
    if isinstance(value, Hours):
        return value
    if not isinstance(value, str):
        # pydantic reports only ValueError as a validation error
        raise ValueError(f"invalid service hours {value!r}")
    text = value.strip()
    if text.lower() in {"24x7", "24/7", "always"}:
        return Hours("always")
    match = _HOURS.match(text)
    if not match:
        raise ValueError(
            f"invalid service hours {value!r}: use 24x7, 'workdays 09:00-17:00' or "
            "'daily 08:00-20:00' (several ranges separated by commas)"
        )
    ranges: list[tuple[int, int]] = []
    for part in match.group(2).replace(" ", "").split(","):
        rng = _RANGE.match(part)
        if not rng:
            raise ValueError(f"invalid time range {part!r} in service hours {value!r}")
        h1, m1, h2, m2 = (int(g) for g in rng.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= start < end <= 24 * 60 and m1 < 60 and m2 < 60):
            raise ValueError(f"time range {part!r} must run forwards within one day")
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            raise ValueError(f"time ranges overlap in service hours {value!r}")
    days: Literal["workdays", "daily"] = "workdays" if match.group(1) == "workdays" else "daily"
    return Hours(days, tuple(ranges))


ServiceHours = Annotated[
    Hours,
    BeforeValidator(parse_hours),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "description": "24x7, 'workdays 09:00-17:00' or 'daily 08:00-20:00'",
        }
    ),
]


class HotlineThresholds(Strict):
    """When a hotline is degraded or a zombie (DESIGN table, GB/T 33358-2016)."""

    zombie_answered_ratio: float = Field(
        default=0.5, ge=0, le=1, description="answered share below this over the long window"
    )
    degraded_answered_ratio: float = Field(
        default=0.95, ge=0, le=1, description="answered share below this over the long window"
    )
    degraded_answered_within_ratio: float = Field(
        default=0.8, ge=0, le=1,
        description="share of answered calls answered within `answer_within` below this",
    )  # fmt: skip
    degraded_quick_hangup_ratio: float = Field(
        default=0.2, ge=0, le=1, description="share of answered calls hung up within "
        "`quick_hangup` above this"
    )  # fmt: skip
    degraded_transfer_loops: int = Field(
        default=1, ge=1, description="calls in the long window whose transfers looped"
    )
    min_calls: int = Field(
        default=1, ge=1, description="fewer calls than this in the window: no ratio judged"
    )


class HotlineSpec(CheckSpec):
    """The `hotline` check: statistics over the call records stored for the channel."""

    service_hours: ServiceHours = Field(
        default=Hours("always"),
        description="when the hotline must answer: 24x7 or 'workdays 09:00-17:00'",
    )
    timezone: str = Field(default="Asia/Shanghai", description="zone of the service hours")
    windows: list[Duration] = Field(
        default_factory=lambda: [3600.0, 86400.0],
        min_length=1,
        description="rolling windows of service time; the longest is the one judged",
    )
    quick_hangup: Duration = Field(
        default=10.0, description="an answered call over within this is a quick hang-up"
    )
    answer_within: Duration = Field(default=15.0, description="GB/T 33358: answer within 15 s")
    last_n_test_calls: int = Field(
        default=5,
        ge=1,
        description="none of the last N test calls (a robot's, or records flagged `test`) in "
        "service hours answered: dead; citizens' calls never make a line dead",
    )
    test_sources: list[str] = Field(
        default_factory=list,
        description="sources whose every record is a test call: a test-call robot's own "
        "feed (`file:robot.csv` for a followed file, `mqtt` when only a robot publishes)",
    )
    feed_silent_after: Duration = Field(
        default=7200.0, description="no record for this much service time: the feed is silent"
    )
    thresholds: HotlineThresholds = Field(default_factory=HotlineThresholds)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return time_zone(value)

    @property
    def long_window(self) -> float:
        return max(self.windows)
