"""Findings of the `availability` check: the one response the probe got."""

from __future__ import annotations

from dataclasses import dataclass

from probes.model import Findings


@dataclass(frozen=True, slots=True)
class AvailabilityFindings(Findings):
    """url: the URL probed; status: the HTTP status (0 when no response arrived);
    duration: seconds the request took; tls_not_after: the certificate's notAfter
    (epoch seconds), None over http or when no connection was made."""

    url: str
    status: int
    duration: float
    tls_not_after: float | None = None
