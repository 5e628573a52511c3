"""Realistic streams of 12345 work-order events with ground truth.

No public dump of real 12345 work orders with their transfers exists (the published
figures are monthly aggregates; the public boards in `realdata/board` show messages and
replies, not the orders behind them). These streams follow the standard lifecycle instead
(受理 → 派发 → 退回/改派 → 答复 → 办结 → 回访 → 重办) with the units, categories, addresses
and the wording of a city centre, and know what each order shows.

A stream holds one pattern: `clean` orders only, or clean orders mixed with a share of
orders showing one fault (`buck_passing`, `forward_only`, `overdue`, `fake_closure`,
`boilerplate`). Every clean order is received and assigned on a working day, answered
by the unit within two working days with a reply of its own, closed, and called back
satisfied; callers and addresses do not repeat within the repeat window. All events lie
before `end`, the moment the stream was taken.

`zombie-probes demo` stores one stream per work-order channel of the demo config
(`DEMO_STREAMS`) before the monitor starts, and `TRUTH` says what it must conclude.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from probes.clock import Clock
from probes.demo.orderwords import (
    CATEGORIES,
    CLOSINGS,
    ESTATES,
    EXPECTED,
    OPENINGS,
    REVISITS,
    ROADS,
    SINCE,
    TEMPLATE,
    UNDER_WAY,
)
from probes.demo.truth import Truth
from probes.findings.workorders import OrderReason
from probes.hotline.ordersink import OrderSink
from probes.hotline.sink import IngestCounters
from probes.hotline.workorders import event_from_json
from probes.model import State
from probes.state.store import Store
from probes.workdays import add_workdays, is_workday

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
CENTRE = "12345热线"
PATTERNS = ("clean", "buck_passing", "forward_only", "overdue", "fake_closure", "boilerplate")
SHARE = 0.35  # orders of a faulty stream that show its fault (above every zombie share)


@dataclass(frozen=True, slots=True)
class Stream:
    """Events (JSON-ready dicts, in time order) and what each order shows."""

    pattern: str
    events: list[dict[str, object]]
    truth: dict[str, OrderReason | None]

    @property
    def expected(self) -> OrderReason | None:
        """The one reason the stream's verdict must show (None for a clean stream)."""
        return None if self.pattern == "clean" else OrderReason("workorder_" + self.pattern)


class _Writer:
    """Builds one stream: picks times on working days and writes events."""

    def __init__(self, rng: random.Random, end: dt.datetime) -> None:
        self.rng = rng
        self.end = end
        self.events: list[dict[str, object]] = []
        self.texts: dict[str, str] = {}  # order id -> complaint
        self.serial = 0

    def workday_at(self, day: dt.date) -> dt.datetime:
        while not is_workday(day):
            day += dt.timedelta(days=1)
        minutes = self.rng.randrange(9 * 60, 16 * 60)
        return dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=TZ)

    def later(self, t: dt.datetime, workdays: int, hours: float = 0.0) -> dt.datetime:
        return add_workdays(t, workdays) + dt.timedelta(hours=hours, minutes=self.rng.randrange(50))

    def add(self, order_id: str, event: str, t: dt.datetime, **fields: str) -> None:
        if event == "received":
            self.texts[order_id] = fields.get("text", "")
        self.events.append({"order_id": order_id, "event": event, "time": t.isoformat(),
                            **{k: v for k, v in fields.items() if v}})  # fmt: skip

    def new_order(self, day: dt.date) -> tuple[str, dt.datetime, str, str, str, str, str]:
        """(order id, received, caller, category, unit, complaint, address)."""
        self.serial += 1
        t = self.workday_at(day)
        category = self.rng.choice(list(CATEGORIES))
        unit, complaints, _ = CATEGORIES[category]
        address = (f"{self.rng.choice(ROADS)}{self.rng.randrange(1, 400)}号"
                   f"{self.rng.choice(ESTATES)}{self.rng.randrange(1, 30)}栋")  # fmt: skip
        text = f"{address}{self.rng.choice(complaints)}，{self.rng.choice(SINCE)}。"
        order_id = f"GD{t:%Y%m%d}{self.serial:05d}"
        caller = f"u{self.rng.getrandbits(40):010x}"
        return order_id, t, caller, category, unit, text, address

    def complaint(self, order_id: str) -> str:
        return self.texts[order_id]

    def reply_text(self, order_id: str, category: str) -> str:
        """An answer of the unit's own: it quotes the complaint (so answers alike are
        answers to the same question) and says what was done."""
        _, _, actions = CATEGORIES[category]
        asked = self.complaint(order_id).rstrip("。")
        return (f"{self.rng.choice(OPENINGS)}“{asked}”的问题，{self.rng.choice(actions)}，"
                f"{self.rng.choice(CLOSINGS)}")  # fmt: skip


