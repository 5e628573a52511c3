"""A register of sites (a bureau's 政府网站 list in a spreadsheet) turned into channel
configuration, saying what it could not map.

Headers are matched case-insensitively, Chinese or English:
- 网站名称, 名称, title, name: `title`;
- 主办单位, 责任单位, 主管单位, owner: `owner` (required);
- 首页网址, 网址, 网站地址, 首页地址, 域名, url: `url` (required; `http://` is added to a
  bare domain);
- 网站标识码, id, channel: the channel's name when it is a valid label, else from the URL;
- 行政区划, 所属地区, 地区, district: label `district`; 层级, 级别, 网站级别, level: label
  `level`; `label:KEY` or `标签:KEY`: label `KEY`;
- `栏目:ID` or `column:ID`, optionally `:CLASS` (news, notice, policy, home): a freshness
  column at the cell's URL; without a class it is taken from the id (通知/公告 notice,
  政策/文件 policy, 首页 home, else news).

Anything else is reported as not mapped; a row without a usable URL or owner is skipped and
reported with its row number. Names come from the URL (`xihu.gov.cn`, `portal.gov.cn-xihu`)
when no identifier column gives one; a name used twice gets `-2`, `-3`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from probes.config.types import label_value

FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("网站名称", "名称", "title", "name"),
    "owner": ("主办单位", "责任单位", "主管单位", "owner"),
    "url": ("首页网址", "网址", "网站地址", "首页地址", "域名", "url"),
    "id": ("网站标识码", "id", "channel"),
    "label:district": ("行政区划", "所属地区", "地区", "district"),
    "label:level": ("层级", "级别", "网站级别", "level"),
}
_CLASSES = ("news", "notice", "policy", "home")
_CLASS_HINTS = (("通知", "notice"), ("公告", "notice"), ("政策", "policy"), ("文件", "policy"),
                ("首页", "home"))  # fmt: skip
_NAME_JUNK = re.compile(r"[^\w.\-]+")


@dataclass
class Register:
    """The channels made from a register and what could not be used."""

    channels: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # headers
    skipped: list[str] = field(default_factory=list)  # "row N: why"

    def config(self) -> dict[str, Any]:
        """The configuration document (`global:` only when labels were found)."""
        doc: dict[str, Any] = {}
        if self.labels:
            doc["global"] = {"labels": self.labels}
        doc["channels"] = self.channels
        return doc


def _role(header: str) -> str | None:
    text = header.strip()
    low = text.lower()
    for role, names in FIELDS.items():
        if low in (n.lower() for n in names):
            return role
    for prefix in ("label:", "标签:", "标签："):
        if low.startswith(prefix) and text[len(prefix) :].strip():
            return "label:" + text[len(prefix) :].strip().lower()
    for prefix in ("column:", "栏目:", "栏目："):
        if low.startswith(prefix) and text[len(prefix) :].strip():
            return "column:" + text[len(prefix) :].strip()
    return None


def _url(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        return None
    return text if parts.path else text + "/"


def _name_from(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "site").removeprefix("www.")
    path = "-".join(p for p in parts.path.split("/") if p and "." not in p)
    name = _NAME_JUNK.sub("-", f"{host}-{path}" if path else host).strip("-")
    return name[:64] or "site"


def _column(spec: str, url: str) -> dict[str, Any]:
    column_id, _, cls = spec.partition(":")
    if cls not in _CLASSES:
        cls = next((c for hint, c in _CLASS_HINTS if hint in column_id), "news")
    return {"id": column_id, "url": url, "class": cls}


def from_rows(
    header: Sequence[str], rows: Sequence[Sequence[str]], kind: str = "website"
) -> Register:
    """Channels from a register's header and rows (row numbers in messages count the
    header as row 1, as a spreadsheet shows them)."""
    out = Register()
    roles = [_role(h) for h in header]
    for i, role in enumerate(roles):
        if role and role.startswith("column:"):
            try:
                label_value(role[7:].partition(":")[0], "column id")
            except ValueError:
                roles[i] = None  # reported as not mapped: the id cannot be a label
    out.unmapped = [h for h, r in zip(header, roles, strict=True) if r is None and h.strip()]
    out.labels = sorted({r[6:] for r in roles if r and r.startswith("label:")})
    bad_keys = [k for k in out.labels if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", k)]
    if bad_keys:
        out.unmapped += [f"label:{k} (not a valid label key)" for k in bad_keys]
        out.labels = [k for k in out.labels if k not in bad_keys]
    used: set[str] = set()
    for number, row in enumerate(rows, start=2):
        cells = {r: (row[i] if i < len(row) else "").strip() for i, r in enumerate(roles) if r}
        if not any(cells.values()):
            continue
        url = _url(cells.get("url", ""))
        if url is None:
            out.skipped.append(f"row {number}: no usable URL ({cells.get('url', '') or 'empty'})")
            continue
        owner = cells.get("owner", "")
        if not owner:
            out.skipped.append(f"row {number}: no owner (主办单位)")
            continue
        name = cells.get("id", "")
        try:
            name = label_value(name, "name") if name else _name_from(url)
        except ValueError:
            name = _name_from(url)
        base, n = name, 1
        while name in used:
            n += 1
            name = f"{base[:60]}-{n}"
        used.add(name)
        channel: dict[str, Any] = {"name": name, "kind": kind, "owner": owner}
        if cells.get("title"):
            channel["title"] = cells["title"]
        channel["url"] = url
        labels = {}
        for role, value in cells.items():
            key = role[6:]
            if not role.startswith("label:") or not value or key not in out.labels:
                continue
            if len(value) > 64 or "://" in value or not value.isprintable():
                out.skipped.append(f"row {number}: label {key}: {value[:40]!r} left out "
                                   "(at most 64 printable characters, not a URL)")  # fmt: skip
                continue
            labels[key] = value
        if labels:
            channel["labels"] = labels
        checks: dict[str, Any] = {"availability": {}}
        columns = []
        for role, value in cells.items():
            if role.startswith("column:") and value:
                column_url = _url(value)
                if column_url is None:
                    out.skipped.append(f"row {number}: column {role[7:]}: not a URL ({value})")
                    continue
                columns.append(_column(role[7:], column_url))
        if columns:
            checks["freshness"] = {"columns": columns}
        channel["checks"] = checks
        out.channels.append(channel)
    return out
