"""`zombie-probes serve`: run the scheduler, the call-record sources and the HTTP server
in one task group until SIGTERM or SIGINT.

Signals are the monitor's, not uvicorn's: SIGHUP reloads the config (a bad one is rejected
and the old one keeps running); SIGTERM and SIGINT stop dispatching, let running checks
finish within their deadlines, then stop the server and exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from probes.clock import Clock
from probes.config import Config
from probes.config.model import listen_address
from probes.runtime.endpoints import build_app
from probes.runtime.monitor import Monitor, open_monitor, prune_forever
from probes.state.store import retry_forever

log = logging.getLogger("probes.runtime.serve")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The monitor installs its own handlers (drain on SIGTERM, reload on SIGHUP).
        yield


class StartupError(Exception):
    """The monitor cannot start; the message is one line naming what and where."""


def bind(listen: str) -> socket.socket:
    """Bind the listening socket before anything starts, so a busy port fails at once."""
    try:
        host, port = listen_address(listen)
    except ValueError as exc:
        raise StartupError(f"cannot listen on {listen!r}: {exc}") from exc
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise StartupError(f"cannot listen on {listen!r}: {reason}") from exc
    sock.set_inheritable(True)
    return sock


async def run_monitor(
    config: Config,
    config_path: Path | None,
    *,
    listen: str,
    shard: tuple[int, int] | None = None,
    web_config: Path | None = None,
    clock: Clock | None = None,
    state_path: str | None = None,
    extra: Callable[[Monitor], Coroutine[Any, Any, None]] | None = None,
    on_ready: Callable[[Monitor, str], None] | None = None,
    first_run_spread: float | None = None,
    access_log: bool = False,
) -> None:
    """Run until SIGTERM/SIGINT (or cancellation). `extra` runs beside the monitor (the
    demo's first-round report) and `on_ready` is told the bound address."""
    sock = bind(listen)
    async with open_monitor(
        config, config_path, shard=shard, clock=clock, state_path=state_path,
        first_run_spread=first_run_spread,
    ) as monitor:  # fmt: skip
        app: ASGIApp = build_app(monitor)
        ssl_kwargs: dict[str, Any] = {}
        if web_config is not None:
            from probes.runtime.webconfig import load_web_config

            web = load_web_config(web_config)
            # Wrapping the whole app puts every endpoint behind basic auth.
            app = web.middleware_class()(app, **web.middleware_kwargs())
            ssl_kwargs = web.uvicorn_ssl_kwargs()
        server = _Server(
            uvicorn.Config(
                app,
                log_level="info" if access_log else "warning",
                access_log=access_log,
                lifespan="off",
                **ssl_kwargs,
            )
        )
        loop = asyncio.get_running_loop()

        def shutdown() -> None:
            log.info("stopping: draining running checks")
            monitor.scheduler.stop()

        loop.add_signal_handler(signal.SIGTERM, shutdown)
        loop.add_signal_handler(signal.SIGINT, shutdown)
        loop.add_signal_handler(signal.SIGHUP, monitor.reload_soon)
        try:
            async with asyncio.TaskGroup() as tg:
                background = [
                    tg.create_task(prune_forever(monitor)),
                    tg.create_task(retry_forever(monitor.rt.store)),
                    tg.create_task(monitor.exposition.keep_current(monitor.rt.clock)),
                ]
                if config.calls is not None:
                    background.append(tg.create_task(_sources(monitor)))
                if extra is not None:
                    background.append(tg.create_task(extra(monitor)))
                server_task = tg.create_task(server.serve(sockets=[sock]))
                monitor.status.ready = True
                host, port = sock.getsockname()[:2]
                if on_ready is not None:
                    on_ready(monitor, f"{host}:{port}")
                log.info("listening on %s:%s", host, port)
                await monitor.scheduler.run()
                server.should_exit = True
                await server_task
                for task in background:
                    task.cancel()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            sock.close()


async def _sources(monitor: Monitor) -> None:
    from probes.hotline.ingest import run_sources

    assert monitor.config.calls is not None
    hotlines = [c for c in monitor.status.channels.values() if c.kind == "hotline"]
    # The config's other hotlines belong to other replicas: their records are skipped.
    others = [c.name for c in monitor.config.channels if c.kind == "hotline"]
    await run_sources(
        monitor.config.calls, hotlines, monitor.rt.store, monitor.ingest, monitor.rt.clock,
        shard=monitor.scheduler.shard, others=others,
    )  # fmt: skip
