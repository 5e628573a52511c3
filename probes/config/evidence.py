"""`global.evidence`: how much of the evidence behind each state change is kept.

Every change of a channel's state (or of its set of reasons) is stored with the reasons and
each check's evidence; for checks that read pages, the pages of the run that decided it are
stored too, compressed, each cut at `snapshot_max_bytes` before compression and at most
`snapshot_pages` of them per change. Changes are kept for `retention`, their pages for
`snapshot_retention`, and when the pages together take more than `snapshot_max_total`
(compressed) the oldest go first.
"""

from __future__ import annotations

from pydantic import Field

from probes.config.types import ByteSize, Duration, Strict, default_duration, default_size


class EvidenceConfig(Strict):
    """Retention and size bounds of the evidence history."""

    snapshots: bool = Field(default=True, description="keep the pages that decided a change")
    snapshot_pages: int = Field(default=3, ge=0, le=20, description="pages kept per change")
    snapshot_max_bytes: ByteSize = Field(
        default=default_size("1MiB"), description="a page is cut at this size before compression"
    )
    snapshot_max_total: ByteSize = Field(
        default=default_size("512MiB"), description="all stored pages together, compressed"
    )
    retention: Duration = Field(
        default=default_duration("400d"), description="how long state changes are kept"
    )
    snapshot_retention: Duration = Field(
        default=default_duration("90d"), description="how long the pages of a change are kept"
    )
