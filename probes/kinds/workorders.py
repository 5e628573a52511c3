"""The `workorders` check kind: the lifecycles of the work orders stored for the channel.

Work orders are not fetched: the sources (`probes.hotline.ordersink`, `orders import`)
store their events, and this check rebuilds each order from them at `ctx.clock.now()`,
runs the lifecycle rules (`probes.hotline.orderlife`) with the board's boilerplate
detector (`probes.boards.boilerplate`: one detector for board replies and order replies),
and returns typed findings (`probes.findings.workorders`) for the verdict rule. No order
at all gives success=None (the channel is unknown, never ok); otherwise success=True and
the verdict weighs the shares.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

from probes.boards.boilerplate import detect, jaccard, normalise, shingles
from probes.config.workorders import WorkOrdersSpec
from probes.findings.workorders import OrderReason, WorkOrderFindings
from probes.hotline.orderlife import Lifecycle, judge_orders, judged_orders, lifecycles
from probes.kinds.context import CheckContext
from probes.model import Measurement, Report
from probes.state import workorders as order_store

# Labels of the transfers-per-order gauge: 0, 1, 2, 3, then 4 or more.
TRANSFER_BUCKETS = ("0", "1", "2", "3", "4+")
# Replies without an exact twin are compared with this many others to name the orders
# they repeat (bounds the pairwise work).
PARTNER_SCAN = 300


def _boilerplate(
    orders: Sequence[Lifecycle], spec: WorkOrdersSpec
) -> tuple[dict[str, list[str]], frozenset[str]]:
    """Order id -> other orders with a near-identical reply; and the reply texts that
    only acknowledge or forward."""
    replied = [o for o in orders if o.reply]
    report = detect(
        [o.reply for o in replied],
        phrases=spec.boilerplate_phrases, forward_words=spec.forward_words,
        threshold=spec.near_duplicate_threshold, min_substance=spec.min_substance_chars,
        short_reply=spec.short_reply_chars, owners=[o.order_id for o in replied],
        topics=[o.text for o in replied],
    )  # fmt: skip
    dups = sorted(report.duplicates)
    # Most template replies are the same text once normalised: group those, and compare
    # (bounded) only the replies that have no exact twin.
    groups: dict[str, list[int]] = defaultdict(list)
    for i in dups:
        groups[normalise(replied[i].reply)].append(i)
    sample = {i: shingles(replied[i].reply) for i in dups[:PARTNER_SCAN]}
    partners: dict[str, list[str]] = {}
    for i in dups:
        group = groups[normalise(replied[i].reply)]
        twins = [replied[j].order_id for j in group[:3] if j != i]
        if not twins:
            mine = sample.get(i) or shingles(replied[i].reply)
            twins = [
                replied[j].order_id
                for j, theirs in sample.items()
                if j != i and jaccard(mine, theirs) >= spec.near_duplicate_threshold
            ]
        partners[replied[i].order_id] = twins[:2] or ["other orders"]
    acks = frozenset(replied[i].reply for i in report.acknowledgements)
    return partners, acks


def _measurements(
    findings: WorkOrderFindings, judged: Sequence[Lifecycle]
) -> tuple[Measurement, ...]:
    out = [
        Measurement("workorder_orders", float(findings.open), (("state", "open"),)),
        Measurement(
            "workorder_orders", float(findings.judged - findings.open), (("state", "closed"),)
        ),
        Measurement("workorder_reopened_orders", float(findings.reopened)),
        Measurement("workorder_repeated_orders", float(findings.repeated)),
    ]
    out += [
        Measurement("workorder_flagged_orders", float(findings.count(r)), (("reason", r.short),))
        for r in OrderReason
    ]
    by_transfers = dict.fromkeys(TRANSFER_BUCKETS, 0)
    for o in judged:
        by_transfers[TRANSFER_BUCKETS[min(o.transfers, len(TRANSFER_BUCKETS) - 1)]] += 1
    out += [
        Measurement("workorder_orders_by_transfers", float(n), (("transfers", label),))
        for label, n in by_transfers.items()
    ]
    times = sorted(o.closed_at[0] - o.received for o in judged if o.closed_at)
    if times:
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
        out.append(
            Measurement(
                "workorder_time_to_close_seconds", statistics.median(times), (("percentile", "50"),)
            )
        )
        out.append(Measurement("workorder_time_to_close_seconds", p90, (("percentile", "90"),)))
    return tuple(out)


def _evidence(findings: WorkOrderFindings) -> tuple[str, ...]:
    lines = [
        f"{findings.judged} orders judged ({findings.open} open), "
        + ", ".join(f"{r.short} {n}" for r, n in findings.flagged)
        if findings.flagged
        else f"{findings.judged} orders judged ({findings.open} open), none flagged"
    ]
    for order in findings.worst:
        lines.append("; ".join(order.evidence))
    return tuple(lines)


async def check(spec: WorkOrdersSpec, ctx: CheckContext) -> Report:
    now = ctx.clock.now()
    # The window's orders and the closures a repeat complaint in it may follow, and older
    # orders still open.
    events = order_store.events_of_orders(
        ctx.store, ctx.channel.name, now - spec.window - spec.repeat_window,
        now - spec.open_lookback,
    )  # fmt: skip
    orders = lifecycles(events)
    judged = judged_orders(orders, spec, now)
    if not judged:
        return Report(
            None, error="no work order received in the window", evidence=("no work orders",)
        )
    partners, acks = _boilerplate(orders, spec)

    def similar(a: str, b: str) -> bool:
        return jaccard(shingles(a), shingles(b)) >= spec.near_duplicate_threshold

    findings = judge_orders(
        orders, spec, now, acknowledgement_only=acks.__contains__, similar=similar,
        boilerplate=partners,
    )  # fmt: skip
    return Report(
        True, findings, evidence=_evidence(findings),
        measurements=_measurements(findings, judged),
    )  # fmt: skip