def generate(
    pattern: str, *, orders: int = 60, end: dt.datetime | dt.date, seed: int = 1
) -> Stream:
    """A stream of `orders` orders received over the four weeks before `end` (a date means
    its start), a `SHARE` of them showing `pattern` unless it is `clean`."""
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r} (one of {', '.join(PATTERNS)})")
    if not isinstance(end, dt.datetime):
        end = dt.datetime(end.year, end.month, end.day, tzinfo=TZ)
    rng = random.Random(seed)
    w = _Writer(rng, end)
    truth: dict[str, OrderReason | None] = {}
    faulty = set(rng.sample(range(orders), round(orders * SHARE))) if pattern != "clean" else set()
    first_day = end.date() - dt.timedelta(days=28)
    for n in range(orders):
        kind = pattern if n in faulty else "clean"
        # Received in the four weeks before the end, early enough that every event of the
        # order (a week of holidays included) lies before it.
        day = first_day + dt.timedelta(days=rng.randrange(0, 22 if kind == "clean" else 12))
        if kind == "overdue":
            day = _overdue_day(end, day)
        while True:
            mark = len(w.events)
            oid = _ORDER[kind](w, day)
            if max(str(e["time"]) for e in w.events[mark:]) <= end.isoformat():
                break
            del w.events[mark:]
            day -= dt.timedelta(days=7)
        truth[oid] = None if kind == "clean" else OrderReason("workorder_" + pattern)
    w.events.sort(key=lambda e: str(e["time"]))
    return Stream(pattern, w.events, truth)


def _overdue_day(end: dt.datetime, day: dt.date) -> dt.date:
    """A day early enough that an order received then is past the default 15-working-day
    limit (with a day to spare) at `end`."""
    while add_workdays(dt.datetime(day.year, day.month, day.day, 17, tzinfo=TZ), 16) > end:
        day -= dt.timedelta(days=1)
    return day


def _received(w: _Writer, day: dt.date) -> tuple[str, dt.datetime, str, str, str]:
    oid, t, caller, category, unit, text, address = w.new_order(day)
    w.add(oid, "received", t, department=CENTRE, caller=caller, text=text, address=address,
          category=category)  # fmt: skip
    return oid, t, category, unit, address


def _finish(w: _Writer, oid: str, t: dt.datetime, unit: str, reply: str, mood: str) -> None:
    """Reply, close and call back."""
    t = w.later(t, 1)
    w.add(oid, "replied", t, department=unit, text=reply)
    t += dt.timedelta(hours=2)
    w.add(oid, "closed", t, department=CENTRE)
    w.add(oid, "callback", w.later(t, 1), department=CENTRE, satisfaction=mood)


def _clean(w: _Writer, day: dt.date) -> str:
    oid, t, category, unit, _address = _received(w, day)
    t += dt.timedelta(minutes=w.rng.randrange(10, 90))
    w.add(oid, "assigned", t, department=unit)
    _finish(w, oid, t, unit, w.reply_text(oid, category),
            w.rng.choice(("satisfied", "satisfied", "basic")))  # fmt: skip
    return oid


def _buck_passing(w: _Writer, day: dt.date) -> str:
    oid, t, category, unit, _address = _received(w, day)
    street = f"{w.rng.choice(ROADS)}街道办事处"
    w.add(oid, "assigned", t := t + dt.timedelta(minutes=30), department=unit)
    w.add(oid, "returned", t := w.later(t, 1), department=unit, text="不属于本单位职责")
    w.add(oid, "assigned", t := t + dt.timedelta(hours=1), department=street)
    w.add(oid, "transferred", t := w.later(t, 1), department=unit)  # back where it started
    _finish(w, oid, t, unit, w.reply_text(oid, category), "satisfied")
    return oid


def _forward_only(w: _Writer, day: dt.date) -> str:
    oid, t, category, unit, _address = _received(w, day)
    w.add(oid, "assigned", t := t + dt.timedelta(minutes=30), department=unit)
    # Nobody at the unit touches it for a week; the centre gives it to the street office.
    street = f"{w.rng.choice(ROADS)}街道办事处"
    w.add(oid, "transferred", t := w.later(t, 5), department=street)
    _finish(w, oid, t, street, w.reply_text(oid, category), "satisfied")
    return oid


def _overdue(w: _Writer, day: dt.date) -> str:
    oid, t, _, unit, _address = _received(w, day)
    w.add(oid, "assigned", t := t + dt.timedelta(minutes=30), department=unit)
    # An interim answer, then nothing: still open weeks later. It quotes the complaint, as
    # units do, so two such answers alike are answers to the same question.
    interim = f"关于{w.complaint(oid)}{w.rng.choice(UNDER_WAY)}，{w.rng.choice(EXPECTED)}。"
    w.add(oid, "replied", w.later(t, 1), department=unit, text=interim)
    return oid


