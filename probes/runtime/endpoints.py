"""The HTTP endpoints: `/metrics` (`?detail=true|false`, see `probes.runtime.exposition`),
`/probe?channel=NAME`, `/-/healthy`, `/-/ready`, `POST /-/reload`, and an index page.

`/probe` runs only channels from the configuration: any other parameter (a `target=` URL
as blackbox_exporter takes) is refused with 400 and nothing is fetched, so the monitor can
never be turned into an open proxy or a scanner of internal addresses.
"""

from __future__ import annotations

from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from probes.runtime.monitor import Monitor

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
        rows = "".join(
            f"<tr><td><a href='/probe?channel={escape(v.channel)}'>{escape(v.channel)}</a>"
            f"</td><td>{escape(v.kind)}</td><td>{escape(v.state.value)}</td>"
            f"<td>{escape(v.summary)}</td></tr>"
            for v in sorted(monitor.status.verdicts.values(), key=lambda v: v.channel)
        )
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>zombie-probes</title>"
            "<h1>zombie-probes</h1><p><a href='/metrics'>/metrics</a></p>"
            "<table border=1><tr><th>channel</th><th>kind</th><th>state</th><th>why</th></tr>"
            f"{rows}</table>"
        )

    return Starlette(
        routes=[
            Route("/", index),
            Route("/metrics", metrics),
            Route("/probe", probe),
            Route("/-/healthy", healthy, methods=["GET", "HEAD"]),
            Route("/-/ready", ready, methods=["GET", "HEAD"]),
            Route("/-/reload", reload, methods=["POST", "PUT"]),
        ]
    )
