"""Page chrome: the parts of a page around its content (navigation, menus, headers and
footers, sidebars, friendly-link and subordinate-unit menus, "related reading" blocks).

Their link groups are often longer, and as dated, as the page's own list (a footer menu
of 15 dated links beside a column of 8), so every reader of a page's content skips them:
the list search never enters them and a blank-column check never takes their empty lists
for the column's.

An element is chrome when its tag says so (nav, header, footer, aside, menu, select), when
its class or id carries a chrome mark as a word of its own (`nav`, `left_nav`, `topMenu`,
`footer`, `yqlj`, `sidebar`, `hot-news`, `xgxx`, `footer-links`: not `Residence`,
`photo` or `news_link`), or when a
short label just before it names a menu (友情链接, 下属单位, 相关链接, 相关阅读, 热点排行 …).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

CHROME_TAGS = frozenset({"nav", "header", "footer", "aside", "menu", "select"})
# Marks templates give chrome (English, and pinyin initials: yqlj 友情链接, xgxx 相关信息,
# xglj 相关链接, xsdw 下属单位, rdph 热点排行).
_MARK = (
    r"nav|menu|foot|bottom|banner|yqlj|friend|crumb|hot|rank|redian|tuijian"
    r"|recommend|related|relate|xgxx|xglj|xgwz|xsdw|rdph|paihang|similar|share|copyright"
    r"|dropdown|select"
)
# A mark counts at the start of a word: after a separator or a digit, or with a position
# prefix glued on (leftnav, topMenu, subnav, mainmenu, rightSide, pagefoot); not inside
# another word (`Residence`, `photo`, `paddingSide`).
# "side" alone or as a word marks a sidebar, but not with left/right glued on: a
# two-column template's `leftSide` is as often its content as its menu.
_CHROME_ATTR = re.compile(
    rf"(?:^|[\s\-_\d]|(?i:top|left|right|sub|main|site|page|web|float|fix))(?i:{_MARK})"
    r"|(?:^|[\s\-_\d])(?i:side)|(?i:sidebar|aside)"
    # "links" as a word of its own (footer-links, quick_links), not news_link or linkList.
    r"|(?:^|[\s\-_])(?i:links)(?=$|[\s\-_])|(?:^|\s)(?i:link)(?=$|\s)"
)
# Labels of link menus that are not a page's content.
CHROME_LABELS = re.compile(
    r"友情链接|下属单位|直属单位|相关链接|相关阅读|相关文章|相关新闻|相关信息|相关稿件|延伸阅读"
    r"|热点|热门|排行|推荐阅读|猜你喜欢|部门网站|政府网站|网站导航|媒体链接|网站群|上一篇|下一篇"
)
# A label is a heading: longer text before a list is content.
_MAX_LABEL = 20


def is_chrome(node: LexborNode) -> bool:
    """True when the element itself is chrome by its tag or its class or id."""
    if node.tag in CHROME_TAGS:
        return True
    attrs = node.attributes
    marks = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".strip()
    return bool(marks) and _CHROME_ATTR.search(marks) is not None


def labelled_chrome(node: LexborNode) -> bool:
    """True when a short heading just before `node`, or opening it, names a menu."""
    for label in (_skip_blank(node.prev, back=True), _skip_blank(node.child, back=False)):
        if label is None:
            continue
        text = label.text(separator=" ").strip()
        if 0 < len(text) <= _MAX_LABEL and CHROME_LABELS.search(text):
            return True
    return False


def _skip_blank(node: LexborNode | None, *, back: bool) -> LexborNode | None:
    """`node`, or the nearest sibling in that direction that is not blank text or a
    comment."""
    while node is not None and node.tag in ("-text", "_comment"):
        if node.tag == "-text" and (node.text_content or "").strip():
            return node
        node = node.prev if back else node.next
    return node
