"""Noticing a channel's state changes: each one is stored in the evidence history (with the
reasons, every check's evidence and the pages of the run that decided it) and logged on
one line.

A change is a new state or a new set of reason codes (a degraded site that also goes
stale is a change an inspector wants to see). A verdict still waiting for one of its
checks' first result (`not_checked_yet`) is not a state of the channel yet and is not
recorded. What a verdict is compared with is the last recorded change, read from the
state file at start, so a restart records nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from probes.config import ChannelConfig
from probes.config.evidence import EvidenceConfig
from probes.http.fetcher import Page
from probes.model import CheckResult, State, Verdict
from probes.state import evidence
from probes.state.errors import StateWriteError
from probes.state.evidence import PageSnapshot
from probes.state.store import Store

log = logging.getLogger("probes.runtime.changes")
# Pages worth keeping as evidence: what the monitor reads as text. Images, archives and
# other binaries prove nothing the evidence strings do not already say.
_TEXT_TYPES = ("text/", "application/xhtml", "application/xml", "application/json",
               "application/rss", "application/atom", "application/javascript")  # fmt: skip


@dataclass
class PageCapture:
    """The first pages of one check run, cut at the size limit, so what a run holds for
    a possible change is bounded whatever the check fetched."""

    config: EvidenceConfig
    pages: list[PageSnapshot] = field(default_factory=list)

    def __call__(self, page: Page) -> None:
        cfg = self.config
        if not cfg.snapshots or len(self.pages) >= cfg.snapshot_pages:
            return
        ctype = page.content_type
        if ctype and not ctype.startswith(_TEXT_TYPES):
            return
        body = page.content[: cfg.snapshot_max_bytes]
        self.pages.append(
            PageSnapshot(
                url=page.url,
                status=page.status,
                content_type=ctype,
                encoding=page.encoding,
                content=body,
                size=len(page.content),
                truncated=len(body) < len(page.content),
            )
        )


class ChangeTracker:
    """Records a channel's changes against the last recorded one."""

    def __init__(self, store: Store, config: EvidenceConfig) -> None:
        self.store = store
        self.config = config  # replaced on reload
        self._last = evidence.last_verdicts(store)
        # Since when each channel has held its state, kept here so the status page reads
        # no table (one read at start; a national state file takes a fraction of a second).
        self._since = evidence.since(store)

    def since(self, channel: str) -> tuple[State, float] | None:
        """The channel's recorded state and when it entered it (None: no record yet)."""
        return self._since.get(channel)

    def capture(self) -> PageCapture:
        return PageCapture(self.config)

    def observe(
        self,
        channel: ChannelConfig,
        verdict: Verdict,
        latest: Mapping[tuple[str, str], CheckResult],
        decided_by: str,
        pages: Sequence[PageSnapshot] = (),
    ) -> bool:
        """Record and log the verdict when it differs from the last recorded one; True
        when it did."""
        if any(r.code == "not_checked_yet" for r in verdict.reasons):
            return False
        codes = tuple(sorted({r.code for r in verdict.reasons}))
        previous = self._last.get(channel.name)
        if previous == (verdict.state, codes):
            return False
        results = [
            latest[(channel.name, name)]
            for name, _ in channel.enabled_checks()
            if (channel.name, name) in latest
        ]
        was: State | None = previous[0] if previous else None
        try:
            evidence.record_change(self.store, was, verdict, results, decided_by, pages)
        except StateWriteError as exc:
            # The state file is busy or full (the store counts and logs that): the check's
            # result stands; the change is compared again, and stored, after the channel's
            # next check.
            log.debug("channel %s: state change not stored yet: %s", channel.name, exc)
            return False
        self._last[channel.name] = (verdict.state, codes)
        if was is not verdict.state:
            self._since[channel.name] = (verdict.state, verdict.judged_at)
        log.info(
            "channel %s: %s -> %s (%s)",
            channel.name,
            was.value if was else "none",
            verdict.state.value,
            ", ".join(codes) or "no reasons",
        )
        return True
