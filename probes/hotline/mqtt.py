"""The MQTT source: JSON call records on configured topics, QoS 1, persistent session.

Delivery is at least once and nothing is lost: the session is persistent (fixed client id,
clean_session false), so the broker keeps records published while the monitor is down,
and a record is acknowledged only after the transaction that stored it has committed.

Replicas (`serve --shard I/N`) of one config each have a session of their own: the client
id is the configured one with `-shard-I-of-N` appended (`session_id`), since two clients
with one id throw each other off the broker. A replica subscribes only to its own
hotlines' `{channel}` topics; a topic without `{channel}` reaches every replica, which
skips the records of the others' hotlines (`Sink.others`).

aiomqtt acknowledges QoS 1 messages on receipt; paho-mqtt (underneath) can leave that to
the application (`manual_ack`), which aiomqtt 2.x does not expose, so this module sets it on
the paho client and sends the PUBACKs itself. A crash between commit and PUBACK makes the
broker redeliver records already stored: the (channel, call id) key drops them.

Throughput: the broker sends at most `max_inflight_messages` unacknowledged QoS 1 messages
to a client (mosquitto: 20 by default); records are stored and acknowledged in batches of
what has arrived (`batch`, default 2000), so raise that setting to about 1.5 times the
batch on busy brokers. The other costs of a record are kept low on purpose: paho reads
through a buffered socket, messages are queued as plain tuples, and a batch is stored
with one lookup and one `executemany` (see bench/README.md "ingest").
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import zoneinfo
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import aiomqtt
import paho.mqtt.client as paho_mqtt

from probes.config.calls import MqttSource
from probes.hotline.formats import decode_json, record_from_json
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


def session_id(configured: str, shard: tuple[int, int] | None) -> str:
    """This replica's MQTT client id: the configured one, plus the shard when sharded (a
    change of N is a new set of sessions: the old ones' queued records stay with them)."""
    if shard is None:
        return configured
    index, count = shard
    return f"{configured}-shard-{index}-of-{count}"


def _tls_context(cfg: MqttSource) -> ssl.SSLContext | None:
    return None if cfg.tls is None else cfg.tls.context()


class Incoming(NamedTuple):
    """One received PUBLISH: what the consumer needs of it, and nothing more."""

    topic: str
    payload: bytes | bytearray
    mid: int
    qos: int


