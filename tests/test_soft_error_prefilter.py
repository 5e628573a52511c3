"""The soft-error check skips parsing pages that cannot show a phrase; that shortcut must
never change the answer: it equals the full parse on any page, and still finds phrases
written with character references or split by whitespace, or overlapping one another.
The one-pass word scan under it finds exactly the words `in` finds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.pages.softerror import (
    DEFAULT_MAX_TEXT as SOFT_ERROR_MAX_TEXT,
)
from probes.pages.softerror import (
    DEFAULT_SOFT_ERRORS,
    page_message,
    page_soft_error,
    soft_error,
)
from probes.pages.wordscan import DENSE, SLICE, WordScan

PATTERNS = list(DEFAULT_SOFT_ERRORS)


def reference(html: str, patterns: list[str]) -> str | None:
    """The rule without the shortcut: parse every page."""
    title, text = page_message(html)
    for pattern in patterns:
        if pattern and (pattern in title or (len(text) <= SOFT_ERROR_MAX_TEXT and pattern in text)):
            return pattern
    return None


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<title>&#31995;&#32479;&#32500;&#25252;</title><body>稍后</body>", "系统维护"),
        ("<body><h1>系统&#x7EF4;&#x62A4;中</h1></body>", "系统维护"),
        ("<body><h1>404\n   Not&nbsp;Found</h1></body>", "404 Not Found"),
        ("<body><h1>502</h1><p>Bad   Gateway</p></body>", "502 Bad Gateway"),
        ("<body><p>欢迎访问</p></body>", None),
    ],
    ids=["decimal-references", "hex-references", "whitespace-and-nbsp", "across-elements",
         "healthy"],
)  # fmt: skip
def test_soft_error_finds_phrases_however_the_source_spells_them(
    html: str, found: str | None
) -> None:
    assert soft_error(html, PATTERNS) == found


PIECES = st.sampled_from([
    "<title>", "</title>", "<body>", "<p>", "</p>", "<a href='/x'>", "</a>", "<script>",
    "</script>", "<b>", "</b>", "<!-- c -->", " ", "\n", "&nbsp;", "&amp;", "&#31995;",
    "&#x7EDF;", "系统", "维护", "系统维护", "页面不存在", "404", "Not", "Found", "Service",
    "Unavailable", "欢迎", "暂停", "服务", "页面", "政务公开。" * 50,
])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40))
def test_soft_error_shortcut_never_changes_the_answer(pieces: list[str]) -> None:
    html = "".join(pieces)
    # The defaults, and the same list reversed: which of two overlapping phrases
    # (暂停服务暂停) is answered depends on the list's order only.
    for patterns in (PATTERNS, PATTERNS[::-1]):
        expected = reference(html, patterns)
        assert soft_error(html, patterns) == expected
        for codec in ("utf-8", "gb18030", "gbk", "utf-16"):
            assert page_soft_error(html.encode(codec), codec, patterns) == expected, codec


@pytest.mark.parametrize("codec", ["utf-8", "gbk"])
@pytest.mark.parametrize(
    ("title", "patterns", "found"),
    [
        ("暂停服务暂停", ["服务暂停", "暂停服务"], "服务暂停"),
        ("暂停服务暂停", ["暂停服务", "服务暂停"], "暂停服务"),
        ("您访问的页面不存在", ["页面不存在", "您访问的页面不存在"], "页面不存在"),
        ("系统升级维护", ["升级维护", "系统升级"], "升级维护"),
        ("系统繁忙", ["服务器繁忙"], None),
    ],
    ids=["second-of-overlapping", "first-of-overlapping", "inside-a-longer-phrase",
         "sharing-a-word", "sharing-an-end-only"],
)  # fmt: skip
def test_soft_error_finds_a_phrase_hidden_inside_or_across_another(
    title: str, patterns: list[str], found: str | None, codec: str
) -> None:
    html = f"<title>{title}</title><body>欢迎</body>"
    assert soft_error(html, patterns) == found
    assert page_soft_error(html.encode(codec), codec, patterns) == found


@pytest.mark.parametrize(
    ("body", "codec", "found"),
    [
        ("<title>系统维护</title>".encode("gb18030"), "gb18030", "系统维护"),
        (b"<title>&#31995;&#32479;&#32500;&#25252;</title>", "cp1252", "系统维护"),
        ("<title>系统维护</title>".encode(), "cp1252", None),  # mojibake is not the phrase
        (b"<body><p>404 Not&nbsp;Found</p></body>", "utf-8", "404 Not Found"),
        ("<body><p>欢迎访问&nbsp;&copy;</p></body>".encode(), "utf-8", None),
    ],
    ids=["gbk-page", "references-in-latin-page", "wrong-codec", "nbsp", "healthy"],
)
def test_soft_error_of_a_fetched_body_reads_it_in_its_own_encoding(
    body: bytes, codec: str, found: str | None
) -> None:
    assert page_soft_error(body, codec, PATTERNS) == found


SCAN_PIECES = st.sampled_from(["系", "统", "暂停", "服务", "a", "ab", "ba", "Not"])
SCAN_WORDS = st.sampled_from(
    ["系统", "统系", "暂停服务", "服务暂停", "ab", "ba", "aba", "bab", "a", "Not", "tN", "页面"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(SCAN_PIECES, max_size=60),
    st.sets(SCAN_WORDS, max_size=8),
    st.sampled_from(["utf-8", "gbk"]),
)
def test_word_scan_finds_exactly_the_words_in_the_body(
    pieces: list[str], words: set[str], codec: str
) -> None:
    body = "".join(pieces).encode(codec)
    keys = tuple(w.encode(codec) for w in words)
    assert WordScan(keys).present(body) == {k for k in keys if k in body}


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b"Not" * (SLICE // 3 * 5) + b"Found", {b"Not", b"Found", b"tN"}),
        (b"x" * (SLICE - 2) + b"Found" + b"y" * SLICE, {b"Found"}),
        (b"ab" * (DENSE + 1) + b"x" * SLICE + b"Found", {b"Found", b"ab", b"ba"}),
    ],
    ids=["body-of-one-word", "word-across-slices", "dense-slice-then-more"],
)
def test_word_scan_of_big_bodies(body: bytes, found: set[bytes]) -> None:
    keys = (b"Not", b"Found", b"tN", b"ab", b"ba", b"404")
    assert WordScan(keys).present(body) == found
