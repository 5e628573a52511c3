"""Soft error pages: HTTP 200 answers that say the service is not there (系统维护中,
页面不存在, 系统繁忙，请稍后再试).

One rule for every kind that asks: a phrase counts when it is in the page's title, or in
the page's own visible text (link text left out) when that text is short, as error and
maintenance pages are. A healthy portal carries headlines such as "关于系统维护升级的通知"
in long lists of links and notices far down its pages; those never count. How much text
still counts as "short" is the caller's parameter: a service step answers with a small
result page, a home page is long.

Most pages carry none of the phrases, so the page is parsed only when a phrase may be in
its text; for fetched bytes in a stateless codec even the decoding waits for that.
Known limit of that shortcut: a phrase cut by a stray end tag that the parser drops
(`系统</b>维护` with no `<b>` open) reads as one phrase in the parsed text but is not looked
for; finding it would mean parsing almost every page. Error pages write their message
whole.
"""

from __future__ import annotations

import re
from html import unescape

from selectolax.lexbor import LexborHTMLParser

from probes.pages.text import page_title, visible_text

DEFAULT_SOFT_ERRORS = (
    "系统维护",
    "系统升级",
    "系统繁忙",
    "服务暂停",
    "暂停服务",
    "服务器繁忙",
    "网络错误",
    "请稍后再试",
    "页面不存在",
    "网页不存在",
    "您访问的页面不存在",
    "网站暂时无法访问",
    "404 Not Found",
    "Service Unavailable",
    "502 Bad Gateway",
)
# A page's own text longer than this is a working page that mentions a phrase.
DEFAULT_MAX_TEXT = 1500
# Codecs that spell every character one way, without state: text holding a word means the
# body holds the word's encoding, so phrases can be looked for in the undecoded body.
_PLAIN_CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gb18030": "gb18030", "gbk": "gbk",
                 "cp1252": "cp1252", "latin-1": "latin-1", "iso8859-1": "latin-1",
                 "ascii": "ascii", "big5": "big5"}  # fmt: skip
_REFERENCE = re.compile(rb"&(?:#[0-9]{1,8};?|#[xX][0-9a-fA-F]{1,8};?|[A-Za-z][A-Za-z0-9]{0,31};?)")


def page_soft_error(
    content: bytes, encoding: str, phrases: list[str], *, max_text: int = DEFAULT_MAX_TEXT
) -> str | None:
    """`soft_error` of a body as fetched: the body is decoded and parsed only when one of
    the phrases may be in its text (decoding and scanning the text cost more than scanning
    the bytes)."""
    codec = _PLAIN_CODECS.get(encoding)
    if codec is None:
        return soft_error(content.decode(encoding, errors="replace"), phrases, max_text=max_text)
    referenced: set[str] | None = None
    candidates = []
    for phrase in phrases:
        possible = bool(phrase)
        # The longest word first: the rarest, and the quickest to look for.
        for word in sorted(phrase.split(), key=len, reverse=True):
            try:
                if "\ufffd" in word or word.encode(codec) in content:
                    continue
            except UnicodeEncodeError:
                pass  # not in the codec: only a character reference can spell it
            if referenced is None:
                referenced = _referenced_chars(content)
            if referenced.isdisjoint(word):
                possible = False
                break
        if possible:
            candidates.append(phrase)
    if not candidates:
        return None
    return soft_error(content.decode(encoding, errors="replace"), candidates, max_text=max_text)


def _referenced_chars(content: bytes) -> set[str]:
    """Every character the body's character references (`&#31995;`, `&nbsp;`) can stand
    for; the trailing letters of a reference without its semicolon are included too."""
    refs = {m.group().decode("ascii") for m in _REFERENCE.finditer(content)}
    return set("".join(unescape(r) for r in refs))


def soft_error(html: str, phrases: list[str], *, max_text: int = DEFAULT_MAX_TEXT) -> str | None:
    """The soft-error phrase the page shows as its message, if any (see above)."""
    decoded: list[str] = []
    candidates = [p for p in phrases if p and _may_show(html, p, decoded)]
    if not candidates:
        return None
    title, text = page_message(html)
    for phrase in candidates:
        if phrase in title or (len(text) <= max_text and phrase in text):
            return phrase
    return None


def _may_show(html: str, phrase: str, decoded: list[str]) -> bool:
    """False only when the page's text cannot contain `phrase`. The title and the text
    are the page's text nodes joined by spaces with whitespace collapsed, so each
    whitespace-free word of the phrase lies within one text node: it is in the source as
    written, or spelled with character references (`&#31995;`), which are decoded here
    (once per page, into `decoded`) only when a word is not found as written."""
    words = phrase.split()
    if all(w in html for w in words):
        return True
    if "&" not in html:
        return False
    if not decoded:
        decoded.append(unescape(html))
    return all(w in decoded[0] for w in words)


def page_message(html: str) -> tuple[str, str]:
    """The title and the visible text outside links, whitespace collapsed."""
    tree = LexborHTMLParser(html)
    return page_title(tree), visible_text(tree, links=False)
