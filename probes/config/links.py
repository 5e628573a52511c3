"""Spec of the `links` check. (Owned by the links work; extend freely.)"""

from __future__ import annotations

from probes.config.base import CheckSpec


class LinksSpec(CheckSpec):
    pass
