"""Links section of the simulated portal: a page whose links all work and one with dead
links, under `/links/`.

The healthy page links pages, an image, a stylesheet, a script and a PDF attachment, and
one link that refuses HEAD (405) but answers GET, as some government CMSs do. The dead
page adds a missing internal page (404), a failing one (500), a missing image and an
external link to a port nothing listens on. `BROKEN` is what the links check must report.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from probes.demo.truth import Truth
from probes.model import State

TRUTH: dict[str, Truth] = {
    "demo-links-ok": Truth(State.OK, note="every link works (one only answers GET)"),
    "demo-links-dead": Truth(
        State.DEGRADED, frozenset({"links_broken"}),
        note="internal 404 and 500 pages, a missing image, an unreachable external link",
    ),
}  # fmt: skip

_GOOD = (
    '<a href="/links/page/1.html">政务公开</a> <a href="/links/page/2.html#top">机构设置</a>'
    ' <a href="../page/1.html">重复链接</a>'
    ' <a href="/links/files/report.pdf">2024年工作报告.pdf</a>'
    ' <a href="/links/head-refused">办事指南（仅支持GET）</a>'
    ' <img src="/links/img/logo.png" alt="logo"><link rel="stylesheet" href="/links/css/site.css">'
    '<script src="/links/js/site.js"></script> <a href="javascript:void(0)">打印</a>'
    ' <a href="mailto:web@yz.gov.cn">联系我们</a> <a href="#main">跳到正文</a>'
)
_DEAD = (
    '<a href="/links/page/404.html">已删除的通知</a> <a href="/links/page/500.html">出错的栏目</a>'
    ' <img src="/links/img/missing.png" alt="缺图"> <a href="http://127.0.0.1:1/">友情链接（已失效）</a>'
)
# What the links check must find: (checked, broken, internal broken, external broken).
EXPECTED = {"demo-links-ok": (7, 0, 0, 0), "demo-links-dead": (11, 4, 3, 1)}


def _page(body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>云泽市链接测试'
        f"</title></head><body>{body}</body></html>"
    )


def routes(now: float) -> list[BaseRoute]:
    """The link pages (`now` is unused: links do not age)."""

    async def ok(request: Request) -> Response:
        """链接全部有效的页面"""
        return HTMLResponse(_page(_GOOD))

    async def dead(request: Request) -> Response:
        """含失效链接的页面"""
        return HTMLResponse(_page(_GOOD + _DEAD))

    async def target(request: Request) -> Response:
        """链接目标"""
        name = request.path_params["name"]
        if name in {"404.html", "missing.png"}:
            return HTMLResponse(_page("<h1>404 Not Found</h1>"), 404)
        if name == "500.html":
            return HTMLResponse(_page("<h1>500 Internal Server Error</h1>"), 500)
        return Response(b"ok " * 10, media_type="application/octet-stream")

    async def head_refused(request: Request) -> Response:
        """只接受 GET 的链接"""
        if request.method == "HEAD":
            return Response(status_code=405, headers={"allow": "GET"})
        return HTMLResponse(_page("<h1>办事指南</h1>"))

    return [
        Route("/links/ok/", ok),
        Route("/links/dead/", dead),
        Route("/links/head-refused", head_refused),
        Route("/links/{kind}/{name}", target, name="link-target"),
    ]
