"""The simulated government portal: one Starlette app made of section modules, served on
localhost by uvicorn, with the ground truth of every demo channel.

A section is a module beside this one exposing `routes(now) -> list[BaseRoute]` (its pages,
under its own path prefix, dated relative to `now`, the portal's today) and `TRUTH` (channel
name in `config/demo.yaml` -> `Truth`). Adding a section means adding its module to the
literal `SECTIONS` tuple; the index page, the route table and `ground_truth()` follow.

`now` is fixed when the app is built, so a test can freeze the portal's today and a demo
left running for weeks sees its pages age (restart it to bring them back to today).

Standalone: `python -m probes.demo.portal --port 9780`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from probes.demo import boards, columns, linkfarm, services, sites
from probes.demo.truth import Truth

# How long stopping the portal waits for requests in flight before cancelling them.
SHUTDOWN_GRACE_SECONDS = 1


class Section(Protocol):
    """What a section module provides (modules satisfy this protocol structurally)."""

    TRUTH: dict[str, Truth]

    def routes(self, now: float) -> list[BaseRoute]: ...


SECTIONS: tuple[Section, ...] = (sites, services, columns, boards, linkfarm)


def ground_truth() -> dict[str, Truth]:
    """Every demo channel's expected verdict, from all sections."""
    merged: dict[str, Truth] = {}
    for section in SECTIONS:
        clash = merged.keys() & section.TRUTH.keys()
        if clash:
            raise ValueError(f"channels declared by two sections: {sorted(clash)}")
        merged.update(section.TRUTH)
    return merged


def build_app(now: float | None = None) -> Starlette:
    """The portal app: every section's routes and an index page linking them."""
    today = time.time() if now is None else now
    routes: list[BaseRoute] = []
    index: list[tuple[str, list[tuple[str, str]]]] = []
    taken: set[str] = {"/"}
    for section in SECTIONS:
        section_routes = section.routes(today)
        for route in section_routes:
            path = getattr(route, "path", "")
            if path in taken:
                raise ValueError(f"path {path!r} is served by two sections")
            taken.add(path)
        routes.extend(section_routes)
        heading = _first_line(getattr(section, "__doc__", None)).split(":")[0]
        index.append((heading, list(_links(section_routes))))
    page = _index_page(index)

    async def home(request: Request) -> Response:
        return HTMLResponse(page)

    app = Starlette(routes=[Route("/", home), *routes])
    app.state.now = today  # the portal's today, for whoever serves it
    return app


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n\n")[0].replace("\n", " ")


def _links(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path, title) of every GET page without path parameters, titled by its docstring."""
    for route in routes:
        if isinstance(route, Mount):
            yield from _links(route.routes, prefix + route.path)
        elif isinstance(route, Route) and "{" not in route.path and "GET" in (route.methods or ()):
            yield prefix + route.path, _first_line(route.endpoint.__doc__) or route.name


def _index_page(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    parts = []
    for heading, links in sections:
        items = "".join(
            f'<li><a href="{html.escape(path)}">{html.escape(title)}</a></li>'
            for path, title in links
        )
        parts.append(f"<h2>{html.escape(heading)}</h2><ul>{items}</ul>")
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>模拟政府门户（zombie-probes 演示）</title></head><body>"
        f"<h1>模拟政府门户</h1>{''.join(parts)}</body></html>"
    )


@dataclass(frozen=True, slots=True)
class RunningPortal:
    """A portal being served: where it is and what its today is."""

    base_url: str
    now: float
    app: Starlette


class _EmbeddedServer(uvicorn.Server):
    # The portal runs inside someone else's event loop (tests, `zombie-probes demo`), whose
    # owner handles signals; uvicorn must not take SIGINT/SIGTERM over.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def run_portal(
    host: str = "127.0.0.1", port: int = 0, now: float | None = None
) -> AsyncIterator[RunningPortal]:
    """Serve the portal in the current event loop until the block exits.

    The socket is bound here, so `port=0` picks a free port and the URL is known before the
    first request; a port already in use raises `OSError` at once.
    """
    app = build_app(now)
    async with serve_app(app, host, port, name="demo-portal") as base_url:
        yield RunningPortal(base_url, float(app.state.now), app)


@contextlib.asynccontextmanager
async def serve_app(
    app: Starlette, host: str = "127.0.0.1", port: int = 0, *, name: str = "http-server"
) -> AsyncIterator[str]:
    """Serve `app` over HTTP in the current event loop until the block exits; yields its
    base URL (`port=0`: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    config = uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,  # leave the embedding program's logging setup alone
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=name)
    try:
        while not server.started:
            if task.done():
                await task
                raise RuntimeError(f"{name} stopped while starting")
            await asyncio.sleep(0.005)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        yield f"http://{shown}:{bound}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _serve_forever(host: str, port: int) -> None:
    async with run_portal(host, port) as portal:
        print(f"simulated government portal on {portal.base_url}/ (Ctrl-C stops it)")
        for name, truth in sorted(ground_truth().items()):
            print(f"  {name:24} expected {truth.state.value:8} {truth.note}")
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m probes.demo.portal", description="Serve the simulated portal."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9780)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.host, args.port))


if __name__ == "__main__":
    main()