class _Queue(asyncio.Queue[Incoming]):
    """The client's incoming queue, kept by reference so a batch can be drained at once."""

    last: _Queue | None = None

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        _Queue.last = self
        self.want = 0  # 0: nobody waits for a batch
        self.filled = asyncio.Event()  # set once `want` messages are queued

    def put_nowait(self, item: Incoming) -> None:
        super().put_nowait(item)
        if self.want and self.qsize() >= self.want:
            self.filled.set()

    async def wait_for(self, count: int, timeout: float, gap: float = 0.002) -> None:
        """Return once `count` messages are queued, after `timeout` seconds, or when no
        message arrived for `gap` seconds (the broker's burst is over: it sends at most
        its in-flight limit before it waits for acknowledgements)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        self.want = count
        self.filled.clear()
        try:
            while (have := self.qsize()) < count and (left := end - loop.time()) > 0:
                try:
                    async with asyncio.timeout(min(gap, left)):
                        await self.filled.wait()
                except TimeoutError:
                    if self.qsize() == have:
                        return  # a partial batch: store what came
        finally:
            self.want = 0


class _BufferedSocket:
    """The paho client's socket with a read buffer, for throughput.

    paho reads a packet with three or four `recv` calls (type byte, length bytes, body),
    and aiomqtt runs one packet read per event-loop wake-up: a few syscalls and a whole
    loop iteration per record. This proxy fills its buffer with one large `recv` and
    reports the buffered bytes as `pending()`, the way an SSL socket reports decrypted
    bytes, which makes aiomqtt's reader keep reading packets until the buffer is empty.
    Everything else is the wrapped socket's.
    """

    _CHUNK = 256 * 1024

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = bytearray()

    def recv(self, bufsize: int) -> bytes:
        if not self._buf:
            data = self._sock.recv(max(bufsize, self._CHUNK))  # BlockingIOError passes up
            if len(data) <= bufsize:
                return bytes(data)
            self._buf += data
        out = bytes(self._buf[:bufsize])
        del self._buf[:bufsize]
        return out

    def pending(self) -> int:
        inner = getattr(self._sock, "pending", None)
        return len(self._buf) + (inner() if inner is not None else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _buffer_reads(client: aiomqtt.Client) -> None:
    """Wrap the connected paho socket (see `_BufferedSocket`); call right after connecting."""
    paho = client._client
    if paho._sock is not None and not isinstance(paho._sock, _BufferedSocket):
        paho._sock = _BufferedSocket(paho._sock)


_MessageQueue = type[asyncio.Queue[aiomqtt.Message]]  # what aiomqtt's signature says


def _client(cfg: MqttSource, identifier: str) -> tuple[aiomqtt.Client, _Queue]:
    client = aiomqtt.Client(
        cfg.host, cfg.port, identifier=identifier, clean_session=cfg.clean_session,
        username=cfg.username, password=cfg.password, tls_context=_tls_context(cfg),
        keepalive=int(cfg.keepalive), queue_type=cast(_MessageQueue, _Queue), timeout=10.0,
    )  # fmt: skip
    queue = _Queue.last
    assert queue is not None, "aiomqtt builds its queue in __init__"
    paho = client._client
    # Acknowledge after the commit, not on receipt (see the module docstring).
    paho.manual_ack_set(True)

    # Queue a plain tuple instead of aiomqtt's Message, whose topic validation and
    # copies cost a fifth of the CPU of ingest; `client.messages` yields what is queued.
    def on_message(_paho: object, _userdata: object, msg: paho_mqtt.MQTTMessage) -> None:
        queue.put_nowait(Incoming(msg.topic, msg.payload, msg.mid, msg.qos))

    paho.on_message = on_message
    return client, queue


def _decode(payload: object) -> object:
    if not isinstance(payload, bytes | bytearray | str):
        raise RecordError(RejectReason.MALFORMED, "empty payload")
    return decode_json(payload)


class Consumer:
    """Parses, stores and acknowledges message batches of one connection."""

    def __init__(self, subs: dict[str, str | None], sink: Sink, timezone: str) -> None:
        self.exact = {t: ch for t, ch in subs.items() if "+" not in t and "#" not in t}
        self.wild = [(t, ch) for t, ch in subs.items() if t not in self.exact]
        self.sink = sink
        self.tz = zoneinfo.ZoneInfo(timezone)

    def _channel_of(self, topic: str) -> str | None:
        if topic in self.exact:
            return self.exact[topic]
        for flt, ch in self.wild:
            if aiomqtt.Topic(topic).matches(flt):
                return ch
        return None

    def _record(self, msg: Incoming) -> CallRecord:
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


async def consume(
    client: aiomqtt.Client, queue: _Queue, consumer: Consumer, batch: int, linger: float
) -> None:
    """Store and acknowledge messages until the connection drops (MqttError).

    Storing each message as it came cost a transaction per record (about a thousand
    records a second). A batch waits after its first message until `batch` are queued,
    the broker's burst is over (see `_Queue.wait_for`) or `linger` has passed, then is
    stored and committed in one transaction, and only then acknowledged.
    """
    paho = client._client
    # The queue holds `Incoming` tuples (see `_client`); aiomqtt's iterator only adds
    # the end of iteration when the connection drops.
    async for message in client.messages:
        first = cast(Incoming, message)
        await queue.wait_for(batch - 1, linger)
        msgs = [first]
        while len(msgs) < batch and not queue.empty():
            msgs.append(queue.get_nowait())
        await consumer.store(consumer.parse(msgs))  # committed when this returns
        for msg in msgs:
            paho.ack(msg.mid, msg.qos)


async def run(
    cfg: MqttSource,
    channels: Sequence[str],
    sink: Sink,
    timezone: str = "Asia/Shanghai",
    *,
    client_id: str | None = None,
) -> None:
    """Subscribe and ingest until cancelled, reconnecting with exponential backoff.

    client_id: the session's id (default: the configured one; see `session_id()`)."""
    subs = subscriptions(cfg.topics, channels)
    if not subs:
        log.info("no hotline channel to subscribe for; MQTT source idle")
        return
    consumer = Consumer(subs, sink, timezone)
    delay = cfg.reconnect_min
    while True:
        try:
            client, queue = _client(cfg, client_id or cfg.client_id)
            async with client:
                _buffer_reads(client)
                topics: list[tuple[str, int]] = [(t, int(cfg.qos)) for t in subs]
                await client.subscribe(topics)
                log.info("subscribed to %d topics on %s:%d as %s", len(subs), cfg.host, cfg.port,
                         client_id or cfg.client_id)  # fmt: skip
                delay = cfg.reconnect_min
                sink.counters.connected[SOURCE] = True
                await consume(client, queue, consumer, cfg.batch, cfg.linger)
        except aiomqtt.MqttError as exc:
            log.warning("MQTT %s:%d: %s; reconnecting in %.0fs", cfg.host, cfg.port, exc, delay)
        finally:
            sink.counters.connected[SOURCE] = False
        await asyncio.sleep(delay)
        delay = min(delay * 2, cfg.reconnect_max)
