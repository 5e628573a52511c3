"""The MQTT layer alone: CPU per QoS 1 message received and acknowledged in batches, for
each client that can acknowledge after the application's commit.

    python bench/bench_mqtt_layer.py [--messages 100000] [--rounds 2]

Candidates: `paho-direct` (the monitor's `probes.hotline.mqttlink.Link`: paho-mqtt on the
event loop, `manual_ack`) and, when installed (`pip install gmqtt`), `gmqtt` (MQTT 5 with
`optimistic_acknowledgement=False`: the PUBACK goes when the `on_message` coroutine
returns, so each message's coroutine waits for its batch). aiomqtt is not a candidate: it
acknowledges on receipt. Messages are published while the session is offline, then the
client is timed until it has taken and acknowledged all of them, in batches of 2,000 as
the ingest does; nothing is parsed or stored (that is `bench_ingest.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402

from probes.config.calls import MqttSource  # noqa: E402
from probes.hotline.mqttlink import Link  # noqa: E402
from tests.mosquitto import Mosquitto  # noqa: E402

BATCH = 2000
TOPIC = "zombie/calls/#"


async def publish(port: int, n: int) -> None:
    async with aiomqtt.Client("127.0.0.1", port, max_queued_outgoing_messages=0,
                              max_inflight_messages=1000) as pub:  # fmt: skip
        for i in range(n):
            start = 1.7e9 + i
            rec = {"call_id": f"c{i}", "start": start, "answer": start + 5, "end": start + 95,
                   "outcome": "answered"}  # fmt: skip
            await pub.publish(f"zombie/calls/h{i % 500}", json.dumps(rec), qos=1)


async def paho_direct(port: int, n: int) -> float | None:
    """CPU seconds to take and acknowledge n messages (None: the session was created)."""
    link = Link(MqttSource(host="127.0.0.1", port=port, client_id="layer-paho"), "layer-paho",
                None)  # fmt: skip
    await link.connect()
    await link.subscribe([(TOPIC, 1)])
    if not n:
        link.close()
        return None
    cpu0, got = time.process_time(), 0
    timers = asyncio.create_task(link.keep_alive())
    while got < n:
        await link.first()
        await link.wait_for(BATCH, 0.05)
        msgs = link.take(BATCH)
        got += len(msgs)
        for msg in msgs:
            link.ack(msg)
    await asyncio.sleep(0.05)  # the last PUBACKs written
    cpu = time.process_time() - cpu0
    timers.cancel()
    link.close()
    return cpu


async def gmqtt_client(port: int, n: int) -> float | None:
    import gmqtt

    loop = asyncio.get_running_loop()
    inbox: list[tuple[str, bytes]] = []
    committed: list[asyncio.Future[None]] = [loop.create_future()]
    full = asyncio.Event()

    async def on_message(_c: Any, topic: str, payload: bytes, _qos: int, _props: Any) -> int:
        inbox.append((topic, payload))
        batch = committed[0]
        if len(inbox) >= BATCH:
            full.set()
        await batch  # the PUBACK goes once this returns
        return 0

    client = gmqtt.Client(
        "layer-gmqtt", clean_session=False, optimistic_acknowledgement=False,
        session_expiry_interval=3600,
    )  # fmt: skip
    client.on_message = on_message
    await client.connect("127.0.0.1", port)
    client.subscribe(TOPIC, qos=1)
    await asyncio.sleep(0.5)  # SUBACK
    if not n:
        await client.disconnect()
        return None
    cpu0, got = time.process_time(), 0
    while got < n:
        try:
            async with asyncio.timeout(0.05):
                await full.wait()
        except TimeoutError:
            pass
        full.clear()
        got += len(inbox)
        inbox.clear()
        batch, committed[0] = committed[0], loop.create_future()
        batch.set_result(None)
    await asyncio.sleep(0.05)
    cpu = time.process_time() - cpu0
    await client.disconnect()
    return cpu


async def main(n: int, rounds: int) -> None:
    candidates: dict[str, Callable[[int, int], Awaitable[float | None]]] = {
        "paho-direct": paho_direct
    }
    if importlib.util.find_spec("gmqtt") is not None:
        candidates["gmqtt"] = gmqtt_client
    else:
        print("gmqtt not installed: paho-direct only")
    results: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, run in candidates.items():  # side by side in each round
            with Mosquitto(max_inflight=3000) as broker:
                await run(broker.port, 0)  # create the persistent session
                await publish(broker.port, n)
                cpu = await run(broker.port, n)
                assert cpu is not None
                results[name].append(cpu / n * 1e6)
                print(f"{name}: {n / cpu:,.0f} messages per CPU second "
                      f"({cpu / n * 1e6:.1f} µs each)", flush=True)  # fmt: skip
    for name, us in results.items():
        print(f"{name}: {min(us):.1f}-{max(us):.1f} µs per message over {len(us)} rounds")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    asyncio.run(main(args.messages, args.rounds))
