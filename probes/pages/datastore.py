"""大汉 JCMS (Hanweb) column lists: items shipped inside the page as XML, not as markup.

A JCMS column page writes its list into the page as a data island that its `jpage`
script turns into markup in the browser:

    <script type="text/xml"><datastore>
      <nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&…">]]></nextgroup>
      <recordset>
        <record><![CDATA[<li><a href="/art/2024/11/3/art_1229_456.html" title="…">…</a>
                 <span>2024-11-03</span></li>]]></record>
        …
      </recordset>
    </datastore></script>

The later pages come from `/module/web/jpage/dataproxy.jsp` (POST or GET, `page`,
`columnid`, `unitid`, …), which answers with the same `<datastore>` XML with
`<totalrecord>` and `<totalpage>`. Either body gives its records here: each record is the
markup of one item, in page order (newest first). An HTML parser never sees them (they sit
in a script, as CDATA), so without this the column would read as having no items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

_TOTAL = re.compile(r"<totalrecord>\s*(\d{1,9})\s*</totalrecord>", re.I)
_PAGES = re.compile(r"<totalpage>\s*(\d{1,9})\s*</totalpage>", re.I)
# Records read from one page: JCMS pages show 15-60; a cap keeps a hostile page linear.
MAX_RECORDS = 500


@dataclass(frozen=True, slots=True)
class Records:
    """The records of a page's data islands (each one item's markup), and the column's
    total record and page counts when the datastore says them."""

    markup: tuple[str, ...]
    total: int | None = None
    pages: int | None = None


def records(text: str) -> Records | None:
    """The JCMS records `text` (an HTML page or a dataproxy.jsp answer) holds, or None
    when it holds no datastore."""
    lowered = text.lower() if "<DATASTORE" in text else text
    found: list[str] = []
    total = pages = None
    pos = 0
    # Opener to closer with plain searches: a page of unclosed openers stays linear.
    while len(found) < MAX_RECORDS:
        start = lowered.find("<datastore", pos)
        if start < 0:
            break
        end = lowered.find("</datastore", start)
        if end < 0:
            break
        body = text[start:end]
        pos = end + 1
        found.extend(_records_of(body, MAX_RECORDS - len(found)))
        if total is None and (m := _TOTAL.search(body)):
            total = int(m.group(1))
        if pages is None and (m := _PAGES.search(body)):
            pages = int(m.group(1))
    if not found:
        return None
    return Records(tuple(found), total, pages)


def _records_of(body: str, limit: int) -> list[str]:
    out: list[str] = []
    lowered = body.lower()
    pos = 0
    while len(out) < limit:
        start = lowered.find("<record", pos)
        if start < 0:
            break
        if lowered[start + 7 : start + 8] not in (">", " ", "\n", "\t", "\r"):
            pos = start + 7  # <recordset>
            continue
        open_end = lowered.find(">", start)
        end = lowered.find("</record>", open_end)
        if open_end < 0 or end < 0:
            break
        inner = body[open_end + 1 : end].strip()
        pos = end + 1
        if inner.startswith("<![CDATA[") and inner.endswith("]]>"):
            inner = inner[9:-3].strip()
        else:
            inner = unescape(inner)
        if inner:
            out.append(inner)
    return out
