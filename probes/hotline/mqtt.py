"""The MQTT source: JSON call records on configured topics, QoS 1, persistent session.

Delivery is at least once and nothing is lost: the session is persistent (fixed client id,
clean_session false), so the broker keeps records published while the monitor is down,
and a record is acknowledged only after the transaction that stored it has committed.

Replicas (`serve --shard I/N`) of one config each have a session of their own: the client
id is the configured one with `-shard-I-of-N` appended (`session_id`), since two clients
with one id throw each other off the broker. A replica subscribes only to its own
hotlines' `{channel}` topics; a topic without `{channel}` reaches every replica, which
skips the records of the others' hotlines (`Sink.others`).

The connection is paho-mqtt's client on the event loop (`probes.hotline.mqttlink`, which
says why not aiomqtt) with manual acknowledgement: the PUBACKs of a batch are sent after
its transaction has committed. A crash between commit and PUBACK makes the broker
redeliver records already stored: the (channel, call id) key drops them (counted as
duplicates).

Throughput: the broker sends at most `max_inflight_messages` unacknowledged QoS 1 messages
to a client (mosquitto: 20 by default); records are stored and acknowledged in batches of
what has arrived (`batch`, default 2000), so raise that setting to about 1.5 times the
batch on busy brokers. A batch is parsed with one reused JSON decoder and stored with one
lookup and one `executemany` (see bench/README.md "ingest").
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import zoneinfo
from collections.abc import Sequence

import paho.mqtt.client as paho_mqtt

from probes.config.calls import MqttSource
from probes.hotline.formats import decode_json, record_from_json
from probes.hotline.mqttlink import Incoming, Link, LinkError
from probes.hotline.records import RecordError, RejectReason
from probes.hotline.sink import Sink
from probes.model import CallRecord
from probes.state.errors import StateWriteError

SOURCE = "mqtt"
log = logging.getLogger("probes.hotline.mqtt")


def subscriptions(topics: Sequence[str], channels: Sequence[str]) -> dict[str, str | None]:
    """Topic filter -> the channel its records belong to (None: from the record itself)."""
    out: dict[str, str | None] = {}
    for topic in topics:
        if "{channel}" in topic:
            for ch in channels:
                out[topic.replace("{channel}", ch)] = ch
        else:
            out[topic] = None
    return out


class Topics:
    """The topic filters this replica subscribes to, kept current across reloads.

    `set` replaces the wanted set (from `subscriptions()`); the connected source then
    subscribes to what is new and unsubscribes from what is gone without reconnecting.
    `on_broker` is what the broker's persistent session holds as far as this process
    knows, so a reconnect also drops a filter removed while the connection was down.
    """

    def __init__(self, wanted: dict[str, str | None] | None = None) -> None:
        self.wanted: dict[str, str | None] = dict(wanted or {})
        self.on_broker: set[str] = set()
        self.changed = asyncio.Event()

    def set(self, wanted: dict[str, str | None]) -> None:
        if wanted != self.wanted:
            self.wanted = dict(wanted)
            self.changed.set()


def session_id(configured: str, shard: tuple[int, int] | None) -> str:
    """This replica's MQTT client id: the configured one, plus the shard when sharded (a
    change of N is a new set of sessions: the old ones' queued records stay with them)."""
    if shard is None:
        return configured
    index, count = shard
    return f"{configured}-shard-{index}-of-{count}"


def _tls_context(cfg: MqttSource) -> ssl.SSLContext | None:
    return None if cfg.tls is None else cfg.tls.context()


def _decode(payload: object) -> object:
    if not isinstance(payload, bytes | bytearray | str):
        raise RecordError(RejectReason.MALFORMED, "empty payload")
    return decode_json(payload)


class Consumer:
    """Parses, stores and acknowledges message batches of one connection."""

    def __init__(self, subs: dict[str, str | None], sink: Sink, timezone: str) -> None:
        self.sink = sink
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.route(subs)

    def route(self, subs: dict[str, str | None]) -> None:
        """Map topics to channels by these subscriptions (after a reload)."""
        self.exact = {t: ch for t, ch in subs.items() if "+" not in t and "#" not in t}
        self.wild = [(t, ch) for t, ch in subs.items() if t not in self.exact]

    def _channel_of(self, topic: str) -> str | None:
        if topic in self.exact:
            return self.exact[topic]
        for flt, ch in self.wild:
            if paho_mqtt.topic_matches_sub(flt, topic):
                return ch
        return None

    def _record(self, msg: Incoming) -> CallRecord:
        if msg.topic is None:
            raise RecordError(RejectReason.MALFORMED, "topic is not UTF-8")
        return record_from_json(
            _decode(msg.payload), source=SOURCE, tz=self.tz, channel=self._channel_of(msg.topic)
        )

    def parse(self, batch: Sequence[Incoming]) -> list[tuple[CallRecord, str]]:
        """The batch's records with their positions. A bad one is rejected (counted) here,
        whatever went wrong with it, and acknowledged with the batch: acknowledging it is
        what stops the broker from redelivering it forever."""
        items: list[tuple[CallRecord, str]] = []
        for msg in batch:
            position = f"topic {msg.topic} mid {msg.mid}"
            record = self.sink.parse(SOURCE, position, functools.partial(self._record, msg))
            if record is not None:
                items.append((record, position))
        return items

    async def store(self, items: Sequence[tuple[CallRecord, str]]) -> int:
        """Store parsed records, waiting while the state file cannot be written: the
        batch stays unacknowledged meanwhile, so the broker keeps it (and sends it again
        after a crash), and its next messages wait in the in-flight window."""
        while True:
            try:
                return self.sink.store_batch(SOURCE, items)
            except StateWriteError:  # counted and logged by the store
                store = self.sink.store
                await store.clock.sleep(max(store.retry_in(), 0.05))


