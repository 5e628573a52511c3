"""Verdict rule of the `links` check: `links_broken` from the last run's counts.

- zombie: at least `rule.zombie_min_broken` (5) broken links that are also at least
  `rule.zombie_ratio` (half) of the links checked: the page is mostly dead;
- degraded: at least `rule.internal_degraded` (1) broken internal link (the site's own
  pages, images, attachments are its owner's to fix), or at least
  `rule.external_degraded` (3) broken external links (one dead link to another site is
  common and mostly the other site's doing).

A run that checked no link says nothing (the judge makes it unknown); a run that ran out
of time is unknown.
"""

from __future__ import annotations

from probes.config.links import LinksSpec
from probes.findings.links import LinksFindings
from probes.model import CheckResult, Reason, State
from probes.verdict.common import JudgeContext, blocked, not_finished


def reasons(
    spec: LinksSpec, result: CheckResult, findings: LinksFindings | None, jc: JudgeContext
) -> list[Reason]:
    if findings is None:
        return blocked(result, "links") if result.success is None else [not_finished(result)]
    checked, broken = findings.checked, findings.broken
    internal, external = findings.internal_broken, findings.external_broken
    if not checked or not broken:
        return []
    rule = spec.rule
    detail = f"{broken}/{checked} links broken ({internal} internal, {external} external)"
    if findings.examples:
        first = findings.examples[0]
        detail += f"; e.g. {first.url}: {first.error}"
    if broken >= rule.zombie_min_broken and broken / checked >= rule.zombie_ratio:
        return [Reason("links_broken", State.ZOMBIE, detail, "links")]
    if internal >= rule.internal_degraded or external >= rule.external_degraded:
        return [Reason("links_broken", State.DEGRADED, detail, "links")]
    return []
