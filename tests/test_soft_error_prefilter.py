"""The soft-error check skips parsing pages that cannot show a phrase; that shortcut must
never change the answer: it equals the full parse on any page, and still finds phrases
written with character references or split by whitespace."""

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
    "Unavailable", "欢迎", "政务公开。" * 50,
])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40))
def test_soft_error_shortcut_never_changes_the_answer(pieces: list[str]) -> None:
    html = "".join(pieces)
    expected = reference(html, PATTERNS)
    assert soft_error(html, PATTERNS) == expected
    for codec in ("utf-8", "gb18030", "utf-16"):
        assert page_soft_error(html.encode(codec), codec, PATTERNS) == expected, codec


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
