"""Plain data shared by every part of the monitor: check results, measurements, verdicts.

A check kind returns a `CheckResult`; the runner stores it, the verdict module turns the
latest results and their history into a `Verdict`, and the exporter renders both. Nothing
here does I/O. Everything is frozen: a result is a fact about one moment.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class Failure(enum.StrEnum):
    """Why a check failed, from the fixed set the `zombie_check_failure` metric allows."""

    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http_status"
    SOFT_ERROR = "soft_error"
    ASSERTION = "assertion"
    PARSE_ERROR = "parse_error"
    TOO_LARGE = "too_large"


class State(enum.StrEnum):
    """A channel's state, the values of the `zombie_channel_state` state set.

    Order of precedence when a channel's checks disagree: zombie > degraded > unknown > ok.
    Positive evidence of a fault outranks missing evidence, and missing evidence is never ok.
    """

    OK = "ok"
    DEGRADED = "degraded"
    ZOMBIE = "zombie"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def exit_code(self) -> int:
        """Monitoring-plugin exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
        return _EXIT[self]


_RANK = {State.OK: 0, State.UNKNOWN: 1, State.DEGRADED: 2, State.ZOMBIE: 3}
_EXIT = {State.OK: 0, State.DEGRADED: 1, State.ZOMBIE: 2, State.UNKNOWN: 3}


@dataclass(frozen=True, slots=True)
class Histogram:
    """A cumulative histogram snapshot: `buckets` are (upper bound, cumulative count) pairs
    ending with +Inf."""

    buckets: tuple[tuple[float, float], ...]
    sum: float
    count: float


@dataclass(frozen=True, slots=True)
class Measurement:
    """One named number a check measured.

    `name` is a metric family name from `probes.catalogue` without the `zombie_` prefix
    (for example `http_duration_seconds`); `labels` are the family's labels beyond
    `channel` and `kind`, which the exporter adds. Label values must be bounded: ids from
    config, never URLs or free text.
    """

    name: str
    value: float | Histogram
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one run of one check found.

    success: True when the target did what it should, False when it demonstrably did not,
        None when the check could not tell (missing or unparseable evidence): the latter
        can only ever lead to `unknown`, never to `ok`.
    failure: why it failed, from the fixed set (None on success).
    error: one line a human can act on ("connect: connection refused").
    evidence: short human-readable strings (the newest date found and where, the failing
        step, a sample unanswered message).
    measurements: numbers for the exporter and the verdict.
    details: kind-specific structured data the verdict rules read (JSON-serialisable).
    """

    check: str
    kind: str
    success: bool | None
    started: float
    duration: float
    failure: Failure | None = None
    error: str = ""
    evidence: tuple[str, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    details: Mapping[str, object] = field(default_factory=dict)

    def measurement(self, name: str, **labels: str) -> float | None:
        """The plain value of the named measurement with exactly these extra labels."""
        want = tuple(sorted(labels.items()))
        for m in self.measurements:
            if m.name == name and tuple(sorted(m.labels)) == want:
                return m.value if isinstance(m.value, float | int) else None
        return None


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason behind a verdict: a machine-readable code (`site_unreachable`), the
    level it pushes the channel to, and a one-line human explanation."""

    code: str
    state: State
    detail: str = ""
    check: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A channel's judged state and every active reason for it."""

    channel: str
    kind: str
    state: State
    reasons: tuple[Reason, ...] = ()
    judged_at: float = 0.0

    @property
    def summary(self) -> str:
        if not self.reasons:
            return self.state.value
        return "; ".join(f"{r.code}: {r.detail}" if r.detail else r.code for r in self.reasons)


# Records parsed once at the edge and stored by `probes.state`: a call to a hotline and a
# message on a board.


class Outcome(enum.StrEnum):
    """How a call ended, the `outcome` label of `zombie_hotline_calls_total`."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CONGESTION = "congestion"


class HangupBy(enum.StrEnum):
    CALLER = "caller"
    CALLEE = "callee"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call to a hotline.

    channel: the hotline's channel name in the config.
    call_id: unique per channel (Asterisk uniqueid, FreeSWITCH uuid, the robot's id);
        a record seen twice is stored once.
    start/answer/end: epoch seconds; `answer` is None for calls nobody answered.
    transfers: the departments the call (or its ticket) was passed through, in order.
    source: where it came from (`mqtt`, `file:<path>`, `import`), for the ingest counters.
    test: a test call (a robot's, or a record flagged `test`): only test calls can show a
        line dead ("none of the last N answered"); citizens' calls are judged by shares.
    """

    channel: str
    call_id: str
    start: float
    answer: float | None
    end: float
    outcome: Outcome
    hangup_by: HangupBy | None = None
    transfers: tuple[str, ...] = ()
    source: str = ""
    test: bool = False

    @property
    def wait(self) -> float | None:
        """Seconds from start to answer, answered calls only."""
        return None if self.answer is None else self.answer - self.start

    @property
    def talk(self) -> float | None:
        """Seconds from answer to end, answered calls only."""
        return None if self.answer is None else self.end - self.answer

    @property
    def transfer_loop(self) -> bool:
        """True when the chain visits a department twice (推诿: passed back and forth)."""
        return len(set(self.transfers)) < len(self.transfers)


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """One message as a list page (and possibly its own page) shows it.

    posted / replied: epoch seconds; answered: None when the page does not say.
    """

    id: str
    title: str
    url: str
    posted: float
    answered: bool | None
    replied: float | None = None
    reply_text: str | None = None


# A work-order event (工单): one step of a 12345 ticket's lifecycle, parsed once at the edge.


class OrderEvent(enum.StrEnum):
    """The lifecycle steps of a work order (受理 → 派发/转办 → 退回/改派 → 办理/答复 → 办结 →
    回访 → 重办)."""

    RECEIVED = "received"
    ASSIGNED = "assigned"
    TRANSFERRED = "transferred"
    RETURNED = "returned"
    REPLIED = "replied"
    CLOSED = "closed"
    CALLBACK = "callback"
    REOPENED = "reopened"


class Satisfaction(enum.StrEnum):
    """The caller's answer on a callback (回访)."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


@dataclass(frozen=True, slots=True)
class WorkOrderEvent:
    """One event of one work order.

    department: the unit acting (the receiving unit for assigned/transferred, the returning
        unit for returned). caller: an opaque key, never a phone number. time: epoch
        seconds. satisfaction: on callbacks only. Two events with the same `key` are the
        same event, stored once.
    """

    channel: str
    order_id: str
    event: OrderEvent
    time: float
    department: str = ""
    caller: str = ""
    text: str = ""
    address: str = ""
    category: str = ""
    satisfaction: Satisfaction | None = None
    source: str = ""

    @property
    def key(self) -> str:
        """Identity of the event within its channel: order, step, time and unit."""
        return f"{self.order_id}|{self.event.value}|{self.time:.3f}|{self.department}"


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
class WorkOrderFindings:
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
