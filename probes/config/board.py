"""Spec of the `board` check. (Owned by the board work; extend freely.)"""

from __future__ import annotations

from probes.config.base import CheckSpec


class BoardSpec(CheckSpec):
    pass
