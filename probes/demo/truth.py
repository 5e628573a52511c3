"""Ground truth of the simulated portal: the verdict the monitor must reach on each channel.

Every section module of `probes.demo` declares `TRUTH`, a mapping from a channel name in
`config/demo.yaml` to a `Truth`; `probes.demo.portal.ground_truth()` merges them. Tests run
the monitor against the portal and compare its verdicts with these, exactly: the state and
the full set of reason codes, so a spurious extra reason fails as surely as a missed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from probes.model import State, Verdict


@dataclass(frozen=True, slots=True)
class Truth:
    """What the monitor must conclude about one demo channel.

    state: the channel's expected state after its first round of checks.
    reasons: the reason codes (`site_unreachable`, `content_stale`, ...) the verdict must
        show, no more and no fewer; empty for a healthy channel.
    note: why, in a few words, for humans reading a failed comparison or the demo output.
    """

    state: State
    reasons: frozenset[str] = frozenset()
    note: str = field(default="", compare=False)

    def matches(self, verdict: Verdict) -> bool:
        """True when the verdict has exactly this state and these reason codes."""
        return verdict.state is self.state and self.reasons == codes(verdict)


def codes(verdict: Verdict) -> frozenset[str]:
    """The set of reason codes a verdict shows."""
    return frozenset(r.code for r in verdict.reasons)
