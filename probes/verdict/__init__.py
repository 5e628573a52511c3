"""Verdicts: a channel's state (ok, degraded, zombie, unknown) and every reason for it.

`judge` is the one place a state is decided; the CLI, `/metrics` and `/probe` all show
what it returns. Each check kind's thresholds live in a rule module beside this one
(`availability.py`, `freshness.py`, …) behind the literal `RULES` table. A rule reads the
check's latest result: its typed findings (`probes.findings`) as fields and, where the
official rule is over a window, the run window the runner stamped on it; it returns
reasons, and the channel takes the worst of them. A check that did not finish (it ran out
of time) reaches its rule with no findings, and the rule says what that means for its
kind (a failed probe, a failed run, or could not tell): never ok.

Precedence: zombie > degraded > unknown > ok. A check that could not tell (no result yet,
unparseable page, silent feed) makes the channel unknown unless another check has positive
evidence of a fault: missing evidence is never ok.
"""

from __future__ import annotations

from collections.abc import Mapping

from probes.config import ChannelConfig
from probes.findings import FINDINGS
from probes.model import CheckResult, Reason, State, Verdict
from probes.verdict import availability, board, freshness, hotline, links, service
from probes.verdict.common import JudgeContext, Rule

RULES: dict[str, Rule] = {
    "availability": availability.reasons,
    "freshness": freshness.reasons,
    "links": links.reasons,
    "service": service.reasons,
    "board": board.reasons,
    "hotline": hotline.reasons,
}


def judge(channel: ChannelConfig, latest: Mapping[str, CheckResult], jc: JudgeContext) -> Verdict:
    """The verdict on a channel from the latest result of each of its checks."""
    reasons: list[Reason] = []
    for name, spec in channel.enabled_checks():
        result = latest.get(name)
        if result is None:
            reasons.append(Reason("not_checked_yet", State.UNKNOWN, "no result yet", name))
            continue
        findings = result.findings if isinstance(result.findings, FINDINGS[name]) else None
        found = RULES[name](spec, result, findings, jc)
        if result.success is None and not any(r.state is State.UNKNOWN for r in found):
            found.append(
                Reason("evidence_missing", State.UNKNOWN, result.error or "could not tell", name)
            )
        reasons.extend(found)
    state = max((r.state for r in reasons), key=lambda s: s.rank, default=State.OK)
    shown = tuple(r for r in reasons if r.state is not State.OK)
    return Verdict(channel.name, channel.kind, state, shown, jc.now)


__all__ = ["RULES", "JudgeContext", "judge"]
