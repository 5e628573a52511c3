"""Page numbers written into a list page's request: the placeholders of a page URL
template (`list_{page}.html`), of a posted form's values (成都 `pageID={page}`) and of a
WebForms postback argument, filled in for page N.

- `{page}`: N (1, 2, 3 …), most lists;
- `{index}`: N - 1 (0, 1, 2 …), 0-based page numbers, and 徐州's pager input box, which
  holds the page the form is posted from;
- `{offset}`: (N - 1) × page_size (0, 30, 60 …), a row offset (sun0769, 长沙, 惠州);
- `{start}` and `{end}`: (N - 1) × page_size + 1 and N × page_size (1-57, 58-114 …), a
  record range (大汉 jact `startrecord`/`endrecord`: 莱芜).

Only these names are placeholders; any other `{name}` in a template is refused when the
config is read (a typo would ask for the same page N times).
"""

from __future__ import annotations

import re

PLACEHOLDERS = ("page", "index", "offset", "start", "end")
# The placeholders that count rows, so need the list's rows per page.
SIZED = frozenset({"offset", "start", "end"})
_NAME = re.compile(r"\{(\w+)\}")


def names(text: str) -> set[str]:
    """The `{name}`s written in `text`, known or not."""
    return set(_NAME.findall(text))


def unknown(text: str) -> list[str]:
    """The `{name}`s in `text` that are no placeholder, sorted."""
    return sorted(names(text) - set(PLACEHOLDERS))


def fill(text: str, number: int, page_size: int | None) -> str:
    """`text` with the placeholders of page `number` (1 is the first page) filled in;
    `page_size` is needed by {offset}, {start} and {end} only (the config checks it)."""
    size = page_size or 0
    values = {
        "page": number,
        "index": number - 1,
        "offset": (number - 1) * size,
        "start": (number - 1) * size + 1,
        "end": number * size,
    }
    return _NAME.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)
