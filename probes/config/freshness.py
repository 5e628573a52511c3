"""Spec of the `freshness` check. (Owned by the freshness work; extend freely.)"""

from __future__ import annotations

from probes.config.base import CheckSpec


class FreshnessSpec(CheckSpec):
    pass
