"""Findings of the `workorders` check: what the lifecycles of the judged work orders
show, per reason, with the worst orders as evidence (each line naming the order ids)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from probes.model import Findings


class OrderReason(enum.StrEnum):
    """What an order's lifecycle shows, the reasons of the `workorders` verdict."""

    BUCK_PASSING = "workorder_buck_passing"  # 踢皮球: passed back and forth
    FORWARD_ONLY = "workorder_forward_only"  # 只转办不跟踪: given to a unit that did nothing
    OVERDUE = "workorder_overdue"  # open past its time limit (办理时限)
    FAKE_CLOSURE = "workorder_fake_closure"  # 假办结: closed though nothing was solved
    BOILERPLATE = "workorder_boilerplate"  # 复读机: the reply is a template across orders

    @property
    def short(self) -> str:
        """The `reason` label value of the work-order metrics (`buck_passing`)."""
        return self.value.removeprefix("workorder_")


@dataclass(frozen=True, slots=True)
class FlaggedOrder:
    """One order that shows at least one reason, with one evidence line per reason (each
    naming the order ids involved)."""

    order_id: str
    received: float
    reasons: tuple[OrderReason, ...]
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkOrderFindings(Findings):
    """What the `workorders` check found over its window, for the verdict rule.

    judged: orders received in the window plus older ones still open; replied: those of
    them with a reply text (the boilerplate share is of these); open / reopened: judged
    orders open now / reopened after a closure; repeated: closures followed by the same
    complaint again (a new order of the same caller, or at the same address); flagged: per
    reason, how many judged orders show it; examples: per reason, the evidence line of its
    first order; worst: the orders with the most reasons, oldest first.
    """

    judged: int
    replied: int
    open: int
    reopened: int
    repeated: int
    flagged: tuple[tuple[OrderReason, int], ...]
    examples: tuple[tuple[OrderReason, str], ...]
    worst: tuple[FlaggedOrder, ...]

    def count(self, reason: OrderReason) -> int:
        return dict(self.flagged).get(reason, 0)

    def example(self, reason: OrderReason) -> str:
        return dict(self.examples).get(reason, "")
