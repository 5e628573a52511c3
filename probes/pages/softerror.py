"""Soft error pages: HTTP 200 answers that say the service is not there (系统维护中,
页面不存在, 系统繁忙，请稍后再试).

One rule for every kind that asks: a phrase counts when it is in the page's title, or in
the page's own visible text (link text left out) when that text is short, as error and
maintenance pages are. A healthy portal carries headlines such as "关于系统维护升级的通知"
in long lists of links and notices far down its pages; those never count. How much text
still counts as "short" is the caller's parameter: a service step answers with a small
result page, a home page is long.

Most pages carry none of the phrases, so the page is parsed only when a phrase may be in
its text; for fetched bytes in a stateless codec even the decoding waits for that. Which
of the phrases' words are in the body is answered in one pass over it for all of them
(`probes.pages.wordscan`), the scan compiled once per phrase list and codec.
Known limit of that shortcut: a phrase cut by a stray end tag that the parser drops
(`系统</b>维护` with no `<b>` open) reads as one phrase in the parsed text but is not looked
for; finding it would mean parsing almost every page. Error pages write their message
whole.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from html.entities import html5

from selectolax.lexbor import LexborHTMLParser

from probes.pages.text import page_title, visible_text
from probes.pages.wordscan import WordScan

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
# Decoded text is scanned as UTF-8; lone surrogates pass through, so a word is in the
# text exactly when its bytes are in the text's bytes.
_TEXT, _TEXT_CODEC, _TEXT_ERRORS = "text", "utf-8", "surrogatepass"
# What a reference without `&#` can stand for: the characters of the named references
# (no CJK among them), and the letters, digits and marks of one left as it is written.
_NAMED = frozenset("".join(html5.values())) | frozenset(string.ascii_letters + string.digits + "&;")
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
    spelled = _spelled(tuple(phrases), codec)
    present = spelled.scan.present(content)
    referenced: set[str] | None = None
    numeric: bool | None = None
    candidates = []
    for phrase, words in spelled.phrases:
        possible = bool(phrase)
        for word, key in words:
            if "\ufffd" in word or (key is not None and key in present):
                continue
            # Not written as such in the body (or not in the codec at all): only a
            # character reference can spell it; a word of none of the characters a named
            # one stands for (系统维护) needs a numeric one (`&#31995;`).
            if _NAMED.isdisjoint(word):
                if numeric is None:
                    numeric = _numeric_reference(content)
                if not numeric:
                    possible = False
                    break
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


def _numeric_reference(content: bytes) -> bool:
    """Whether the body holds `&#`: one `find` per `&` (a two-byte `in` is several times
    slower on CPython 3.11, about 0.5 ms on a 190 KB page)."""
    at = content.find(b"&")
    while at != -1:
        if content[at + 1 : at + 2] == b"#":
            return True
        at = content.find(b"&", at + 1)
    return False


def _referenced_chars(content: bytes) -> set[str]:
    """Every character the body's character references (`&#31995;`, `&nbsp;`) can stand
    for; the trailing letters of a reference without its semicolon are included too."""
    refs = set()
    at = content.find(b"&")  # from one `&` to the next: quicker than the regex's search
    while at != -1:
        if m := _REFERENCE.match(content, at):
            refs.add(m.group().decode("ascii"))
        at = content.find(b"&", at + 1)
    return set("".join(unescape(r) for r in refs))


def soft_error(html: str, phrases: list[str], *, max_text: int = DEFAULT_MAX_TEXT) -> str | None:
    """The soft-error phrase the page shows as its message, if any (see above).

    The title and the text are the page's text nodes joined by spaces with whitespace
    collapsed, so each whitespace-free word of a phrase lies within one text node: the
    page can show the phrase only when each word is in the source as written, or spelled
    with character references (`&#31995;`), which are decoded (once per page) only when a
    word is not found as written."""
    spelled = _spelled(tuple(phrases), _TEXT)
    present = spelled.scan.present(html.encode("utf-8", _TEXT_ERRORS))
    unescaped: frozenset[bytes] | None = None
    candidates = []
    for phrase, words in spelled.phrases:
        if not phrase:
            continue
        if all(key in present for _, key in words):
            candidates.append(phrase)
        elif "&" in html:
            if unescaped is None:
                unescaped = spelled.scan.present(unescape(html).encode("utf-8", _TEXT_ERRORS))
            if all(key in unescaped for _, key in words):
                candidates.append(phrase)
    if not candidates:
        return None
    title, text = page_message(html)
    for phrase in candidates:
        if phrase in title or (len(text) <= max_text and phrase in text):
            return phrase
    return None


@dataclass(frozen=True, slots=True)
class _Spelled:
    """A phrase list as the scan looks for it in one codec: each phrase with its
    whitespace-free words, each word with its bytes in the codec (None when the codec
    cannot write it), and the one-pass scan of all those bytes."""

    phrases: tuple[tuple[str, tuple[tuple[str, bytes | None], ...]], ...]
    scan: WordScan


@lru_cache(maxsize=512)
def _spelled(phrases: tuple[str, ...], codec: str) -> _Spelled:
    """Compiled once per phrase list and codec: checks share the default list, and a
    configured list is compiled on its first page."""
    name, errors = (_TEXT_CODEC, _TEXT_ERRORS) if codec == _TEXT else (codec, "strict")
    out = []
    for phrase in phrases:
        words = []
        for word in phrase.split():
            try:
                key: bytes | None = word.encode(name, errors)
            except UnicodeEncodeError:
                key = None
            words.append((word, key))
        out.append((phrase, tuple(words)))
    keys = {key for _, words in out for _, key in words if key}
    return _Spelled(tuple(out), WordScan(tuple(keys)))


def page_message(html: str) -> tuple[str, str]:
    """The title and the visible text outside links, whitespace collapsed."""
    tree = LexborHTMLParser(html)
    return page_title(tree), visible_text(tree, links=False)
