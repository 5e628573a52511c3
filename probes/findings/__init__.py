"""The typed findings of each check kind: what a kind hands its verdict rule.

One small module per kind holds its frozen dataclasses (subclasses of
`probes.model.Findings`); they import nothing but `probes.model`, so the kinds that build
them, the rules that read them and the state layer that stores them all sit above.
`FINDINGS` is the literal table of which type each kind returns: the state layer decodes a
stored result by it, and `probes.verdict.judge` hands a rule only findings of its kind's
type.
"""

from __future__ import annotations

from probes.findings.availability import AvailabilityFindings
from probes.findings.board import BoardFindings
from probes.findings.freshness import ColumnFindings, FreshnessFindings
from probes.findings.hotline import CallWindow, HotlineFindings
from probes.findings.links import BrokenLink, LinksFindings
from probes.findings.service import ServiceFindings, StepOutcome
from probes.model import Findings

FINDINGS: dict[str, type[Findings]] = {
    "availability": AvailabilityFindings,
    "freshness": FreshnessFindings,
    "links": LinksFindings,
    "service": ServiceFindings,
    "board": BoardFindings,
    "hotline": HotlineFindings,
}

__all__ = [
    "FINDINGS",
    "AvailabilityFindings",
    "BoardFindings",
    "BrokenLink",
    "CallWindow",
    "ColumnFindings",
    "FreshnessFindings",
    "HotlineFindings",
    "LinksFindings",
    "ServiceFindings",
    "StepOutcome",
]
