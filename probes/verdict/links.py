"""Verdict rule of the `links` check: `links_broken` from the last run's counts.

- zombie: at least `rule.zombie_min_broken` (5) broken links that are also at least
  `rule.zombie_ratio` (half) of the links checked: the page is mostly dead;
- degraded: at least `rule.internal_degraded` (1) broken internal link (the site's own
  pages, images, attachments are its owner's to fix), or at least
  `rule.external_degraded` (3) broken external links (one dead link to another site is
  common and mostly the other site's doing).

A run that checked no link says nothing (the judge makes it unknown).
"""

from __future__ import annotations

from probes.config.links import LinksSpec
from probes.model import CheckResult, Reason, State
from probes.verdict.common import JudgeContext


def reasons(spec: LinksSpec, result: CheckResult, jc: JudgeContext) -> list[Reason]:
    d = result.details
    checked, broken = _int(d.get("checked")), _int(d.get("broken"))
    internal, external = _int(d.get("internal_broken")), _int(d.get("external_broken"))
    if not checked or not broken:
        return []
    rule = spec.rule
    detail = f"{broken}/{checked} links broken ({internal} internal, {external} external)"
    examples = d.get("examples")
    if isinstance(examples, list) and examples and isinstance(examples[0], dict):
        first = examples[0]
        detail += f"; e.g. {first.get('url')}: {first.get('error')}"
    if broken >= rule.zombie_min_broken and broken / checked >= rule.zombie_ratio:
        return [Reason("links_broken", State.ZOMBIE, detail, "links")]
    if internal >= rule.internal_degraded or external >= rule.external_degraded:
        return [Reason("links_broken", State.DEGRADED, detail, "links")]
    return []


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0
