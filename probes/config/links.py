"""Spec of the `links` check: which links of a page are checked, how politely, and the
thresholds its verdict applies (`probes.verdict.links`)."""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, HttpUrl

from probes.config.base import HttpCheckSpec
from probes.config.types import Duration, Strict


class LinksRule(Strict):
    """When broken links make the site degraded or a zombie.

    degraded: any broken internal link (the site's own pages, images, attachments), or at
    least `external_degraded` broken external links (other sites move; one dead external
    link is the other site's problem). zombie: at least `zombie_min_broken` broken links
    that are also at least `zombie_ratio` of those checked: the page is mostly dead.
    """

    internal_degraded: int = Field(default=1, ge=1)
    external_degraded: int = Field(default=3, ge=1)
    zombie_min_broken: int = Field(default=5, ge=1)
    zombie_ratio: float = Field(default=0.5, gt=0, le=1)


class LinksSpec(HttpCheckSpec):
    url: HttpUrl | None = Field(
        default=None, description="page to check (default: the channel's url)"
    )
    max_links: int = Field(
        default=200, ge=1, description="per-run budget: links checked at most (internal first)"
    )
    concurrency: int = Field(
        default=8, ge=1, description="links checked at once (the per-host limit still applies)"
    )
    link_timeout: Duration = Field(
        default=10.0, description="deadline of one link's check (within the run's timeout)"
    )
    external: bool = Field(default=True, description="check links to other hosts too")
    ignore: list[str] = Field(
        default_factory=list, description="links containing any of these strings are skipped"
    )
    rule: LinksRule = Field(default_factory=LinksRule)

    @classmethod
    def for_url(cls, url: str, options: dict[str, Any]) -> Self:
        return cls.model_validate(
            {"url": url, **{k: v for k, v in options.items() if v is not None}}
        )
