"""Cheap pre-scans that refuse a body before it is parsed: pages too complex to parse
within a check's deadline, and bytes that are not text at all.

The HTML parser's time grows with the square of the nesting depth (50,000 nested `<div>`s
take seconds, 200,000 take minutes) and every reader walks the elements, so a page past
these limits is refused as `too_complex` before any parse:

- more than `MAX_ELEMENTS` tags (a 5 MB portal page holds about 60,000);
- nesting deeper than `MAX_DEPTH` (real templates nest 10-40 levels), counted as open
  elements (elements the parser closes by itself, such as `<p>` and `<li>`, void and
  self-closed ones do not count). Only pages with at least `EXACT_FROM` tags are
  counted: fewer tags cannot nest deeper than the parser handles in well under a second
  (20,000 levels take 0.8 s), and most pages have fewer, so most pages cost one
  C-level `count`.

A body whose bytes do not decode as text (random bytes served as text/html, a binary file
behind a wrong content type) is not a page: `not_text` says so, so it is never judged a
healthy or an empty page.
"""

from __future__ import annotations

import re

MAX_ELEMENTS = 150_000
MAX_DEPTH = 10_000
EXACT_FROM = 20_000
# Void elements, and elements whose end tag the parser supplies: neither nests.
_FLAT = (
    "area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr|p|li|dt|dd|tr|td"
    "|th|option|optgroup|thead|tbody|tfoot|colgroup|rb|rt|rp|html|head|body"
)
_TAG = re.compile(rf"<(/?)(?!(?:{_FLAT})(?=[\s/>]))[A-Za-z][^<>]*?(/?)>", re.I)
# A text body has almost no undecodable bytes; binary data has many.
MAX_BAD_SHARE = 0.05
_SAMPLE = 64 * 1024


def too_complex(html: str) -> str | None:
    """Why `html` is too complex to parse within a deadline, or None."""
    elements = html.count("<")
    if elements > MAX_ELEMENTS:
        return f"too_complex: {elements} tags (limit {MAX_ELEMENTS})"
    if elements >= EXACT_FROM and (depth := _depth(html)) > MAX_DEPTH:
        return f"too_complex: {depth} nested elements (limit {MAX_DEPTH})"
    return None


def _depth(html: str) -> int:
    depth = deepest = 0
    for closing, self_closed in _TAG.findall(html):
        if self_closed:
            continue
        if closing:
            if depth:
                depth -= 1
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def not_text(content: bytes, encoding: str) -> str | None:
    """Why `content` is not text (a share of undecodable bytes or NULs in its first
    64 KiB), or None. A page whose server names the wrong charset (GBK served as UTF-8,
    common on government sites) is still text: UTF-8 and GB18030 are tried too."""
    sample = content[:_SAMPLE]
    if not sample:
        return None
    shares = []
    for codec in dict.fromkeys((encoding, "utf-8", "gb18030")):
        share = _bad_share(sample, codec)
        if share <= MAX_BAD_SHARE:
            return None
        shares.append(share)
    return f"parse_error: the body is not text ({shares[0]:.0%} undecodable as {encoding})"


def _bad_share(sample: bytes, codec: str) -> float:
    text = sample.decode(codec, errors="replace")
    bad = text.count("\ufffd") + text.count("\x00")
    # A multi-byte character cut at the sample's end is not a bad byte.
    return max(0, bad - 1) / max(1, len(text))