async def consume(link: Link, consumer: Consumer, batch: int, linger: float) -> None:
    """Store and acknowledge messages while connected (cancelled when the link drops).

    Storing each message as it came cost a transaction per record (about a thousand
    records a second). A batch waits after its first message until `batch` are queued,
    the broker's burst is over (see `Link.wait_for`) or `linger` has passed, then is
    stored and committed in one transaction, and only then acknowledged.
    """
    while True:
        await link.first()
        await link.wait_for(batch, linger)
        msgs = link.take(batch)
        await consumer.store(consumer.parse(msgs))  # committed when this returns
        for msg in msgs:
            link.ack(msg)


async def run(
    cfg: MqttSource,
    channels: Sequence[str],
    sink: Sink,
    timezone: str = "Asia/Shanghai",
    *,
    client_id: str | None = None,
) -> None:
    """Subscribe for these channels and ingest until cancelled (see `follow`).

    client_id: the session's id (default: the configured one; see `session_id()`)."""
    topics = Topics(subscriptions(cfg.topics, channels))
    await follow(cfg, topics, sink, timezone, client_id=client_id)


async def follow(
    cfg: MqttSource,
    topics: Topics,
    sink: Sink,
    timezone: str = "Asia/Shanghai",
    *,
    client_id: str | None = None,
) -> None:
    """Ingest until cancelled, reconnecting with exponential backoff and following the
    wanted topics as a reload changes them."""
    consumer = Consumer(topics.wanted, sink, timezone)
    identifier = client_id or cfg.client_id
    delay = cfg.reconnect_min
    while True:
        if not topics.wanted and not topics.on_broker:
            log.info("no hotline channel to subscribe for; MQTT source idle")
            topics.changed.clear()
            await topics.changed.wait()
            continue
        link = Link(cfg, identifier, _tls_context(cfg))
        try:
            await link.connect()
            topics.changed.set()  # subscribe to what is wanted now
            delay = cfg.reconnect_min
            sink.counters.connected[SOURCE] = True
            async with asyncio.TaskGroup() as tg:
                tg.create_task(link.keep_alive())  # raises LinkError when the link drops
                tg.create_task(_resubscribe(link, topics, consumer, cfg, identifier))
                tg.create_task(consume(link, consumer, cfg.batch, cfg.linger))
        except* LinkError as group:
            exc = group.exceptions[0]
            log.warning("MQTT %s:%d: %s; reconnecting in %.0fs", cfg.host, cfg.port, exc, delay)
        finally:
            sink.counters.connected[SOURCE] = False
            link.close()
        await asyncio.sleep(delay)
        delay = min(delay * 2, cfg.reconnect_max)


async def _resubscribe(
    link: Link, topics: Topics, consumer: Consumer, cfg: MqttSource, identifier: str
) -> None:
    """Keep the broker's subscriptions equal to the wanted ones while connected. A fresh
    connection subscribes to every wanted filter again (cheap, and right whether or not
    the broker kept the session)."""
    fresh = True
    while True:
        await topics.changed.wait()
        topics.changed.clear()
        wanted = dict(topics.wanted)
        added = sorted(wanted if fresh else set(wanted) - topics.on_broker)
        gone = sorted(topics.on_broker - set(wanted))
        consumer.route(wanted)
        # Dropped first: once a new topic's records arrive, the old ones no longer do.
        if gone:
            await link.unsubscribe(gone)
        if added:
            refused = await link.subscribe([(t, int(cfg.qos)) for t in added])
            if refused:  # the broker's ACL: nothing will arrive on these
                log.warning("MQTT %s:%d refused the subscriptions %s", cfg.host, cfg.port,
                            ", ".join(refused))  # fmt: skip
        topics.on_broker = set(wanted)
        fresh = False
        log.info("subscribed to %d topics on %s:%d as %s (%d new, %d dropped)",
                 len(wanted), cfg.host, cfg.port, identifier, len(added), len(gone))  # fmt: skip
