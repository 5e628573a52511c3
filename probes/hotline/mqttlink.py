"""One MQTT connection on the asyncio event loop: paho-mqtt through its external-loop API.

paho-mqtt documents how to drive its client from another event loop: the socket it
reports through `on_socket_open`/`on_socket_close` is watched with the loop's
`add_reader`, `on_socket_register_write`/`on_socket_unregister_write` say when it has
bytes to send (`add_writer`), and `loop_read()`, `loop_write()` and `loop_misc()` (once a
second: keepalive pings and their timeout) do the work. `manual_ack=True` and `ack()` leave
the PUBACK of a QoS 1 message to the caller, which sends it after the commit.

Why paho directly rather than aiomqtt (which wraps the same client): aiomqtt 2.x has no
manual acknowledgement (it acknowledges on receipt), and reaching it meant its private
attributes; it also builds a `Message` per PUBLISH and wakes the event loop once per
packet. gmqtt, the other asyncio client that can acknowledge after the application, cost
more per message (bench/bench_mqtt_layer.py; figures in bench/RESULTS.md, "Ingest").

paho reads one packet per `loop_read()`; a wake-up of the reader reads packets until one
call handles none (nothing left on the socket) or `_READS_PER_WAKEUP` were read, so a
burst costs one loop iteration per few hundred records rather than one per record. A TLS
socket can hold decrypted bytes the selector does not see (`SSLSocket.pending()`): then
the reader runs again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import paho.mqtt.client as paho_mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from probes.config.calls import MqttSource

_READS_PER_WAKEUP = 256
_MISC_EVERY = 1.0  # seconds between loop_misc() calls (paho's own loop uses 1 s too)
TIMEOUT = 10.0  # seconds for a connection, a subscription or an unsubscription


class LinkError(Exception):
    """The connection could not be made, was refused or was lost (why: the message)."""


class Incoming(NamedTuple):
    """One received PUBLISH: what the consumer needs of it. topic None: not UTF-8."""

    topic: str | None
    payload: bytes | bytearray
    mid: int
    qos: int


class Link:
    """A paho client on the running event loop, connected by `connect()`.

    Received messages collect in `inbox` (oldest first) until the caller `take`s them;
    `lost` is a future that fails with `LinkError` once the connection is gone.
    """

    def __init__(self, cfg: MqttSource, identifier: str, tls: ssl.SSLContext | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._cfg = cfg
        client = paho_mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=identifier,
            clean_session=cfg.clean_session, protocol=paho_mqtt.MQTTv311, manual_ack=True,
        )  # fmt: skip
        client.connect_timeout = TIMEOUT
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password)
        if tls is not None:
            client.tls_set_context(tls)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_reply
        client.on_unsubscribe = self._on_reply
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        self.client = client
        self.inbox: list[Incoming] = []
        self.lost: asyncio.Future[None] = self._loop.create_future()
        self._connack: asyncio.Future[None] = self._loop.create_future()
        self._replies: dict[int, asyncio.Future[list[ReasonCode]]] = {}
        self._handled = 0  # packets handled with a callback (progress of a read)
        self._want = 0  # wake `_filled` once the inbox holds this many; 0: nobody waits
        self._filled = asyncio.Event()
        self._window = 0  # the broker's in-flight limit as far as seen (see wait_for)
        self._fd: int | None = None

    # -- the caller's side -------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and wait for the broker's CONNACK; `LinkError` if it fails or refuses.

        paho's connect (name lookup, TCP, TLS handshake) blocks, bounded by its
        `connect_timeout`, so it runs in a worker thread, as aiomqtt runs it."""
        cfg = self._cfg
        call = self._loop.run_in_executor(
            None, self.client.connect, cfg.host, cfg.port, int(cfg.keepalive)
        )
        try:
            await asyncio.shield(call)  # cancelled, the thread goes on: see below
        except (OSError, ValueError) as exc:  # ssl.SSLError and socket.gaierror included
            raise LinkError(f"cannot connect: {exc}") from exc
        except asyncio.CancelledError:
            call.add_done_callback(self._close_late)  # close what the thread opens
            raise
        done, _ = await asyncio.wait(
            (self._connack, self.lost), timeout=TIMEOUT, return_when="FIRST_COMPLETED"
        )
        if not done:
            raise LinkError("no CONNACK from the broker")
        for fut in done:
            fut.result()  # raises the LinkError of a refusal or a drop

    async def subscribe(self, topics: Sequence[tuple[str, int]]) -> list[str]:
        """Subscribe; returns the filters the broker refused (its SUBACK says 0x80)."""
        rc, mid = self.client.subscribe(list(topics))
        codes = await self._reply(rc, mid, "subscribe")
        return [t for (t, _qos), code in zip(topics, codes, strict=False) if code.is_failure]

    async def unsubscribe(self, topics: Sequence[str]) -> None:
        rc, mid = self.client.unsubscribe(list(topics))
        await self._reply(rc, mid, "unsubscribe")

    async def _reply(self, rc: int, mid: int | None, what: str) -> list[ReasonCode]:
        if rc != paho_mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise LinkError(f"{what}: {paho_mqtt.error_string(rc)}")
        fut: asyncio.Future[list[ReasonCode]] = self._loop.create_future()
        self._replies[mid] = fut
        try:
            done, _ = await asyncio.wait(
                (fut, self.lost), timeout=TIMEOUT, return_when="FIRST_COMPLETED"
            )
        finally:
            self._replies.pop(mid, None)
        if not done:
            raise LinkError(f"no reply from the broker to {what}")
        if fut not in done:
            self.lost.result()  # raises the LinkError of the drop
        return fut.result()

    async def wait_for(self, count: int, timeout: float, gap: float = 0.002) -> None:
        """Return once `count` messages are in the inbox, after `timeout` seconds, or when
        none arrived for `gap` seconds (the broker's burst is over: it sends at most its
        in-flight limit before it waits for acknowledgements).

        The most messages the inbox has held on this connection is a lower bound of that
        limit: below it the gap is not applied, since on a busy machine 2 ms pass while
        the broker is merely descheduled, and a smaller batch costs more per record (each
        commit rewrites the pages it touched).
        """
        end = self._loop.time() + timeout
        try:
            while (have := len(self.inbox)) < count and (left := end - self._loop.time()) > 0:
                below = have < self._window  # woken at the window, then gaps count
                self._want = min(count, self._window) if below else count
                self._filled.clear()
                try:
                    async with asyncio.timeout(left if below else min(gap, left)):
                        await self._filled.wait()
                except TimeoutError:
                    if not below and len(self.inbox) == have:
                        return  # a partial batch
        finally:
            self._want = 0
            self._window = max(self._window, len(self.inbox))

    async def first(self) -> None:
        """Wait until the inbox holds a message."""
        while not self.inbox:
            self._want = 1
            self._filled.clear()
            try:
                await self._filled.wait()
            finally:
                self._want = 0

    def take(self, most: int) -> list[Incoming]:
        """The oldest `most` messages of the inbox, removed from it."""
        out = self.inbox[:most]
        del self.inbox[:most]
        return out

    def ack(self, msg: Incoming) -> None:
        """Send the PUBACK of a stored message (queued: the writer sends it)."""
        self.client.ack(msg.mid, msg.qos)

    async def keep_alive(self) -> None:
        """Run paho's timers (keepalive pings, their timeout) until the connection drops;
        then raise its `LinkError`."""
        while not self.lost.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_MISC_EVERY):
                    await asyncio.shield(self.lost)
            if not self.lost.done():
                self.client.loop_misc()
        self.lost.result()

    def _close_late(self, call: asyncio.Future[MQTTErrorCode]) -> None:
        if not call.cancelled():
            call.exception()  # the caller is gone: an error here is nobody's to report
        self.close()

    def close(self) -> None:
        """Send DISCONNECT if still connected and drop the socket's watches."""
        if self.client.socket() is not None:
            self.client.disconnect()
            self.client.loop_write()  # writes DISCONNECT, then paho closes the socket
        self._unwatch()
        self._fail(LinkError("closed"))

    # -- paho's callbacks (on the loop's thread, except during connect) -----------------

    def _soon(self, fn: Callable[..., object], *args: Any) -> None:
        if threading.get_ident() == self._thread:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    def _fail(self, exc: LinkError) -> None:
        for fut in (self._connack, self.lost):
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # retrieved: a connection that never came up is not a bug

    def _on_connect(self, _c: object, _u: object, _flags: object, code: ReasonCode,
                    _props: object) -> None:  # fmt: skip
        if code.is_failure:
            self._soon(self._fail, LinkError(f"connection refused: {code}"))
        else:
            self._handled += 1
            self._soon(self._connected)

    def _connected(self) -> None:
        if not self._connack.done():
            self._connack.set_result(None)

    def _on_disconnect(self, _c: object, _u: object, _flags: object, code: ReasonCode,
                       _props: object) -> None:  # fmt: skip
        self._soon(self._fail, LinkError(f"connection lost: {code}"))

    def _on_message(self, _c: object, _u: object, msg: paho_mqtt.MQTTMessage) -> None:
        try:
            topic: str | None = msg.topic
        except UnicodeDecodeError:
            topic = None
        self.inbox.append(Incoming(topic, msg.payload, msg.mid, msg.qos))
        self._handled += 1
        if self._want and len(self.inbox) >= self._want:
            self._filled.set()

    def _on_reply(self, _c: object, _u: object, mid: int, codes: list[ReasonCode],
                  _props: object) -> None:  # fmt: skip
        self._handled += 1
        fut = self._replies.get(mid)
        if fut is not None and not fut.done():
            fut.set_result(codes)

    def _on_socket_open(self, _c: object, _u: object, sock: Any) -> None:
        self._soon(self._watch, sock.fileno())

    def _on_socket_close(self, _c: object, _u: object, _sock: object) -> None:
        self._soon(self._unwatch)

    def _on_register_write(self, _c: object, _u: object, sock: Any) -> None:
        self._soon(self._loop.add_writer, sock.fileno(), self._writable)

    def _on_unregister_write(self, _c: object, _u: object, sock: Any) -> None:
        self._soon(self._loop.remove_writer, sock.fileno())

    # -- the loop's side ---------------------------------------------------------------

    def _watch(self, fd: int) -> None:
        self._fd = fd
        self._loop.add_reader(fd, self._readable)

    def _unwatch(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
            self._fd = None

    def _readable(self) -> None:
        client = self.client
        for _ in range(_READS_PER_WAKEUP):
            before = self._handled
            if client.loop_read() != paho_mqtt.MQTT_ERR_SUCCESS or self._handled == before:
                break  # a drop (paho reports it through on_disconnect), or nothing left
        sock = client.socket()
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            self._loop.call_soon(self._readable)

    def _writable(self) -> None:
        self.client.loop_write()  # unregisters the writer once everything is sent
