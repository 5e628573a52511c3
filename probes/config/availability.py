"""Spec of the `availability` check: is the page up, fast, with the right status, not a
soft error page, with a certificate that is not about to expire; and the official
"site unreachable" thresholds (政府网站检查指标) its verdict applies over a window."""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, HttpUrl

from probes.config.base import HttpCheckSpec
from probes.config.types import Duration, Strict, default_duration
from probes.pages.softerror import DEFAULT_SOFT_ERRORS


class UnreachableRule(Strict):
    """The 政府网站检查指标 rule: probe at least `min_probes_per_day` times a day for a
    `window`; a probe fails when the page does not open within the check's timeout."""

    window: Duration = Field(
        default=default_duration("7d"), description="window the failure share is taken over"
    )
    zombie_failure_ratio: float = Field(default=0.05, ge=0, le=1)
    degraded_failure_ratio: float = Field(default=0.03, ge=0, le=1)
    degraded_consecutive_failures: int = Field(default=2, ge=1)
    min_probes_per_day: int = Field(
        default=20, ge=1, description="fewer probes a day than this is flagged in the evidence"
    )


class AvailabilitySpec(HttpCheckSpec):
    url: HttpUrl | None = Field(default=None, description="default: the channel's url")
    method: str = Field(default="GET", pattern="^(GET|HEAD)$")
    valid_status_codes: list[int] = Field(
        default_factory=lambda: [200, 201, 202, 203, 204, 206],
        description="status codes counted as up (after redirects)",
    )
    max_duration: Duration | None = Field(
        default=None, description="slower than this is degraded (default: no limit)"
    )
    soft_error_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SOFT_ERRORS),
        description="text that makes an HTTP 200 page a failure (maintenance, 404 pages)",
    )
    cert_expiry_warning: Duration = Field(
        default=default_duration("14d"),
        description="a certificate expiring sooner than this is degraded",
    )
    unreachable: UnreachableRule = Field(default_factory=UnreachableRule)

    @classmethod
    def for_url(cls, url: str, options: dict[str, Any]) -> Self:
        return cls.model_validate({"url": url, **options})
