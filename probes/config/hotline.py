"""Spec of the `hotline` check. (Owned by the hotline work; extend freely.)"""

from __future__ import annotations

from probes.config.base import CheckSpec


class HotlineSpec(CheckSpec):
    pass
