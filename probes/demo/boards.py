"""Message boards of the simulated portal (留言板, 市长信箱), dated relative to the portal's
today, each with list pages and a page per message:

- `board-healthy`: answered within days with real answers; two pages linked by 下一页,
  rows auto-detected.
- `board-mayor`: three pages by `?page=N`, configured selectors; answered, answered late,
  one message overdue and one unanswered for four months (the veto).
- `board-boilerplate`: GBK-encoded; most replies are "留言已收悉，已转相关部门" templates,
  which answer nothing: the messages they reply to are still in progress (overdue).
- `board-silent`: messages keep arriving, none answered for over a month.
- `board-broken`: the list page was redesigned and shows no messages at all.

Paths live under `/boards/`; `config/demo.yaml` holds the matching channels.
"""

# The message tables below keep one message per line: a reply split over lines reads worse.
# ruff: noqa: E501

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from probes.demo.truth import Truth
from probes.model import State
from probes.pages.dates import CN_TZ

DAY = 86400.0
PAGE_SIZE = 5


@dataclass(frozen=True, slots=True)
class DemoMessage:
    """A message `posted` days before the portal's today, answered `replied` days before
    it (None: waiting) with `reply`."""

    id: int
    title: str
    posted: float
    replied: float | None = None
    reply: str = ""


TRUTH: dict[str, Truth] = {
    "board-healthy": Truth(State.OK, note="answered within days, real answers, 2 pages"),
    "board-mayor": Truth(
        State.ZOMBIE, frozenset({"board_unanswered", "board_overdue"}),
        "a message unanswered for 4 months on page 3, another overdue",
    ),
    "board-boilerplate": Truth(
        State.DEGRADED, frozenset({"board_boilerplate", "board_overdue"}),
        "GBK; 5 of 8 replies are templates that answer nothing (those messages are overdue)",
    ),
    "board-silent": Truth(
        State.DEGRADED, frozenset({"board_silent", "board_overdue"}),
        "4 messages this month, no reply for two months",
    ),
    "board-broken": Truth(
        State.UNKNOWN, frozenset({"evidence_missing"}), "redesigned page: no messages found"
    ),
}  # fmt: skip

HEALTHY = (
    DemoMessage(101, "城南路段路灯不亮", 0.1),
    DemoMessage(102, "幼儿园入园报名材料咨询", 3, 2, "入园报名需提供户口簿、房产证明或租赁备案及儿童预防接种证，报名时间为每年5月10日至20日，可在教育局网站在线提交。"),
    DemoMessage(103, "建议增开12路公交夜班车", 6, 4.5, "经公交集团调研客流，12路将于下月起试行夜班，末班车延至22:30，试行三个月后根据客流评估是否常态化。"),
    DemoMessage(104, "小区垃圾清运不及时", 10, 9, "环卫所已核实该小区清运车辆故障情况，已调配备用车辆，每日清运两次，并在小区公示清运时间和监督电话。"),
    DemoMessage(105, "医保异地备案如何办理", 15, 14, "异地就医备案可通过国家医保服务平台APP办理，选择异地就医备案，填写参保地和就医地信息，即时生效，无需到窗口。"),
    DemoMessage(106, "菜市场周边占道经营", 21, 19.5, "城管中队已对菜市场周边开展整治，划定临时疏导点12处，占道经营摊点已全部入点经营，将持续巡查防止反弹。"),
    DemoMessage(107, "老旧小区加装电梯补贴标准", 30, 28, "加装电梯每台补贴20万元，申请需三分之二以上业主同意，材料报街道初审后由住建局复核，资金在竣工验收后拨付。"),
    DemoMessage(108, "学校门口交通拥堵", 45, 44, "交警大队已在学校门口增设上下学时段临时停车泊位，并安排警力早晚高峰值守，同时协调学校错峰放学。"),
    DemoMessage(109, "公园健身器材损坏", 60, 59, "园林处已更换损坏的单杠和漫步机共4件，并将该公园健身器材纳入每月安全巡检，发现问题可拨打园林处热线报修。"),
    DemoMessage(110, "社区卫生服务中心疫苗预约", 90, 88, "九价疫苗预约已开放，可通过健康云泽小程序选择社区卫生服务中心预约，每周二、四上午接种，需携带身份证。"),
)  # fmt: skip

