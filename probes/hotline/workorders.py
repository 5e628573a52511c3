"""Work-order events (12345 工单) from JSON Lines and from CSV exports of ticket systems,
validated once at the edge into `WorkOrderEvent`.

A JSON event: `{"order_id", "event", "time", "department", "caller", "text", "address",
"category", "satisfaction"}` (plus an optional `channel`). `event` is one of the lifecycle
steps (`OrderEvent`); `department` is the unit acting and is required where a unit must
act (assigned, transferred, returned); `satisfaction` is required on callbacks and
refused elsewhere; times are ISO 8601 (no offset: the source's zone) or epoch seconds.
`caller` is an opaque key: a value that looks like a phone number is refused rather than
stored, so the state file never holds one.

A CSV export is read by a column mapping (field -> column header) and, for the event
column, a value mapping from the system's own words (受理, 派发, 转办, 退回, 答复, 办结,
回访, 重办 by default).

A bad event raises `RecordError` with a reason from the fixed set, as call records do, so
it is counted and skipped by the source.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field

from probes.hotline.formats import decode_json, json_time
from probes.hotline.records import RecordError, RejectReason
from probes.model import OrderEvent, Satisfaction, WorkOrderEvent

MAX_TEXT = 4000  # characters kept of a complaint or reply text
MAX_FIELD = 200  # characters allowed in an id, a unit, a caller key, an address, a category
# Digits with optional separators and country code: a phone number, not an opaque key.
_PHONE = re.compile(r"^\+?[\d\s()-]{7,}$")
NEEDS_DEPARTMENT = frozenset({OrderEvent.ASSIGNED, OrderEvent.TRANSFERRED, OrderEvent.RETURNED})

# Words Chinese ticket systems use for the lifecycle steps (CSV `event` values).
DEFAULT_EVENT_WORDS: dict[str, str] = {
    "受理": "received", "登记": "received", "派发": "assigned", "派单": "assigned",
    "转办": "transferred", "改派": "transferred", "退回": "returned", "退单": "returned",
    "答复": "replied", "回复": "replied", "办理": "replied", "办结": "closed", "结案": "closed",
    "回访": "callback", "重办": "reopened", "重启": "reopened",
}  # fmt: skip
DEFAULT_SATISFACTION_WORDS: dict[str, str] = {
    "满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied",
}  # fmt: skip
FIELDS = ("order_id", "event", "time", "department", "caller", "text", "address", "category",
          "satisfaction")  # fmt: skip


def _text(value: object, name: str, limit: int = MAX_FIELD) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RecordError(RejectReason.MALFORMED, f"{name} must be a string")
    value = value.strip()
    if len(value) > limit:
        if limit == MAX_TEXT:
            return value[:limit]
        raise RecordError(RejectReason.MALFORMED, f"{name} longer than {limit} characters")
    return value


def make_event(
    *,
    channel: str,
    order_id: object,
    event: object,
    time: float,
    department: object = None,
    caller: object = None,
    text: object = None,
    address: object = None,
    category: object = None,
    satisfaction: object = None,
    source: str = "",
) -> WorkOrderEvent:
    """A validated event, or `RecordError` naming what is wrong with it."""
    if not channel:
        raise RecordError(RejectReason.MISSING_FIELD, "no channel")
    oid = _text(order_id, "order_id")
    if not oid:
        raise RecordError(RejectReason.MISSING_FIELD, "order_id missing")
    try:
        step = OrderEvent(str(event).strip().lower())
    except ValueError as exc:
        raise RecordError(RejectReason.BAD_EVENT, f"unknown event {str(event)[:30]!r}") from exc
    unit = _text(department, "department")
    if step in NEEDS_DEPARTMENT and not unit:
        raise RecordError(RejectReason.MISSING_FIELD, f"a {step.value} event needs a department")
    who = _text(caller, "caller")
    if who and _PHONE.match(who):
        raise RecordError(RejectReason.MALFORMED, "caller looks like a phone number")
    mood: Satisfaction | None = None
    raw = _text(satisfaction, "satisfaction")
    if step is OrderEvent.CALLBACK:
        try:
            mood = Satisfaction(raw.lower())
        except ValueError as exc:
            raise RecordError(
                RejectReason.MISSING_FIELD if not raw else RejectReason.MALFORMED,
                "a callback needs satisfaction: satisfied, basic or unsatisfied",
            ) from exc
    elif raw:
        raise RecordError(RejectReason.INCONSISTENT, "satisfaction on an event not a callback")
    return WorkOrderEvent(
        channel=channel, order_id=oid, event=step, time=time, department=unit, caller=who,
        text=_text(text, "text", MAX_TEXT), address=_text(address, "address"),
        category=_text(category, "category"), satisfaction=mood, source=source,
    )  # fmt: skip


def event_from_json(
    obj: object, *, source: str, tz: dt.tzinfo, channel: str | None = None
) -> WorkOrderEvent:
    """An event from one decoded JSON object; `channel` (the source's) wins over none."""
    if not isinstance(obj, dict):
        raise RecordError(RejectReason.MALFORMED, "an event must be a JSON object")
    own = obj.get("channel")
    if own is not None and not isinstance(own, str):
        raise RecordError(RejectReason.MALFORMED, "channel must be a string")
    if channel is not None and own is not None and own != channel:
        raise RecordError(RejectReason.UNKNOWN_CHANNEL, "event's channel differs from source's")
    return make_event(
        channel=channel or own or "",
        order_id=obj.get("order_id"),
        event=obj.get("event"),
        time=json_time(obj.get("time"), "time", tz),
        department=obj.get("department"),
        caller=obj.get("caller"),
        text=obj.get("text"),
        address=obj.get("address"),
        category=obj.get("category"),
        satisfaction=obj.get("satisfaction"),
        source=source,
    )


@dataclass(frozen=True, slots=True)
class OrderJsonParser:
    """Parses one JSON Lines line into an event."""

    tz: dt.tzinfo
    source: str
    channel: str | None = None

    def parse(self, line: str) -> WorkOrderEvent:
        # The call records' bounded decoder: size, nesting and NaN refused as for calls.
        obj = decode_json(line)
        return event_from_json(obj, source=self.source, tz=self.tz, channel=self.channel)


@dataclass(frozen=True, slots=True)
class OrderCsvMapping:
    """How a ticket system's CSV export maps onto event fields.

    columns: field -> column header (fields left out are looked for under their own name);
    events / satisfaction: the system's words -> ours (our own words are always accepted).
    """

    channel: str
    tz: dt.tzinfo
    source: str
    columns: Mapping[str, str] = field(default_factory=dict)
    events: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_EVENT_WORDS))
    satisfaction: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_SATISFACTION_WORDS)
    )

    def check_header(self, header: list[str]) -> None:
        """ValueError naming the mapped columns the file lacks."""
        need = [self.column(f) for f in ("order_id", "event", "time")]
        missing = [c for c in need if c not in header]
        if missing:
            raise ValueError(f"the CSV header lacks columns: {', '.join(missing)}")

    def column(self, name: str) -> str:
        return self.columns.get(name, name)

    def parse(self, row: Mapping[str, str | None]) -> WorkOrderEvent:
        def cell(name: str) -> str:
            return (row.get(self.column(name)) or "").strip()

        word = cell("event")
        mood = cell("satisfaction")
        return make_event(
            channel=self.channel, order_id=cell("order_id"),
            event=self.events.get(word, word),
            time=json_time(cell("time") or None, "time", self.tz),
            department=cell("department"), caller=cell("caller"), text=cell("text"),
            address=cell("address"), category=cell("category"),
            satisfaction=self.satisfaction.get(mood, mood) or None, source=self.source,
        )  # fmt: skip


def make_order_parser(
    fmt: str, *, source: str, timezone: str = "Asia/Shanghai", channel: str | None = None
) -> OrderJsonParser:
    """The line parser of a followed or imported work-order file (`jsonl`)."""
    if fmt != "jsonl":
        raise ValueError(f"unknown work-order line format {fmt!r} (jsonl; csv via import)")
    return OrderJsonParser(zoneinfo.ZoneInfo(timezone), source, channel)
