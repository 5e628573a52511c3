"""Runs this replica's call-record sources (MQTT, followed files) into the state file.

The serve command creates the `IngestCounters` and the `Store`, and runs an `Ingestion` in
its task group until shutdown; `probes.hotline.sink` is the path every record takes.

A reload reaches ingestion through `Ingestion.apply`: hotlines added or removed are
subscribed or dropped on MQTT without reconnecting (their `{channel}` topics), and their
records are accepted or refused from then on; files added or removed from `calls.files`
are followed or let go (a file's offset stays in the state file, so one that comes back
continues where it was). What a running connection cannot change (the broker, its
credentials, the session: everything in `calls.mqtt` but `topics`), and adding or
removing the whole `calls:` block, is reported as needing a restart.
Records older than `calls.retention` (never less than a hotline's longest window) are
deleted hourly; the running totals stay. A record redelivered after its copy was pruned
would count again, so retention is meant to be far longer than any delivery delay.

Each source runs supervised: a source that fails as a whole (an exception it does not
handle itself: an unreadable file, a state-file fault, a bug) is logged and restarted
after a back-off that doubles up to a bound (the MQTT source's `reconnect_min`/`max`, a
file's `poll` up to a minute), and never ends the process or the other sources. The
back-off starts again once a source has run longer than its longest delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from probes.clock import Clock
from probes.config import ChannelConfig
from probes.config.calls import CallSourcesConfig, FileSource, MqttSource
from probes.hotline import filetail, mqtt
from probes.hotline.sink import IngestCounters, Sink, quick_hangup_limits
from probes.model import one_line
from probes.state import calls
from probes.state.errors import StateWriteError
from probes.state.store import Store

__all__ = ["IngestCounters", "Ingestion", "Sink", "prune_forever", "run_sources", "source_names"]

log = logging.getLogger("probes.hotline")
PRUNE_EVERY = 3600.0
FILE_RETRY_MAX = 60.0  # longest wait before a failed file source is tried again


async def prune_forever(store: Store, clock: Clock, keep: Callable[[], float]) -> None:
    """Delete call records older than `keep()` seconds now and then every hour (totals
    stay)."""
    while True:
        try:
            deleted = calls.prune(store, clock.now() - keep())
        except StateWriteError:  # counted and logged by the store; the next round prunes
            deleted = 0
        if deleted:
            log.info("deleted %d call records older than %.0f days", deleted, keep() / 86400)
        await asyncio.sleep(PRUNE_EVERY)


def source_names(config: CallSourcesConfig) -> list[str]:
    """The `source` label of every configured source (MQTT, each followed file)."""
    names = [mqtt.SOURCE] if config.mqtt is not None else []
    return names + [filetail.source_name(f) for f in config.files]


async def supervise(
    name: str, run: Callable[[], Awaitable[None]], clock: Clock, first: float, longest: float
) -> None:
    """Run `run()` until it returns or is cancelled, restarting it after each failure."""
    delay = first
    while True:
        started = clock.monotonic()
        try:
            await run()
        except Exception as exc:  # a failed source restarts; it never ends the process
            if clock.monotonic() - started > longest:
                delay = first
            # The reason on the first line too, for log views that show only that line.
            log.exception(
                "call source %s failed: %s: %s; restarting in %gs",
                name, type(exc).__name__, one_line(str(exc)), delay,  # noqa: TRY401
            )  # fmt: skip
        else:
            return
        await clock.sleep(delay)
        delay = min(delay * 2, longest)


def _session(cfg: MqttSource | None) -> dict[str, object] | None:
    """What of an MQTT source only a new connection can change (all but the topics)."""
    return None if cfg is None else cfg.model_dump(exclude={"topics"})


class Ingestion:
    """This replica's running call-record sources, re-pointed by `apply` after a reload."""

    def __init__(
        self,
        store: Store,
        counters: IngestCounters,
        clock: Clock,
        *,
        shard: tuple[int, int] | None = None,
    ) -> None:
        self.store, self.clock, self.shard = store, clock, shard
        self.known: dict[str, float] = {}
        self.sink = Sink(store, counters, clock, self.known)
        self.topics = mqtt.Topics()
        self.config: CallSourcesConfig | None = None
        self._channels: list[ChannelConfig] = []
        # By the source's settings (a changed source is a new one); models with lists
        # and mappings are not hashable, their JSON is.
        self._files: dict[str, asyncio.Task[None]] = {}
        self._tg: asyncio.TaskGroup | None = None

    def keep(self) -> float:
        """How long call records are kept: the retention, never less than a window."""
        assert self.config is not None
        spec = [ch.checks.hotline for ch in self._channels]
        return max([self.config.retention, *(s.long_window for s in spec if s is not None)])

    async def run(
        self,
        config: CallSourcesConfig,
        channels: list[ChannelConfig],
        *,
        others: Collection[str] = (),
    ) -> None:
        """Run the MQTT and file sources of these hotline channels until cancelled;
        `others` are the config's hotlines that other replicas own (records skipped)."""
        self.config = config
        self._point(channels, others)
        clock, store = self.clock, self.store
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            retention = supervise(
                "retention", lambda: prune_forever(store, clock, self.keep), clock, 60.0,
                PRUNE_EVERY,
            )  # fmt: skip
            tg.create_task(retention, name="calls-retention")
            if (cfg := config.mqtt) is not None:
                client_id = mqtt.session_id(cfg.client_id, self.shard)
                source = supervise(
                    "mqtt", lambda: mqtt.follow(cfg, self.topics, self.sink, client_id=client_id),
                    clock, cfg.reconnect_min, cfg.reconnect_max,
                )  # fmt: skip
                tg.create_task(source, name="calls-mqtt")
            for file in config.files:
                self._follow(file)

    def apply(
        self,
        config: CallSourcesConfig | None,
        channels: list[ChannelConfig],
        *,
        others: Collection[str] = (),
    ) -> list[str]:
        """Take a reloaded config's sources and hotlines; returns the settings that only a
        restart applies (empty when everything was applied)."""
        old = self.config
        if old is None or config is None:
            return [] if old is config else ["calls"]
        restart = ["calls.mqtt"] if _session(old.mqtt) != _session(config.mqtt) else []
        self.config = config.model_copy(update={"mqtt": old.mqtt}) if restart else config
        self._point(channels, others)
        wanted = {file.model_dump_json(): file for file in config.files}
        for key in set(self._files) - set(wanted):
            log.info("no longer following %s", self._files[key].get_name())
            self._files.pop(key).cancel()
        for key, file in wanted.items():
            if key not in self._files:
                self._follow(file)
        return restart

    def _point(self, channels: list[ChannelConfig], others: Collection[str]) -> None:
        """Accept records of these hotlines, skip those of `others`, refuse the rest;
        subscribe to these hotlines' topics."""
        self._channels = channels
        self.known.clear()
        self.known.update(quick_hangup_limits(channels))
        self.sink.others = frozenset(others) - set(self.known)
        assert self.config is not None
        if self.config.mqtt is not None:
            self.topics.set(mqtt.subscriptions(self.config.mqtt.topics, sorted(self.known)))

    def _follow(self, file: FileSource) -> None:
        if self._tg is not None:
            name = filetail.source_name(file)
            follow = supervise(
                name, _follower(file, self.sink), self.clock, file.poll,
                max(file.poll, FILE_RETRY_MAX),
            )  # fmt: skip
            task = self._tg.create_task(follow, name=f"calls-{name}")
            self._files[file.model_dump_json()] = task


async def run_sources(
    config: CallSourcesConfig,
    channels: list[ChannelConfig],
    store: Store,
    counters: IngestCounters,
    clock: Clock,
    *,
    shard: tuple[int, int] | None = None,
    others: Collection[str] = (),
) -> None:
    """Run the MQTT and file sources of this replica's hotline channels until cancelled.

    shard: this replica's `--shard`, which makes its MQTT client id its own.
    others: the config's hotlines that other replicas own (their records are skipped).
    """
    await Ingestion(store, counters, clock, shard=shard).run(config, channels, others=others)


def _follower(source: FileSource, sink: Sink) -> Callable[[], Awaitable[None]]:
    return lambda: filetail.follow(source, sink)
