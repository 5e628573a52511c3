"""The HTTP endpoints: `/metrics` (`?detail=true|false`, see `probes.runtime.exposition`),
`/probe?channel=NAME`, `/-/healthy`, `/-/ready`, `POST /-/reload`, and the human pages
(`/` status, `/history`; see `statuspage`).

`/probe` runs only channels from the configuration: any other parameter (a `target=` URL
as blackbox_exporter takes) is refused with 400 and nothing is fetched, so the monitor can
never be turned into an open proxy or a scanner of internal addresses.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from probes.runtime.monitor import Monitor
from probes.runtime.statuspage import history_page, status_page
from probes.state import evidence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def build_app(monitor: Monitor) -> Starlette:
    async def metrics(request: Request) -> Response:
        # The headline by default; ?detail=true adds the per-column/step series for this
        # scrape (a second, slower scrape job), ?detail=false leaves them out.
        params = request.query_params
        extra = sorted(set(params) - {"detail"})
        detail = params.get("detail", "").lower()
        if extra or detail not in ("", "true", "false"):
            return PlainTextResponse(
                "/metrics takes only ?detail=true or ?detail=false\n", status_code=400
            )
        body = monitor.metrics(None if not detail else detail == "true")
        return StreamingResponse(body, media_type=CONTENT_TYPE)

    async def probe(request: Request) -> Response:
        params = request.query_params
        extra = sorted(set(params) - {"channel"})
        if extra:
            return PlainTextResponse(
                f"unsupported parameter(s): {', '.join(extra)}; /probe runs configured "
                "channels only: /probe?channel=NAME\n",
                status_code=400,
            )
        name = params.get("channel", "")
        if not name:
            return PlainTextResponse("missing ?channel=NAME\n", status_code=400)
        body = await monitor.probe(name)
        if body is None:
            return PlainTextResponse(f"unknown channel {name!r}\n", status_code=404)
        return Response(body, media_type=CONTENT_TYPE)

    async def healthy(request: Request) -> Response:
        return PlainTextResponse("OK\n")

    async def ready(request: Request) -> Response:
        health = monitor.rt.store.health
        if monitor.status.ready and not health.failing:
            return PlainTextResponse("OK\n")
        if health.failing:  # results are kept and written once the file takes writes again
            return PlainTextResponse(f"not ready: {health.reason}\n", status_code=503)
        return PlainTextResponse("not ready\n", status_code=503)

    async def reload(request: Request) -> Response:
        ok, message = await monitor.reload()
        return PlainTextResponse(message + "\n", status_code=200 if ok else 400)

    async def index(request: Request) -> Response:
        changes = monitor.scheduler.changes
        since = changes.since if changes is not None else (lambda _name: None)
        show_all = request.query_params.get("all") == "1"
        page = status_page(monitor.status, since, monitor.rt.clock.now(), show_all)
        return HTMLResponse(page)

    async def history(request: Request) -> Response:
        channel = monitor.status.channels.get(request.query_params.get("channel", ""))
        if channel is None:
            return PlainTextResponse("unknown channel\n", status_code=404)
        since = monitor.rt.clock.now() - monitor.config.global_.evidence.retention
        return HTMLResponse(
            history_page(channel, evidence.timeline(monitor.rt.store, channel.name, since))
        )

    async def stored_page(request: Request) -> Response:
        name = request.query_params.get("channel", "")
        raw_id = request.query_params.get("id", "")
        found = None
        if name in monitor.status.channels and raw_id.isdigit():
            found = evidence.page_body(monitor.rt.store, name, int(raw_id))
        if found is None:
            return PlainTextResponse("no such stored page\n", status_code=404)
        page, body = found
        ctype = page.content_type or "application/octet-stream"
        return Response(
            body,
            media_type=f"{ctype}; charset={page.encoding}" if ctype.startswith("text/") else ctype,
            headers={"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"},
        )

    return Starlette(
        routes=[
            Route("/", index),
            Route("/history", history),
            Route("/history/page", stored_page),
            Route("/metrics", metrics),
            Route("/probe", probe),
            Route("/-/healthy", healthy, methods=["GET", "HEAD"]),
            Route("/-/ready", ready, methods=["GET", "HEAD"]),
            Route("/-/reload", reload, methods=["POST", "PUT"]),
        ]
    )