MAYOR = (
    DemoMessage(201, "物业费上涨未经业主大会", 1, 0.5, "住建局已约谈该物业公司，涨价方案未经业主大会表决无效，已责令恢复原收费标准并退还多收费用。"),
    DemoMessage(202, "工地夜间施工噪音扰民", 4, 3, "生态环境局已对该工地夜间施工开展执法检查，查实未办理夜间施工许可，已立案处罚并责令停止夜间作业。"),
    DemoMessage(203, "农民工工资被拖欠三个月", 20),  # overdue
    DemoMessage(204, "申请廉租房进度查询", 25, 24, "您的申请已通过街道和民政审核，目前处于住建局公示阶段，公示期满无异议后将于下月安排配租。"),
    DemoMessage(205, "道路修缮后井盖下沉", 33, 5, "市政处已对下沉井盖进行重新加固找平，并对该路段其他井盖逐一排查，共处理隐患井盖7处。"),  # late
    DemoMessage(206, "公租房维修无人管", 40, 39, "房管所已安排维修人员上门更换漏水管道，后续报修可拨打房管所24小时热线，承诺两日内上门。"),
    DemoMessage(207, "河道漂浮物多有异味", 50, 48, "水务局已组织河道保洁队伍每日打捞漂浮物，并排查沿河排污口，对两处违规排污口已责令整改。"),
    DemoMessage(208, "新能源车充电桩不足", 65, 63, "发改委已将该片区纳入今年充电设施建设计划，将新建公共充电桩40个，预计年内投入使用。"),
    DemoMessage(209, "违建阳光房影响采光", 80, 78, "城管执法局已现场核查，该阳光房属违法建设，已下达限期拆除通知书，逾期未拆将依法强制拆除。"),
    DemoMessage(210, "企业开办流程繁琐", 100, 98, "市场监管局已推行企业开办一网通办，营业执照、公章刻制、税务登记一日办结，可登录政务服务网办理。"),
    DemoMessage(211, "村道破损严重影响出行", 121),  # unanswered for four months: the veto
    DemoMessage(212, "社保卡补办需要多久", 130, 128, "社保卡补办可在各合作银行网点即时制卡，携带身份证现场办理，工本费按规定免收。"),
)  # fmt: skip

_TEMPLATE = "您好！您的留言已收悉，已转相关部门办理，敬请关注后续回复。感谢您的关注！"
BOILERPLATE = (
    DemoMessage(301, "景区门票价格过高", 2, 1, _TEMPLATE),
    DemoMessage(302, "公交站台缺少遮雨棚", 5, 4, "网友您好！" + _TEMPLATE),
    DemoMessage(303, "图书馆开放时间太短", 9, 8, _TEMPLATE),
    DemoMessage(304, "博物馆预约系统难用", 14, 13, "您好，您的意见很好，我们高度重视，已转相关部门。"),
    DemoMessage(305, "文化馆培训班报名", 20, 19, "尊敬的网友：" + _TEMPLATE),
    DemoMessage(306, "广场舞噪音扰民", 26, 25, "文旅局已联合街道划定广场舞活动区域和时段，晚间音响音量不得超过60分贝，已安排人员每晚巡查。"),
    DemoMessage(307, "非遗展演活动信息", 33, 32, "非遗展演将于本月在市文化馆举行，共安排剪纸、木雕等12个项目，可在文化云泽公众号预约免费参观。"),
    DemoMessage(308, "古城墙修缮进度", 41, 40, "古城墙东段修缮已完成主体加固，预计下月底完工后对游客开放，施工期间请绕行北门。"),
)  # fmt: skip

SILENT = (
    DemoMessage(401, "小区停车位被长期占用", 3),
    DemoMessage(402, "楼道照明损坏无人修", 8),
    DemoMessage(403, "二次供水水质发黄", 15),
    DemoMessage(404, "电梯频繁故障困人", 25),
    DemoMessage(405, "快递柜收费不合理", 70, 68, "邮政管理局已约谈快递柜运营企业，超时收费标准已调整为免费保管24小时，超时后每12小时收费0.5元。"),
)  # fmt: skip


def routes(now: float) -> list[BaseRoute]:
    """The boards' routes, dated relative to the portal's today `now`."""
    return [
        *_board("healthy", HEALTHY, now, _table_page, paging="next"),
        *_board("mayor", MAYOR, now, _table_page, paging="template"),
        *_board("boilerplate", BOILERPLATE, now, _gbk_list_page, paging="none", gbk=True),
        *_board("silent", SILENT, now, _table_page, paging="none"),
        Route("/boards/broken/list", _broken),
    ]


