"""The simulated test-call robot: call records for five demo hotlines, with ground truth.

Every `step` (default 15 min, around the clock) the robot "dials" each hotline and reports
how the call went, as the JSON record the MQTT source reads, on `<prefix>/<channel>`:

- `hotline-healthy`: answered within seconds, real conversations: ok;
- `hotline-dead`: rings out every time: zombie (dead, unanswered);
- `hotline-busy`: busy two calls in three: zombie (unanswered), yet not dead;
- `hotline-hangup`: answered and hung up within 3 s: degraded (quick hang-up);
- `hotline-buckpass`: answered, but one call in four is passed 市场监管局 -> 住建局 ->
  市场监管局: degraded (transfer loop).

`records(now)` gives the same records without a broker (tests of the verdicts);
`run_robot` publishes a day of backlog, then a round every `step`, until cancelled.
Records are deterministic: the call id is the channel and the slot's start time, so a
restarted robot republishes the same ids and the monitor stores each call once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiomqtt

from probes.clock import Clock, SystemClock
from probes.demo.truth import Truth
from probes.model import State

STEP = 900.0
BACKLOG = 86400.0

TRUTH: dict[str, Truth] = {
    "hotline-healthy": Truth(State.OK, note="answers within seconds"),
    "hotline-dead": Truth(
        State.ZOMBIE, frozenset({"hotline_dead", "hotline_unanswered"}), note="rings out"
    ),
    "hotline-busy": Truth(
        State.ZOMBIE, frozenset({"hotline_unanswered"}), note="busy two calls in three"
    ),
    "hotline-hangup": Truth(
        State.DEGRADED, frozenset({"hotline_quick_hangup"}), note="answers and hangs up"
    ),
    "hotline-buckpass": Truth(
        State.DEGRADED, frozenset({"hotline_transfer_loop"}), note="passes calls in a loop"
    ),
}


def _answered(start: float, wait: float, talk: float, **extra: Any) -> dict[str, Any]:
    return {"start": start, "answer": start + wait, "end": start + wait + talk,
            "outcome": "answered", **extra}  # fmt: skip


def _call(channel: str, slot: int, start: float) -> dict[str, Any]:
    if channel == "hotline-healthy":
        body = _answered(start, 3 + slot % 5, 60 + slot % 120, hangup_by="caller")
    elif channel == "hotline-dead":
        body = {"start": start, "answer": None, "end": start + 60, "outcome": "no_answer"}
    elif channel == "hotline-busy":
        body = (
            _answered(start, 5, 90)
            if slot % 3 == 0
            else {"start": start, "answer": None, "end": start + 2, "outcome": "busy"}
        )
    elif channel == "hotline-hangup":
        body = _answered(start, 4, 3, hangup_by="callee")
    elif channel == "hotline-buckpass":
        chain = ["市场监管局", "住建局", "市场监管局"] if slot % 4 == 0 else ["市场监管局"]
        body = _answered(start, 6, 120, transfers=chain)
    else:
        raise ValueError(f"unknown demo hotline {channel!r}")
    # The robot's calls are test calls: they alone can show a line dead.
    return {"channel": channel, "call_id": f"{channel}-{int(start)}", "test": True, **body}


def records(now: float, since: float | None = None, step: float = STEP) -> list[dict[str, Any]]:
    """Every demo record whose slot starts in (since, now]; since defaults to a day back.
    A record is complete (ended) by `now`: slots start one step before they are reported."""
    since = now - BACKLOG if since is None else since
    first = int(since // step) + 1
    last = int((now - step) // step)
    out = []
    for slot in range(first, last + 1):
        for channel in TRUTH:
            out.append(_call(channel, slot, slot * step))
    return out


async def run_robot(
    host: str,
    port: int,
    *,
    topic_prefix: str = "zombie/calls",
    clock: Clock | None = None,
    step: float = STEP,
    sleep: Callable[[float], Any] = asyncio.sleep,
    backlog_published: asyncio.Event | None = None,
) -> None:
    """Publish the backlog, then a round of calls every `step`, until cancelled.

    backlog_published: set once the broker has acknowledged the day of backlog, so a
    caller can hold the first hotline checks until the records are there to judge.
    """
    clock = clock or SystemClock()
    async with aiomqtt.Client(host, port, identifier="zombie-probes-callrobot") as client:
        since: float | None = None
        while True:
            now = clock.now()
            for rec in records(now, since, step):
                topic = f"{topic_prefix}/{rec['channel']}"
                await client.publish(topic, json.dumps(rec, ensure_ascii=False), qos=1)
            if backlog_published is not None:
                backlog_published.set()
            since = now
            await sleep(step)
