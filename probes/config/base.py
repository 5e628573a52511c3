"""What every check spec has: its schedule and deadline.

Each check kind's spec model lives in its own module beside this one (`availability.py`,
`freshness.py`, …) and subclasses `CheckSpec`. `interval` and `timeout` default to None
here and are filled from the `global:` block when the config is loaded, so a spec is
always complete once loaded.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field

from probes.config.tls import TlsSpec
from probes.config.types import Interval, Strict, Timeout


class CheckSpec(Strict):
    """Schedule and deadline common to every check."""

    interval: Interval | None = Field(
        default=None, description="how often the check runs (default: global.interval)"
    )
    timeout: Timeout | None = Field(
        default=None,
        description="overall deadline of one run, every request and retry included "
        "(default: global.timeout)",
    )
    enabled: bool = Field(default=True, description="false keeps the check configured but idle")

    @property
    def every(self) -> float:
        """The interval in seconds; only valid after the config loader filled defaults."""
        assert self.interval is not None, "interval is filled from global at load time"
        return self.interval

    @property
    def deadline(self) -> float:
        """The timeout in seconds; only valid after the config loader filled defaults."""
        assert self.timeout is not None, "timeout is filled from global at load time"
        return self.timeout

    @classmethod
    def for_url(cls, url: str, options: dict[str, Any]) -> Self:
        """The spec of a one-off `zombie-probes check URL --as KIND` run.

        `options` holds the CLI's kind options (for example `max_age`) by spec field name,
        values still as typed; kinds that cannot run from a bare URL leave this raising.
        """
        raise ValueError("this check kind cannot run from a bare URL; use check -c FILE")


class HttpCheckSpec(CheckSpec):
    """A check that fetches over HTTP: it may carry its own TLS settings."""

    tls: TlsSpec | None = Field(
        default=None, description="this check's CA file, insecure or server name"
    )
