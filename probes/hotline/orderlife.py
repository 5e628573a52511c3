"""Each work order's lifecycle rebuilt from its events, and what it shows.

Rules (defaults in `WorkOrdersSpec`; the README argues them):

- buck-passing (踢皮球): a unit appears twice in the chain of units the order was assigned
  or transferred to, or the order was returned and reassigned more than `max_reassignments`
  times (returns, transfers, and assignments after the first);
- forward only (只转办不跟踪): a unit was given the order and within `follow_up_workdays`
  Chinese working days neither acted on it (an event by that unit) nor moved it on, and it
  was not closed meanwhile;
- overdue: open (never closed, or reopened since) past its category's time limit in
  working days from receipt;
- fake closure (假办结): after a closure the order was reopened, a callback found the caller
  unsatisfied, the reply before closing only acknowledged, or within `repeat_window` the
  same caller, or a near-identical text at the same address, came back as a new order;
- boilerplate: the order's reply is a near-duplicate of replies to other orders (found by
  the board detector in the check kind and passed in here).

Text similarity and the boilerplate sets come in from the caller (the check kind), which
owns the one boilerplate detector.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from probes.config.types import format_duration
from probes.config.workorders import WorkOrdersSpec
from probes.findings.workorders import FlaggedOrder, OrderReason, WorkOrderFindings
from probes.model import OrderEvent, Satisfaction, State, WorkOrderEvent
from probes.workdays import add_workdays

# Events that give an order to a unit (and so move it on from the unit holding it).
MOVES = frozenset({OrderEvent.ASSIGNED, OrderEvent.TRANSFERRED})
EXAMPLE_CHARS = 40


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """One order as its events tell it."""

    order_id: str
    events: tuple[WorkOrderEvent, ...]
    received: float
    caller: str
    text: str
    address: str
    category: str
    chain: tuple[str, ...]  # units given the order, in order
    reassignments: int
    closed_at: tuple[float, ...]
    is_open: bool
    reply: str  # the last reply text

    @property
    def transfers(self) -> int:
        """Times the order was passed on after its first assignment."""
        return max(0, len(self.chain) - 1)

    @classmethod
    def of(cls, order_id: str, events: Sequence[WorkOrderEvent]) -> Lifecycle:
        evs = tuple(sorted(events, key=lambda e: e.time))
        first = next((e for e in evs if e.event is OrderEvent.RECEIVED), evs[0])

        def first_value(attr: str) -> str:
            return next((str(getattr(e, attr)) for e in evs if getattr(e, attr)), "")

        chain = tuple(e.department for e in evs if e.event in MOVES)
        assigned = sum(e.event is OrderEvent.ASSIGNED for e in evs)
        moved = sum(e.event in (OrderEvent.TRANSFERRED, OrderEvent.RETURNED) for e in evs)
        state_events = [e for e in evs if e.event in (OrderEvent.CLOSED, OrderEvent.REOPENED)]
        replies = [e.text for e in evs if e.event is OrderEvent.REPLIED and e.text]
        return cls(
            order_id=order_id, events=evs, received=first.time,
            caller=first.caller or first_value("caller"),
            text=first.text or first_value("text"),
            address=first.address or first_value("address"),
            category=first.category or first_value("category"),
            chain=chain, reassignments=moved + max(0, assigned - 1),
            closed_at=tuple(e.time for e in evs if e.event is OrderEvent.CLOSED),
            is_open=not state_events or state_events[-1].event is not OrderEvent.CLOSED,
            reply=replies[-1] if replies else "",
        )  # fmt: skip


def lifecycles(events: Sequence[WorkOrderEvent]) -> list[Lifecycle]:
    by_order: dict[str, list[WorkOrderEvent]] = defaultdict(list)
    for e in events:
        by_order[e.order_id].append(e)
    return [Lifecycle.of(oid, evs) for oid, evs in by_order.items()]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "…"


@dataclass(frozen=True, slots=True)
class Judge:
    """The rules of one spec at one moment, applied order by order."""

    spec: WorkOrdersSpec
    now: float
    tz: dt.tzinfo

    def day(self, ts: float) -> str:
        return dt.datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d")

    def deadline(self, ts: float, workdays: int) -> float:
        return add_workdays(dt.datetime.fromtimestamp(ts, self.tz), workdays).timestamp()

    def buck_passing(self, o: Lifecycle) -> str | None:
        repeated = len(set(o.chain)) < len(o.chain)
        if not repeated and o.reassignments <= self.spec.max_reassignments:
            return None
        path = " → ".join(o.chain)
        return f"{o.order_id}: {path} ({o.reassignments} returns/reassignments)"

    def forward_only(self, o: Lifecycle) -> str | None:
        for i, given in enumerate(o.events):
            if given.event not in MOVES:
                continue
            due = self.deadline(given.time, self.spec.follow_up_workdays)
            unit = given.department
            answer = next(
                (
                    e for e in o.events[i + 1 :]
                    if e.department == unit or e.event in MOVES or e.event is OrderEvent.CLOSED
                ),
                None,
            )  # fmt: skip
            late = answer.time > due if answer is not None else self.now > due
            if late:
                return (
                    f"{o.order_id}: given to {unit} on {self.day(given.time)}, nothing from it "
                    f"within {self.spec.follow_up_workdays} working days"
                )
        return None

    def overdue(self, o: Lifecycle) -> str | None:
        limit = self.spec.time_limit(o.category)
        if not o.is_open or self.now <= self.deadline(o.received, limit):
            return None
        return f"{o.order_id}: open since {self.day(o.received)}, limit {limit} working days" + (
            f" ({o.category})" if o.category else ""
        )


def judged_orders(orders: Sequence[Lifecycle], spec: WorkOrdersSpec, now: float) -> list[Lifecycle]:
    """The orders a run judges: received in `spec.window`, or older and still open (within
    `spec.open_lookback`)."""
    return [
        o for o in orders
        if o.received >= now - spec.window or (o.is_open and o.received >= now - spec.open_lookback)
    ]  # fmt: skip


def judge_orders(
    orders: Sequence[Lifecycle],
    spec: WorkOrdersSpec,
    now: float,
    *,
    acknowledgement_only: Callable[[str], bool],
    similar: Callable[[str, str], bool],
    boilerplate: Mapping[str, Sequence[str]] | None = None,
) -> WorkOrderFindings:
    """Findings over the judged orders among `orders` (every order loaded: a repeat
    complaint may be an order that is not judged itself).

    acknowledgement_only: whether a reply text only acknowledges or forwards;
    similar: whether two complaint texts are near-identical; boilerplate: order id -> the
    other orders whose replies its reply duplicates.
    """
    judge = Judge(spec, now, zoneinfo.ZoneInfo(spec.timezone))
    judged = judged_orders(orders, spec, now)
    later = _RepeatIndex(orders)
    dup = boilerplate or {}
    flagged: list[FlaggedOrder] = []
    repeated = 0
    for o in judged:
        found: list[tuple[OrderReason, str]] = []
        for reason, rule in (
            (OrderReason.BUCK_PASSING, judge.buck_passing),
            (OrderReason.FORWARD_ONLY, judge.forward_only),
            (OrderReason.OVERDUE, judge.overdue),
        ):
            line = rule(o)
            if line is not None:
                found.append((reason, line))
        fake = _fake_closure(o, judge, later, acknowledgement_only, similar)
        if fake is not None:
            found.append((OrderReason.FAKE_CLOSURE, fake[0]))
            repeated += fake[1]
        if o.order_id in dup:
            others = ", ".join(dup[o.order_id][:2])
            found.append(
                (OrderReason.BOILERPLATE,
                 f"{o.order_id}: reply 「{_short(o.reply)}」 repeats the replies to {others}")
            )  # fmt: skip
        if found:
            flagged.append(
                FlaggedOrder(
                    o.order_id, o.received, tuple(r for r, _ in found), tuple(x for _, x in found)
                )
            )
    counts: dict[OrderReason, int] = defaultdict(int)
    examples: dict[OrderReason, str] = {}
    for f in sorted(flagged, key=lambda f: f.received):
        for reason, line in zip(f.reasons, f.evidence, strict=True):
            counts[reason] += 1
            examples.setdefault(reason, line)
    worst = sorted(flagged, key=lambda f: (-len(f.reasons), f.received, f.order_id))
    return WorkOrderFindings(
        judged=len(judged),
        replied=sum(bool(o.reply) for o in judged),
        open=sum(o.is_open for o in judged),
        reopened=sum(any(e.event is OrderEvent.REOPENED for e in o.events) for o in judged),
        repeated=repeated,
        flagged=tuple(sorted(counts.items())),
        examples=tuple(sorted(examples.items())),
        worst=tuple(worst[: spec.worst_shown]),
    )


class _RepeatIndex:
    """Orders by caller and by address, to find a complaint made again after a closure."""

    def __init__(self, orders: Collection[Lifecycle]) -> None:
        self.by_caller: dict[str, list[Lifecycle]] = defaultdict(list)
        self.by_address: dict[str, list[Lifecycle]] = defaultdict(list)
        for o in sorted(orders, key=lambda o: o.received):
            if o.caller:
                self.by_caller[o.caller].append(o)
            if o.address:
                self.by_address["".join(o.address.split())].append(o)

    def after(self, o: Lifecycle, since: float, until: float, similar: Callable[[str, str], bool]
              ) -> str | None:  # fmt: skip
        for other in self.by_caller.get(o.caller, []) if o.caller else []:
            if other.order_id != o.order_id and since < other.received <= until:
                return f"the same caller complained again in {other.order_id}"
        key = "".join(o.address.split())
        for other in self.by_address.get(key, []) if key else []:
            if (
                other.order_id != o.order_id
                and since < other.received <= until
                and similar(o.text, other.text)
            ):
                return f"a near-identical complaint at the same address came in {other.order_id}"
        return None


def _fake_closure(
    o: Lifecycle,
    judge: Judge,
    later: _RepeatIndex,
    acknowledgement_only: Callable[[str], bool],
    similar: Callable[[str, str], bool],
) -> tuple[str, bool] | None:
    """The evidence line of a fake closure, and whether it is a repeat complaint."""
    if not o.closed_at:
        return None
    first_close = o.closed_at[0]
    when = judge.day(first_close)
    after = [e for e in o.events if e.time >= first_close]
    if any(e.event is OrderEvent.REOPENED for e in after):
        return f"{o.order_id}: closed on {when}, then reopened", False
    if any(e.satisfaction is Satisfaction.UNSATISFIED for e in after):
        return f"{o.order_id}: closed on {when}, the caller said unsatisfied on the callback", False
    if o.reply and acknowledgement_only(o.reply):
        return (
            f"{o.order_id}: closed with a reply that answers nothing: 「{_short(o.reply)}」",
            False,
        )
    for closed in o.closed_at:
        again = later.after(o, closed, closed + judge.spec.repeat_window, similar)
        if again is not None:
            days = format_duration(judge.spec.repeat_window)
            return f"{o.order_id}: closed on {judge.day(closed)}, {again} within {days}", True
    return None


@dataclass(frozen=True, slots=True)
class ShareLevel:
    """A reason's share of the orders it is taken over, and the level it reaches."""

    reason: OrderReason
    count: int
    of: int
    state: State | None  # None: below the degraded share, or too few orders to judge


def share_levels(findings: WorkOrderFindings, spec: WorkOrdersSpec) -> list[ShareLevel]:
    """Per reason with flagged orders: its share and level (the one threshold rule the
    check's measurements and the verdict both use)."""
    th = spec.thresholds
    out: list[ShareLevel] = []
    for reason in OrderReason:
        count = findings.count(reason)
        if not count:
            continue
        of = findings.replied if reason is OrderReason.BOILERPLATE else findings.judged
        share = getattr(th, reason.short)
        state: State | None = None
        if findings.judged >= th.min_orders and of:
            ratio = count / of
            if ratio >= share.zombie:
                state = State.ZOMBIE
            elif ratio >= share.degraded:
                state = State.DEGRADED
        out.append(ShareLevel(reason, count, of, state))
    return out
