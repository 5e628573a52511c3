"""The `workorders` check and its rule on hand-written order lifecycles: each reason's
trigger and its near miss, Chinese working days, per-category limits, evidence naming the
orders, shares against thresholds, and findings that survive a restart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from probes.clock import FrozenClock
from probes.config import ChannelConfig, parse_config
from probes.demo.orders import generate
from probes.demo.truth import codes
from probes.hotline.ordersink import OrderSink
from probes.hotline.sink import IngestCounters
from probes.hotline.workorders import event_from_json
from probes.http.client import open_fetcher
from probes.kinds.pagework import open_page_workers
from probes.model import CheckResult, State, Verdict
from probes.runtime.runner import Runtime, judge_latest, run_channel
from probes.state import history
from probes.state.store import Store
from tests.measurements import measured

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=TZ)  # a Wednesday, a working day


def at(month: int, day: int, hour: int = 10) -> str:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ).isoformat()


def channel(**spec: Any) -> ChannelConfig:
    checks = {"workorders": {"interval": 3600, "timeout": 10, **spec}}
    return ChannelConfig.model_validate(
        {"name": "h12345", "kind": "hotline", "owner": "市政务服务中心", "checks": checks}
    )


# Judge single orders: one flagged order is then a share of 100%.
ONE = {"thresholds": {"min_orders": 1}}


def ev(order: str, event: str, when: str, **fields: str) -> dict[str, object]:
    return {"order_id": order, "event": event, "time": when, **fields}


def store_events(store: Store, events: list[dict[str, object]], now: dt.datetime = NOW) -> None:
    sink = OrderSink(store, IngestCounters(), FrozenClock(now.timestamp()))
    items = [(event_from_json(e, source="test", tz=TZ, channel="h12345"), "") for e in events]
    sink.store_batch("test", items)


async def run(
    store: Store, ch: ChannelConfig, now: dt.datetime = NOW
) -> tuple[CheckResult, Verdict]:
    clock = FrozenClock(now.timestamp())
    settings = parse_config("").global_
    async with open_fetcher(settings, clock=clock) as fetcher, open_page_workers() as pages:
        # the kind makes no request and reads no page
        verdict, (result,) = await run_channel(Runtime(fetcher, store, clock, settings, pages), ch)
    return result, verdict


REPLY = "经现场核查，{}已于11月5日完成维修，施工单位已恢复路面并清理现场，欢迎继续监督。"


def solved(
    order: str, day: int, unit: str = "区城管局", **received: str
) -> list[dict[str, object]]:
    """An order received, assigned, answered, closed and called back satisfied."""
    fields = {"caller": f"u-{order}", "text": f"{order}路灯不亮", "address": f"{order}号楼",
              **received}  # fmt: skip
    return [
        ev(order, "received", at(11, day, 9), department="12345热线", **fields),
        ev(order, "assigned", at(11, day, 10), department=unit),
        ev(order, "replied", at(11, day, 15), department=unit, text=REPLY.format(fields["text"])),
        ev(order, "closed", at(11, day, 16), department="12345热线"),
        ev(order, "callback", at(11, day, 17), department="12345热线", satisfaction="satisfied"),
    ]


CASES: list[tuple[str, list[dict[str, object]], dict[str, Any], set[str]]] = [
    ("a solved order", solved("A1", 10), {}, set()),
    ("passed back to the unit that returned it",
     [ev("B1", "received", at(11, 9)), ev("B1", "assigned", at(11, 9, 11), department="区城管局"),
      ev("B1", "returned", at(11, 10), department="区城管局"),
      ev("B1", "assigned", at(11, 10, 11), department="街道办"),
      ev("B1", "transferred", at(11, 11), department="区城管局"),
      ev("B1", "replied", at(11, 12), department="区城管局", text=REPLY.format("B1")),
      ev("B1", "closed", at(11, 12, 11))],
     {}, {"workorder_buck_passing"}),
    ("passed on four times through four units",
     [ev("B2", "received", at(11, 9)),
      *(ev("B2", "assigned" if i == 0 else "transferred", at(11, 9 + i, 11), department=f"单位{i}")
        for i in range(4)),
      ev("B2", "returned", at(11, 13), department="单位3"),
      ev("B2", "closed", at(11, 13, 11))],
     {}, {"workorder_buck_passing"}),
    ("passed on four times, five allowed",
     [ev("B2", "received", at(11, 9)),
      *(ev("B2", "assigned" if i == 0 else "transferred", at(11, 9 + i, 11), department=f"单位{i}")
        for i in range(4)),
      ev("B2", "returned", at(11, 13), department="单位3"),
      ev("B2", "closed", at(11, 13, 11))],
     {"max_reassignments": 5}, set()),
    ("assigned and nothing from the unit for a week",
     [ev("F1", "received", at(11, 2)), ev("F1", "assigned", at(11, 2, 11), department="区住建局"),
      ev("F1", "transferred", at(11, 10), department="街道办"),
      ev("F1", "replied", at(11, 11), department="街道办", text=REPLY.format("F1")),
      ev("F1", "closed", at(11, 11, 11))],
     {}, {"workorder_forward_only"}),
    ("still untouched past the follow-up limit",
     [ev("F2", "received", at(11, 12)),
      ev("F2", "assigned", at(11, 12, 11), department="区住建局")],
     {}, {"workorder_forward_only"}),
    ("untouched, the follow-up limit not reached yet",
     [ev("F3", "received", at(11, 16)),
      ev("F3", "assigned", at(11, 16, 11), department="区住建局")],
     {}, set()),
    ("open past its category's own limit",
     [ev("O1", "received", at(11, 4), category="劳动保障"),
      ev("O1", "assigned", at(11, 4, 11), department="区人社局"),
      ev("O1", "replied", at(11, 5), department="区人社局", text=REPLY.format("O1"))],
     {"category_limits": {"劳动保障": 5}}, {"workorder_overdue"}),
    ("open, within the default 15 working days",
     [ev("O1", "received", at(11, 4), category="劳动保障"),
      ev("O1", "assigned", at(11, 4, 11), department="区人社局"),
      ev("O1", "replied", at(11, 5), department="区人社局", text=REPLY.format("O1"))],
     {}, set()),
    ("closed, then reopened",
     [*solved("R1", 3), ev("R1", "reopened", at(11, 6)),
      ev("R1", "replied", at(11, 9), department="区城管局", text=REPLY.format("R1 again")),
      ev("R1", "closed", at(11, 9, 11))],
     {}, {"workorder_fake_closure"}),
    ("closed, the callback unsatisfied",
     [*solved("U1", 3)[:-1],
      ev("U1", "callback", at(11, 4), department="12345热线", satisfaction="unsatisfied")],
     {}, {"workorder_fake_closure"}),
    ("closed with a reply that only acknowledges",
     [ev("K1", "received", at(11, 3)), ev("K1", "assigned", at(11, 3, 11), department="区城管局"),
      ev("K1", "replied", at(11, 4), department="区城管局",
         text="您的留言已收悉，已转相关部门办理。"),
      ev("K1", "closed", at(11, 4, 11))],
     {}, {"workorder_fake_closure"}),
    ("closed, and the same caller complains again within 30 days",
     [*solved("C1", 3, caller="u-same"), *solved("C2", 12, caller="u-same")],
     {}, {"workorder_fake_closure"}),
    ("the same caller again after 40 days",
     [*solved("C1", 3, caller="u-same"), *solved("C2", 12, caller="u-same")],
     {"repeat_window": "5d"}, set()),
    ("a near-identical complaint at the same address",
     [*solved("N1", 3, text="幸福路8号楼下路灯已经坏了一个月，晚上很黑", address="幸福路8号"),
      *solved("N2", 12, text="幸福路8号楼下路灯已经坏了一个月，晚上很黑！", address="幸福路 8号")],
     {}, {"workorder_fake_closure"}),
    ("another complaint at the same address",
     [*solved("N1", 3, text="幸福路8号楼下路灯已经坏了一个月，晚上很黑", address="幸福路8号"),
      *solved("N2", 12, text="幸福路8号小区物业乱收停车费，业主意见很大", address="幸福路8号")],
     {}, set()),
]  # fmt: skip


@pytest.mark.parametrize(("events", "spec", "want"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
async def test_order_lifecycles_give_their_reasons(
    events: list[dict[str, object]], spec: dict[str, Any], want: set[str]
) -> None:
    store = Store.open(":memory:")
    store_events(store, events)
    result, verdict = await run(store, channel(**ONE, **spec))
    assert result.success is True
    assert codes(verdict) == want, verdict.summary


@pytest.mark.parametrize(
    ("reply", "flagged"),
    [("2026-10-09", False),  # 3 working days after 09-30 end on Saturday 10-10 (调休)
     ("2026-10-12", True)],
)  # fmt: skip
async def test_follow_up_counts_chinese_working_days(reply: str, flagged: bool) -> None:
    store = Store.open(":memory:")
    store_events(store, [
        ev("H1", "received", "2026-09-30T09:00:00+08:00"),
        ev("H1", "assigned", "2026-09-30T10:00:00+08:00", department="区住建局"),
        ev("H1", "replied", f"{reply}T09:00:00+08:00", department="区住建局",
           text=REPLY.format("H1")),
        ev("H1", "closed", f"{reply}T11:00:00+08:00"),
    ])  # fmt: skip
    now = dt.datetime(2026, 10, 20, 10, tzinfo=TZ)
    _, verdict = await run(store, channel(**ONE), now)
    assert ("workorder_forward_only" in codes(verdict)) is flagged


async def test_fake_closure_evidence_names_both_orders() -> None:
    store = Store.open(":memory:")
    store_events(store, [*solved("C1", 3, caller="u-same"), *solved("C2", 12, caller="u-same")])
    result, verdict = await run(store, channel(**ONE))
    [reason] = verdict.reasons
    assert "C1" in reason.detail and "C2" in reason.detail
    assert any("C1" in line and "C2" in line for line in result.evidence)


async def test_boilerplate_replies_across_orders_are_flagged_with_the_board_detector() -> None:
    template = (
        "经核查，您反映的问题已转交属地街道进行处理，我单位将持续关注办理进展，"
        "感谢您对我们工作的理解与支持，如有疑问可在工作时间致电咨询。"
    )
    topics = ["路灯不亮", "噪音扰民", "垃圾清运", "拖欠工资", "停水", "电梯故障"]
    events = []
    for i, topic in enumerate(topics):
        oid = f"T{i}"
        events += [
            ev(oid, "received", at(11, 10), text=f"{oid}{topic}", caller=oid),
            ev(oid, "assigned", at(11, 10, 11), department="区城管局"),
            ev(oid, "replied", at(11, 10, 15), department="区城管局", text=template),
            ev(oid, "closed", at(11, 10, 16)),
        ]
    store = Store.open(":memory:")
    store_events(store, events)
    result, verdict = await run(store, channel(**ONE))
    assert codes(verdict) == {"workorder_boilerplate"}
    assert measured(result, "workorder_flagged_orders", reason="boilerplate") == len(topics)


@pytest.mark.parametrize(
    ("orders", "faulty", "state"),
    [(40, 1, State.OK),  # 2.5%, under the 5% degraded share
     (40, 3, State.DEGRADED),  # 7.5%
     (40, 10, State.ZOMBIE),  # 25%, over the 20% zombie share
     (8, 8, State.OK)],  # too few orders to judge a share (min_orders 10)
)  # fmt: skip
async def test_buck_passing_share_against_the_thresholds(
    orders: int, faulty: int, state: State
) -> None:
    events: list[dict[str, object]] = []
    for i in range(orders):
        oid = f"S{i:02d}"
        events += solved(oid, 2 + i % 14, text=f"第{i}号{oid}诉求内容各不相同{'甲乙丙丁'[i % 4]}")
        if i < faulty:
            events += [
                ev(oid, "returned", at(11, 2 + i % 14, 11), department="区城管局"),
                ev(oid, "assigned", at(11, 2 + i % 14, 12), department="区城管局"),
            ]
    store = Store.open(":memory:")
    store_events(store, events)
    _, verdict = await run(store, channel())
    assert verdict.state is state, verdict.summary
    assert codes(verdict) <= {"workorder_buck_passing"}


async def test_old_orders_still_open_are_judged_and_old_closed_ones_are_not() -> None:
    old_open = [
        ev("OLD1", "received", at(7, 1)),
        ev("OLD1", "assigned", at(7, 1, 11), department="区住建局"),
        ev("OLD1", "replied", at(7, 2), department="区住建局", text=REPLY.format("OLD1")),
    ]
    old_closed = [{**e, "time": e["time"].replace("2026-11-", "2026-07-")}  # type: ignore[union-attr]
                  for e in solved("OLD2", 10)]  # fmt: skip
    store = Store.open(":memory:")
    store_events(store, [*old_open, *old_closed, *solved("NEW1", 10)])
    result, verdict = await run(store, channel(**ONE))
    assert result.evidence[0].startswith("2 orders judged (1 open)")
    assert codes(verdict) == {"workorder_overdue"}
    assert "OLD1" in verdict.reasons[0].detail


async def test_no_orders_is_unknown_never_ok() -> None:
    _, verdict = await run(Store.open(":memory:"), channel())
    assert verdict.state is State.UNKNOWN


async def test_findings_survive_a_restart_of_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    ch = channel()
    stream = generate("forward_only", orders=40, end=NOW, seed=3)
    with Store.open(path) as store:
        store_events(store, stream.events)
        _, fresh = await run(store, ch)
    clock = FrozenClock(NOW.timestamp())
    settings = parse_config("").global_
    with Store.open(path) as store:
        latest = {check: r for (name, check), r in history.latest(store).items() if name == ch.name}
        async with open_fetcher(settings, clock=clock) as fetcher, open_page_workers() as pages:
            again = judge_latest(Runtime(fetcher, store, clock, settings, pages), ch, latest)
    assert again.reasons == fresh.reasons
    assert codes(again) == {"workorder_forward_only"}


@pytest.mark.parametrize("pattern", ["clean", "buck_passing", "forward_only", "overdue",
                                     "fake_closure", "boilerplate"])  # fmt: skip
@pytest.mark.parametrize("seed", [1, 7])
async def test_generated_orders_show_exactly_their_ground_truth(pattern: str, seed: int) -> None:
    stream = generate(pattern, orders=60, end=NOW, seed=seed)
    store = Store.open(":memory:")
    store_events(store, stream.events)
    result, verdict = await run(store, channel(worst_shown=100))
    flagged = {line.split(":")[0] for line in result.evidence[1:]}
    assert flagged == {oid for oid, why in stream.truth.items() if why is not None}
    want = set() if stream.expected is None else {stream.expected.value}
    assert codes(verdict) == want, verdict.summary