def when(now: float, days_before: float) -> str:
    """A board's spelling of a time `days_before` the portal's today, in China time."""
    return dt.datetime.fromtimestamp(now - days_before * DAY, CN_TZ).strftime("%Y-%m-%d %H:%M")


def _board(
    name: str,
    messages: Sequence[DemoMessage],
    now: float,
    render: object,
    *,
    paging: str,
    gbk: bool = False,
) -> list[BaseRoute]:
    by_id = {m.id: m for m in messages}
    size = len(messages) if paging == "none" else PAGE_SIZE

    async def list_page(request: Request) -> Response:
        """留言列表"""
        page = int(request.query_params.get("page", "1") or 1)
        shown = messages[(page - 1) * size : page * size]
        has_next = page * size < len(messages)
        next_link = f"list?page={page + 1}" if paging == "next" and has_next else None
        assert callable(render)
        body = render(name, shown, now, next_link)
        return _respond(body, gbk)

    async def message_page(request: Request) -> Response:
        message = by_id.get(int(request.path_params["mid"]))
        if message is None:
            return HTMLResponse("<p>留言不存在</p>", status_code=404)
        return _respond(detail_page(message, now, "gbk" if gbk else "utf-8"), gbk)

    return [
        Route(f"/boards/{name}/list", list_page),
        Route(f"/boards/{name}/msg/{{mid:int}}", message_page),
    ]


def _respond(body: str, gbk: bool) -> Response:
    if gbk:
        return Response(body.encode("gbk"), headers={"content-type": "text/html; charset=GBK"})
    return HTMLResponse(body)


def _status(m: DemoMessage) -> str:
    return "已回复" if m.replied is not None else "办理中"


def _table_page(name: str, shown: Sequence[DemoMessage], now: float, nxt: str | None) -> str:
    rows = "".join(
        f'<tr><td class="no">{m.id}</td><td class="title"><a href="msg/{m.id}">'
        f'{html.escape(m.title)}</a></td><td class="posted">{when(now, m.posted)}</td>'
        f'<td class="status">{_status(m)}</td>'
        f'<td class="replied">{when(now, m.replied) if m.replied is not None else ""}</td></tr>'
        for m in shown
    )
    pager = f'<a class="next" href="{nxt}">下一页</a>' if nxt else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>网上留言</title></head><body>'
        '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="list">留言列表</a>'
        '</li></ul></div><table class="letters"><thead><tr><th>编号</th><th>标题</th>'
        f"<th>留言时间</th><th>状态</th><th>回复时间</th></tr></thead><tbody>{rows}</tbody>"
        f"</table>{pager}</body></html>"
    )


def _gbk_list_page(name: str, shown: Sequence[DemoMessage], now: float, nxt: str | None) -> str:
    items = "".join(
        f'<li><span class="st">[{_status(m)}]</span> <a href="msg/{m.id}">'
        f"{html.escape(m.title)}</a> <em>{when(now, m.posted)[:10]}</em></li>"
        for m in shown
    )
    return (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; '
        'charset=gbk"><title>局长信箱</title></head><body><ul class="menu"><li><a href="/">'
        f'首页</a></li></ul><ul class="mail">{items}</ul></body></html>'
    )


def detail_page(m: DemoMessage, now: float, charset: str = "utf-8") -> str:
    """A message's own page: the message, and the reply block once answered."""
    reply = ""
    if m.replied is not None:
        reply = (
            f'<div class="reply"><p class="reply-time">答复时间：{when(now, m.replied)}</p>'
            f'<div class="reply-body">{html.escape(m.reply)}</div></div>'
        )
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>留言详情</title></head>'
        f"<body><h1>{html.escape(m.title)}</h1><p>留言时间：{when(now, m.posted)}</p>"
        f'<p class="status">状态：{_status(m)}</p>{reply}</body></html>'
    )


async def _broken(request: Request) -> Response:
    """改版后的留言页（无留言）"""
    return HTMLResponse(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>互动交流</title></head><body>'
        '<ul><li><a href="/">首页</a></li><li><a href="/boards/">互动交流</a></li></ul>'
        '<div id="app">正在加载…</div><script src="/static/app.js"></script></body></html>'
    )
