"""The human pages of the HTTP server, in Chinese and English: the status page at `/`
(every channel with its owner, title, state, since when, reasons and a link to its
history), a channel's history at `/history?channel=NAME`, and a stored evidence page at
`/history/page?channel=NAME&id=ID`.

Nothing on these pages runs a check: they read what the monitor already knows (the
verdicts in memory, the evidence history in the state file), so a crawler or an open tab
costs nothing and probes no government site. The status page reloads itself every minute.
A stored page is served with `Content-Security-Policy: sandbox`, so scripts in it never
run in the monitor's origin.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from urllib.parse import quote
from zoneinfo import ZoneInfo

from probes.config import ChannelConfig
from probes.config.types import local_time
from probes.model import State
from probes.runtime.status import MonitorStatus
from probes.state.evidence import StateChange

REFRESH_SECONDS = 60
SHOW_ALL_UP_TO = 1000  # channels; beyond, ok ones are listed only on request
STATE_NAMES = {
    State.ZOMBIE: "僵尸 zombie",
    State.DEGRADED: "预警 degraded",
    State.UNKNOWN: "未知 unknown",
    State.OK: "正常 ok",
}
KIND_NAMES = {
    "website": "网站 website",
    "service": "在线办事 service",
    "board": "留言板 board",
    "hotline": "热线 hotline",
}
# Worst first, as an inspector reads the page.
ORDER = {State.ZOMBIE: 0, State.DEGRADED: 1, State.UNKNOWN: 2, State.OK: 3}
STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;
color:#1f2328}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d0d7de;padding:.4em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}.state{font-weight:600;white-space:nowrap;border-radius:4px;
padding:.1em .5em}.zombie{background:#cf222e;color:#fff}.degraded{background:#bf8700;
color:#fff}.unknown{background:#6e7781;color:#fff}.ok{background:#1a7f37;color:#fff}
.maint{background:#0969da;color:#fff;border-radius:4px;padding:.1em .4em;font-size:.85em;
white-space:nowrap}
.reasons{margin:0;padding-left:1.1em}.muted{color:#656d76}code{font-size:.9em}
.summary span{margin-right:1.2em}
"""


def _time(ts: float | None, tz: ZoneInfo) -> str:
    return "—" if ts is None else local_time(ts, tz, "minutes")


def _page(title: str, body: str, refresh: bool = False) -> str:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def status_page(
    status: MonitorStatus,
    since: Callable[[str], tuple[State, float] | None],
    now: float,
    show_all: bool,
) -> str:
    """The status page of this replica's channels: every one, or when there are more than
    `SHOW_ALL_UP_TO` only those that are not ok (unless `show_all`), so a national
    replica's page stays small; `since` gives a channel's recorded state and when it
    entered it (shown when it is the state the page shows)."""
    rows, counts = [], dict.fromkeys(State, 0)
    listed = len(status.channels) <= SHOW_ALL_UP_TO or show_all
    verdicts = status.verdicts

    def state_of(channel: ChannelConfig) -> State:
        verdict = verdicts.get(channel.name)
        return verdict.state if verdict else State.UNKNOWN

    for channel in sorted(status.channels.values(), key=lambda c: (ORDER[state_of(c)], c.name)):
        state = state_of(channel)
        counts[state] += 1
        if state is State.OK and not listed:
            continue
        verdict = verdicts.get(channel.name)
        reasons = [(r.code, r.detail) for r in verdict.reasons] if verdict else []
        tz = channel.zone
        held = since(channel.name)
        when = _time(held[1], tz) if held and held[0] is state else "—"
        window = channel.maintenance_at(now)
        maint = (
            f' <span class="maint" title="{escape(window.reason)}">维护中 maintenance</span>'
            if window is not None
            else ""
        )
        items = "".join(
            f"<li><code>{escape(code)}</code> {escape(detail)}</li>" for code, detail in reasons
        )
        link = f"/history?channel={quote(channel.name)}"
        rows.append(
            "<tr>"
            f"<td>{escape(channel.title or channel.name)}<br>"
            f'<span class="muted"><code>{escape(channel.name)}</code></span></td>'
            f"<td>{escape(channel.owner)}</td><td>{escape(KIND_NAMES[channel.kind])}</td>"
            f'<td><span class="state {state.value}">{STATE_NAMES[state]}</span>{maint}</td>'
            f"<td>{when}</td>"
            f'<td><ul class="reasons">{items}</ul></td>'
            f'<td><a href="{escape(link)}">历史 history</a></td>'
            "</tr>"
        )
    summary = "".join(
        f'<span><span class="state {s.value}">{STATE_NAMES[s]}</span> {counts[s]}</span>'
        for s in ORDER
    )
    hidden = (
        ""
        if listed
        else '<p>正常的渠道未列出 ok channels not listed: <a href="/?all=1">全部 show all</a></p>'
    )
    body = (
        "<h1>政务服务渠道状态 · Government service channels</h1>"
        f'<p class="summary">{summary}</p>{hidden}'
        f'<p class="muted">本页每 {REFRESH_SECONDS} 秒自动刷新，只显示已有结果，不会触发检查。'
        f" Refreshes every {REFRESH_SECONDS} s; shows results the monitor already has and "
        'never runs a check. <a href="/metrics">/metrics</a></p>'
        "<table><thead><tr><th>渠道 Channel</th><th>主办单位 Owner</th><th>类型 Kind</th>"
        "<th>状态 State</th><th>起始时间 Since</th><th>原因 Reasons</th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return _page("政务服务渠道状态 · zombie-probes", body, refresh=True)


def history_page(channel: ChannelConfig, changes: list[StateChange]) -> str:
    """A channel's timeline, newest first, with links to the stored pages."""
    tz = channel.zone
    entries = []
    for change in reversed(changes):
        was = STATE_NAMES[change.from_state] if change.from_state else "—"
        reasons = "".join(
            f"<li><code>{escape(r.code)}</code> {escape(r.detail)}</li>" for r in change.reasons
        )
        checks = "".join(
            f"<li><b>{escape(c.check)}</b> {_time(c.started, tz)}: "
            f"{escape(c.error or ('ok' if c.success else 'could not tell'))}"
            + "".join(f"<br><span class='muted'>{escape(e)}</span>" for e in c.evidence)
            + "</li>"
            for c in change.checks
        )
        pages = "".join(
            f'<li><a href="/history/page?channel={quote(channel.name)}&amp;id={p.id}">'
            f"{escape(p.url)}</a> HTTP {p.status}, {p.size} bytes</li>"
            for p in change.pages
        )
        entries.append(
            f"<tr><td>{_time(change.ts, tz)}</td><td>{was} → "
            f'<span class="state {change.to_state.value}">{STATE_NAMES[change.to_state]}</span>'
            f'</td><td><ul class="reasons">{reasons}</ul></td>'
            f'<td><ul class="reasons">{checks}</ul></td>'
            f'<td><ul class="reasons">{pages}</ul></td></tr>'
        )
    rows = "".join(entries) or '<tr><td colspan="5">尚无状态变化 no state change yet</td></tr>'
    title = channel.title or channel.name
    body = (
        f"<h1>{escape(title)} · 状态历史 history</h1>"
        f'<p><a href="/">← 全部渠道 all channels</a> · {escape(channel.owner)} · '
        f"<code>{escape(channel.name)}</code></p>"
        "<table><thead><tr><th>时间 Time</th><th>变化 Change</th><th>原因 Reasons</th>"
        "<th>证据 Evidence</th><th>页面 Pages</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    return _page(f"{title} · history", body)
