"""Online services of the simulated portal (在线办事), one per way a service dies:

- `svc-ok`: a working three-step transaction: a form page hands out a CSRF token in a hidden
  field and a session cookie; the submission needs both and answers JSON with an
  application id; the status page for that id says 已受理.
- `svc-step2`: the form page works, the submission answers HTTP 500.
- `svc-slow`: the query hangs far beyond the check's deadline.
- `svc-maint`: every page answers HTTP 200 with a "系统维护中" notice.

Paths live under `/services/`; `config/demo.yaml` holds the matching channels.
"""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from probes.demo.truth import Truth
from probes.model import State

# How long the hung service keeps a request: far past any demo check's deadline, short
# enough that a test server shuts down promptly.
HANG_SECONDS = 30.0
HANG_POLL = 0.1
_COOKIE = "JSESSIONID"

TRUTH: dict[str, Truth] = {
    "svc-ok": Truth(State.OK, note="three steps pass, token and cookie carried"),
    "svc-step2": Truth(
        State.DEGRADED, frozenset({"service_broken"}),
        "submission answers HTTP 500; zombie after 3 failed runs",
    ),
    "svc-slow": Truth(
        State.DEGRADED, frozenset({"service_broken"}),
        "query hangs past the deadline; zombie after 3 failed runs",
    ),
    "svc-maint": Truth(
        State.DEGRADED, frozenset({"service_broken"}),
        "HTTP 200 系统维护中 page; zombie after 3 failed runs",
    ),
}  # fmt: skip

_FORM = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><form method="post" action="submit">
<input type="hidden" name="csrf_token" value="{token}">
<label>身份证号 <input name="id_no"></label><button>查询</button></form></body></html>"""

_MAINT = """<!doctype html><html><head><meta charset="utf-8"><title>温馨提示</title></head>
<body><div class="notice">系统维护中，暂停服务，请稍后访问。</div></body></html>"""


async def _form(request: Request) -> dict[str, str]:
    # A urlencoded body read by hand: starlette's form parser needs python-multipart.
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {key: values[0] for key, values in fields.items()}


def routes(now: float) -> list[BaseRoute]:
    """The services' routes; `now` is unused (services do not age)."""
    del now
    tokens: dict[str, str] = {}  # session cookie -> CSRF token issued with the form

    async def form(request: Request) -> Response:
        session = secrets.token_hex(8)
        token = secrets.token_hex(12)
        tokens[session] = token
        response = HTMLResponse(_FORM.format(title="社保缴费查询", token=token))
        response.set_cookie(_COOKIE, session, httponly=True)
        return response

    async def submit_ok(request: Request) -> Response:
        posted = await _form(request)
        session = request.cookies.get(_COOKIE, "")
        if not session or tokens.get(session) != posted.get("csrf_token"):
            return JSONResponse({"code": 403, "msg": "会话已失效，请刷新页面"}, status_code=403)
        app_id = f"SB{len(tokens):06d}"
        return JSONResponse({"code": 0, "msg": "ok", "data": {"applyId": app_id}})

    async def status_ok(request: Request) -> Response:
        if request.cookies.get(_COOKIE) not in tokens:
            return HTMLResponse("<p>请先登录</p>", status_code=401)
        app_id = request.path_params["app_id"]
        return HTMLResponse(f"<p>申请编号 {app_id}：办理状态：已受理</p>")

    async def submit_500(request: Request) -> Response:
        await request.body()
        return HTMLResponse("<h1>500 Internal Server Error</h1>", status_code=500)

    async def hang(request: Request) -> Response:
        # Hold the request until the client gives up (or HANG_SECONDS pass), so stopping
        # the portal finds no request in flight to cancel.
        for _ in range(int(HANG_SECONDS / HANG_POLL)):
            if await request.is_disconnected():
                break
            await asyncio.sleep(HANG_POLL)
        return JSONResponse({"code": 0})

    async def maintenance(request: Request) -> Response:
        return HTMLResponse(_MAINT)

    return [
        Route("/services/ok/form", form),
        Route("/services/ok/submit", submit_ok, methods=["POST"]),
        Route("/services/ok/status/{app_id}", status_ok),
        Route("/services/step2/form", form),
        Route("/services/step2/submit", submit_500, methods=["POST"]),
        Route("/services/slow/query", hang),
        Route("/services/maint/form", maintenance),
    ]
