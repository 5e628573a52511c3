"""Findings of the `links` check: how many links were checked and which are broken."""

from __future__ import annotations

from dataclasses import dataclass

from probes.model import Findings


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A broken link: where it points, the element it came from (a, img, script, iframe,
    link or attachment), whether it is on the page's own site, the HTTP status (0 when
    none) and the error."""

    url: str
    element: str
    internal: bool
    status: int
    error: str


@dataclass(frozen=True, slots=True)
class LinksFindings(Findings):
    """found: links on the page to check (after `external` and `ignore`); checked: how
    many were checked within the budget and deadline; broken: how many of those are
    broken, split into internal and external; examples: the first broken ones."""

    found: int
    checked: int
    internal_broken: int
    external_broken: int
    examples: tuple[BrokenLink, ...] = ()

    @property
    def broken(self) -> int:
        return self.internal_broken + self.external_broken
