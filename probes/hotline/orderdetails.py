"""`WorkOrderFindings` to and from the JSON the state layer keeps for a check's latest
result (`CheckResult.details`), so the verdict rule reads typed fields after a restart as
it does from a fresh run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from probes.model import FlaggedOrder, OrderReason, WorkOrderFindings


def to_details(f: WorkOrderFindings) -> dict[str, object]:
    return {
        "judged": f.judged,
        "replied": f.replied,
        "open": f.open,
        "reopened": f.reopened,
        "repeated": f.repeated,
        "flagged": {r.value: n for r, n in f.flagged},
        "examples": {r.value: line for r, line in f.examples},
        "worst": [
            {"order_id": w.order_id, "received": w.received,
             "reasons": [r.value for r in w.reasons], "evidence": list(w.evidence)}
            for w in f.worst
        ],
    }  # fmt: skip


def from_details(d: Mapping[str, object]) -> WorkOrderFindings | None:
    """The findings in a result's details; None when they hold none (a result of a run
    that could not tell, or of an older version)."""
    if "judged" not in d:
        return None
    flagged = cast(Mapping[str, int], d.get("flagged", {}))
    examples = cast(Mapping[str, str], d.get("examples", {}))
    worst = cast(list[Mapping[str, Any]], d.get("worst", []))
    return WorkOrderFindings(
        judged=int(cast(int, d["judged"])),
        replied=int(cast(int, d.get("replied", 0))),
        open=int(cast(int, d.get("open", 0))),
        reopened=int(cast(int, d.get("reopened", 0))),
        repeated=int(cast(int, d.get("repeated", 0))),
        flagged=tuple((OrderReason(r), int(n)) for r, n in flagged.items()),
        examples=tuple((OrderReason(r), str(x)) for r, x in examples.items()),
        worst=tuple(
            FlaggedOrder(
                str(w["order_id"]),
                float(w["received"]),
                tuple(OrderReason(r) for r in w["reasons"]),
                tuple(w["evidence"]),
            )
            for w in worst
        ),
    )
