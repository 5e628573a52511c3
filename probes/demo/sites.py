"""Availability section of the simulated portal: bureau websites that are up, down, slow,
soft-erroring, GBK-encoded or redirecting in a loop, under `/sites/`.

Each site is one channel of `config/demo.yaml` (names `demo-*`); `TRUTH` says what the
monitor must conclude after one probe of each. One more channel, `demo-closed-port`, points
at `http://127.0.0.1:1/`, which nothing serves: its failure is a refused connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from probes.demo.truth import Truth
from probes.model import State

CITY = "云泽市"
BEIJING = timezone(timedelta(hours=8))
# Longer than any timeout the demo config sets, short enough that a patient client sees it.
SLOW_SECONDS = 20.0
# GBK-only characters (absent from GB2312): a decoder that trusts the gb2312 label
# strictly turns them into garbage or fails, which is the trap this site sets.
GBK_ONLY_TITLE = "镕城古镇文化旅游节 - 云泽市文化广电旅游局"

_UNREACHABLE = frozenset({"site_unreachable"})
TRUTH: dict[str, Truth] = {
    "demo-home": Truth(State.OK, note="healthy UTF-8 home page"),
    "demo-gbk": Truth(State.OK, note="healthy page labelled gb2312 with GBK-only characters"),
    "demo-error500": Truth(State.ZOMBIE, _UNREACHABLE, note="HTTP 500"),
    "demo-slow": Truth(State.ZOMBIE, _UNREACHABLE, note="answers after the deadline"),
    "demo-maintenance": Truth(State.ZOMBIE, _UNREACHABLE, note="HTTP 200 系统维护中 page"),
    "demo-missing": Truth(State.ZOMBIE, _UNREACHABLE, note="HTTP 200 页面不存在 page"),
    "demo-redirect-loop": Truth(State.ZOMBIE, _UNREACHABLE, note="redirects in a loop"),
    "demo-closed-port": Truth(State.ZOMBIE, _UNREACHABLE, note="connection refused"),
}


def _day(now: float, days_ago: int) -> datetime:
    return datetime.fromtimestamp(now, BEIJING) - timedelta(days=days_ago)


def _page(title: str, body: str, charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{title}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"</head>\n<body>\n{body}\n"
        '<div class="footer"><p>主办：云泽市人民政府办公室　承办：云泽市大数据中心</p>'
        "<p>网站标识码：3399000001　云ICP备05001234号</p></div>\n</body>\n</html>\n"
    )


# (days ago, article number, headline) of the home page's news column.
_NEWS = (
    (0, 1041, "云泽市召开2026年第四季度经济运行分析会"),
    (1, 1038, "市政府常务会议研究部署冬季安全生产工作"),
    (3, 1032, "我市12345政务服务便民热线第三季度办理情况通报"),
    (6, 1025, "云泽市进一步优化营商环境若干措施政策解读"),
    (9, 1019, "市领导调研城乡居民医疗保险参保工作"),
)


def _article_slug(now: float, days_ago: int, number: int) -> str:
    return f"t{_day(now, days_ago):%Y%m%d}_{number}"


def _home(now: float) -> str:
    today = _day(now, 0)
    weekday = "一二三四五六日"[today.weekday()]
    items = "\n".join(
        f'<li><a href="/sites/home/art/{_article_slug(now, d, n)}.html" target="_blank">'
        f"{headline}</a><span>{_day(now, d):%Y-%m-%d}</span></li>"
        for d, n, headline in _NEWS
    )
    body = (
        '<div class="top"><span class="date">今天是'
        f"{today.year}年{today.month}月{today.day}日 星期{weekday}</span>"
        '<a href="/sites/home/">无障碍</a> <a href="/sites/home/">长者模式</a></div>\n'
        f'<div class="header"><h1>{CITY}人民政府</h1></div>\n'
        '<ul class="nav"><li><a href="/sites/home/">首页</a></li><li>政务公开</li>'
        "<li>政务服务</li><li>互动交流</li><li>走进云泽</li></ul>\n"
        f'<div class="news"><h2>政务要闻</h2><ul>\n{items}\n</ul></div>\n'
        '<div class="links"><h2>部门网站</h2><a href="/sites/gbk/">市文化广电旅游局</a></div>'
    )
    return _page(f"{CITY}人民政府门户网站", body)


def _article(now: float, slug: str) -> str | None:
    for d, n, headline in _NEWS:
        if _article_slug(now, d, n) == slug:
            body = (
                f'<div class="article"><h1>{headline}</h1>'
                f'<p class="info">发布时间：{_day(now, d):%Y-%m-%d %H:%M}　来源：市政府办公室</p>'
                f"<p>{headline}。会议要求，各地各部门要坚持问题导向，压实工作责任，"
                "确保各项任务落地见效。</p></div>"
            )
            return _page(f"{headline}_{CITY}人民政府", body)
    return None


def _gbk_home(now: float) -> bytes:
    body = (
        f"<h1>{CITY}文化广电旅游局</h1>\n<ul>"
        f"<li>镕城古镇文化旅游节开幕<span>{_day(now, 2):%Y-%m-%d}</span></li>"
        f"<li>副局长李堃带队检查A级旅游景区安全生产<span>{_day(now, 5):%Y-%m-%d}</span></li>"
        f"<li>喆园非物质文化遗产展示周活动预告<span>{_day(now, 8):%Y-%m-%d}</span></li></ul>"
    )
    return _page(GBK_ONLY_TITLE, body, charset="gb2312").encode("gbk")


def routes(now: float) -> list[BaseRoute]:
    """The availability sites, dated relative to `now` (the portal's today)."""

    async def home(request: Request) -> Response:
        """云泽市人民政府门户网站（正常，UTF-8）"""
        return HTMLResponse(_home(now))

    async def article(request: Request) -> Response:
        """政务要闻文章"""
        page = _article(now, str(request.path_params["slug"]))
        if page is None:
            return HTMLResponse(_page("404 Not Found", "<h1>404 Not Found</h1>"), 404)
        return HTMLResponse(page)

    async def error500(request: Request) -> Response:
        """云泽市教育局（HTTP 500）"""
        return HTMLResponse(
            "<html><head><title>500 Internal Server Error</title></head><body>"
            "<center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center>"
            "</body></html>",
            500,
        )

    async def slow(request: Request) -> Response:
        """云泽市市场监督管理局（响应超时）"""
        # Wait out SLOW_SECONDS unless the client hangs up first, so an abandoned request
        # does not keep a task alive (and server shutdown waiting) for the full delay.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SLOW_SECONDS):
                while (await request.receive())["type"] != "http.disconnect":
                    pass
        return HTMLResponse(_page(f"{CITY}市场监督管理局", f"<h1>{CITY}市场监督管理局</h1>"))

    async def maintenance(request: Request) -> Response:
        """云泽市人力资源和社会保障局（系统维护中，HTTP 200）"""
        until = _day(now, -1)
        body = (
            '<div class="notice"><h1>系统维护中</h1><p>尊敬的用户：为提供更优质的服务，'
            f"本网站正在进行系统升级维护，预计于{until.month}月{until.day}日8:00恢复访问。"
            "给您带来的不便，敬请谅解！</p></div>"
        )
        return HTMLResponse(_page("系统维护中", body))

    async def missing(request: Request) -> Response:
        """云泽市住房和城乡建设局（页面不存在，HTTP 200）"""
        body = (
            '<div class="error"><h1>抱歉，您访问的页面不存在或已被删除！</h1>'
            '<p><a href="/sites/home/">返回首页</a></p></div>'
        )
        return HTMLResponse(_page("页面不存在", body))

    async def gbk(request: Request) -> Response:
        """云泽市文化广电旅游局（GBK 编码，标注 gb2312）"""
        return Response(_gbk_home(now), media_type="text/html; charset=gb2312")

    async def loop_a(request: Request) -> Response:
        """云泽市自然资源和规划局（重定向循环）"""
        return RedirectResponse("/sites/loop/index.html", 302)

    async def loop_b(request: Request) -> Response:
        """重定向循环（第二跳）"""
        return RedirectResponse("/sites/loop/", 302)

    return [
        Mount(
            "/sites",
            routes=[
                Route("/home/", home),
                Route("/home/art/{slug}.html", article),
                Route("/error500/", error500),
                Route("/slow/", slow),
                Route("/maintenance/", maintenance),
                Route("/missing/", missing),
                Route("/gbk/", gbk),
                Route("/loop/", loop_a),
                Route("/loop/index.html", loop_b),
            ],
        )
    ]