def _fake_closure(w: _Writer, day: dt.date) -> str:
    oid, t, category, unit, address = _received(w, day)
    w.add(oid, "assigned", t := t + dt.timedelta(minutes=30), department=unit)
    way = w.rng.randrange(3)
    reply = w.reply_text(oid, category)
    if way == 0:  # closed, the caller calls back unsatisfied
        _finish(w, oid, t, unit, reply, "unsatisfied")
    elif way == 1:  # closed, reopened, answered and closed again
        w.add(oid, "replied", t := w.later(t, 1), department=unit, text=reply)
        w.add(oid, "closed", t := t + dt.timedelta(hours=2), department=CENTRE)
        w.add(oid, "reopened", t := w.later(t, 1), department=CENTRE)
        w.add(
            oid,
            "replied",
            t := w.later(t, 1),
            department=unit,
            text=w.reply_text(oid, category),
        )
        w.add(oid, "closed", t + dt.timedelta(hours=2), department=CENTRE)
    else:  # closed "satisfied", and the same caller complains again a few days later
        _finish(w, oid, t, unit, reply, "satisfied")
        caller = next(e["caller"] for e in reversed(w.events) if e["order_id"] == oid
                      and "caller" in e)  # fmt: skip
        again = t.date() + dt.timedelta(days=5)
        oid2, t2, *_ = w.new_order(again)
        w.add(
            oid2,
            "received",
            t2,
            department=CENTRE,
            caller=str(caller),
            text=f"{address}的问题还是没有解决，再次反映。",
            address=address,
            category=category,
        )
        w.add(oid2, "assigned", t2 := t2 + dt.timedelta(minutes=30), department=unit)
        again_reply = f"针对您再次反映的{address}问题，{w.rng.choice(REVISITS)}。"
        _finish(w, oid2, t2, unit, again_reply, "satisfied")
    return oid


def _boilerplate(w: _Writer, day: dt.date) -> str:
    oid, t, _, unit, _ = _received(w, day)
    w.add(oid, "assigned", t := t + dt.timedelta(minutes=30), department=unit)
    _finish(w, oid, t, unit, TEMPLATE, "satisfied")
    return oid


_ORDER: dict[str, Callable[[_Writer, dt.date], str]] = {
    "clean": _clean,
    "buck_passing": _buck_passing,
    "forward_only": _forward_only,
    "overdue": _overdue,
    "fake_closure": _fake_closure,
    "boilerplate": _boilerplate,
}


# The demo's work-order channels (config/demo.yaml), the stream each is fed and the
# verdict it must get: 35% of orders is past every zombie share but the boilerplate one.
DEMO_STREAMS = {
    "orders-clean": "clean",
    "orders-buckpass": "buck_passing",
    "orders-forward": "forward_only",
    "orders-overdue": "overdue",
    "orders-fakeclose": "fake_closure",
    "orders-template": "boilerplate",
}
TRUTH: dict[str, Truth] = {
    "orders-clean": Truth(State.OK, note="every order answered and closed"),
    "orders-buckpass": Truth(State.ZOMBIE, frozenset({"workorder_buck_passing"}),
                             note="orders passed back to a unit that returned them"),
    "orders-forward": Truth(State.ZOMBIE, frozenset({"workorder_forward_only"}),
                            note="orders forwarded and left a week"),
    "orders-overdue": Truth(State.ZOMBIE, frozenset({"workorder_overdue"}),
                            note="orders open past 15 working days"),
    "orders-fakeclose": Truth(State.ZOMBIE, frozenset({"workorder_fake_closure"}),
                              note="closed, then reopened, unsatisfied or complained again"),
    "orders-template": Truth(State.DEGRADED, frozenset({"workorder_boilerplate"}),
                             note="one template reply for every question"),
}  # fmt: skip


def seed_demo_orders(store: Store, clock: Clock, orders: int = 60) -> int:
    """Store each demo work-order channel's stream, ending an hour before now, as
    `orders import` would; returns how many events were stored."""
    end = dt.datetime.fromtimestamp(clock.now(), TZ) - dt.timedelta(hours=1)
    sink = OrderSink(store, IngestCounters(), clock)
    stored = 0
    for seed, (channel, pattern) in enumerate(sorted(DEMO_STREAMS.items()), 1):
        stream = generate(pattern, orders=orders, end=end, seed=seed)
        items = [(event_from_json(e, source="demo", tz=TZ, channel=channel), "") for e in
                 stream.events]  # fmt: skip
        stored += sink.store_batch("demo", items)
    return stored
