"""Decoding a response body for the fetch layer: content codings under a cap, then charset.

`BodyDecoder` undoes gzip/deflate on the raw stream in bounded steps (zlib's
`max_length`), so no more than cap + 1 decoded bytes ever exist in memory however well the
body compresses: a gzip bomb ends as "too large" after a few MiB, not after 10 GiB. Brotli
is not advertised in `ACCEPT_ENCODING`: the stock brotli bindings cannot bound the output
of one call, which is exactly what the cap needs.

`detect_encoding` picks the charset: a byte-order mark (it outranks labels, as in the HTML
standard), the Content-Type header, a `<meta charset>` / http-equiv / XML declaration in
the first 4 KiB, then detection (valid UTF-8, else GB18030). GB2312 and GBK labels decode
as GB18030, their superset, because pages labelled GB2312 routinely contain GBK-only
characters (such as 镕 or 堃 in names).
"""

from __future__ import annotations

import codecs
import re
import zlib

ACCEPT_ENCODING = "gzip, deflate"


class BodyTooLarge(Exception):
    """The decoded body exceeds the cap."""


class BodyError(Exception):
    """The body is not valid for its Content-Encoding."""


class _Inflater:
    """One gzip or deflate stage; `feed` returns at most `limit` bytes."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._gzip = coding in ("gzip", "x-gzip")
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, limit: int) -> bytes:
        out = bytearray()
        while data and len(out) < limit:
            try:
                out += self._obj.decompress(data, limit - len(out))
            except zlib.error as exc:
                if self._gzip or self._started:
                    raise BodyError(f"invalid {self.coding} data ({exc})") from exc
                # Some servers send raw deflate (no zlib header) as "deflate".
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                continue
            self._started = True
            data = self._obj.unconsumed_tail
            if self._obj.eof:
                rest = self._obj.unused_data
                if not (self._gzip and rest.startswith(b"\x1f\x8b")):
                    break  # trailing bytes after the stream are ignored, as browsers do
                # a further gzip member follows (concatenated gzip)
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = rest
        return bytes(out)


class BodyDecoder:
    """Decodes a raw body stream chunk by chunk, never holding more than `cap` decoded
    bytes (plus one chunk of raw input)."""

    def __init__(self, content_encoding: str, cap: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise BodyError(f"unsupported content-encoding {', '.join(unknown)!r}")
        # Codings are listed in the order applied, so they are undone in reverse.
        self._stages = [_Inflater(c) for c in reversed(codings)]
        self._cap = cap
        self._body = bytearray()

    def feed(self, chunk: bytes) -> None:
        """Add one raw chunk; raises BodyTooLarge once the decoded body passes the cap."""
        room = self._cap - len(self._body)
        if len(chunk) > room and not self._stages:
            raise BodyTooLarge(f"body larger than {self._cap} bytes")
        for stage in self._stages:
            # Each stage may yield at most room + 1 bytes: reaching that means the body is
            # over the cap (for an inner stage of stacked codings, too large in any
            # practical sense), and nothing larger is ever allocated.
            chunk = stage.feed(chunk, room + 1)
            if len(chunk) > room:
                raise BodyTooLarge(f"body larger than {self._cap} bytes")
        self._body += chunk

    @property
    def content(self) -> bytes:
        return bytes(self._body)

    def __len__(self) -> int:
        return len(self._body)


_GB = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "gb_2312", "csgb2312", "cp936", "ms936",
       "windows-936", "chinese", "iso-ir-58", "euc-cn", "gb18030"}  # fmt: skip
# Labels the HTML standard maps to windows-1252, a superset that never fails on 0x80-0x9f.
_LATIN1 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
_META = re.compile(
    rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([\w.:\-]+)"""
    rb"""|<\?xml\s[^>]*?encoding\s*=\s*["']([\w.:\-]+)""",
    re.IGNORECASE,
)


def detect_encoding(content_type: str, content: bytes) -> str:
    """The Python codec to decode `content` with (see the module docstring for the order)."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            return name
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset":
            found = normalise_charset(value.strip("\"' "))
            if found:
                return found
    for match in _META.finditer(content[:4096]):
        label = (match.group(1) or match.group(2)).decode("ascii", "replace")
        found = normalise_charset(label)
        if found:
            # A UTF-16 label inside an ASCII-compatible document is wrong by definition.
            return "utf-8" if found.startswith("utf-16") else found
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def normalise_charset(label: str) -> str | None:
    """The codec for a charset label, or None if Python does not know it."""
    lowered = label.strip().lower()
    if lowered in _GB:
        return "gb18030"
    if lowered in _LATIN1:
        return "cp1252"
    try:
        return codecs.lookup(lowered).name
    except LookupError:
        return None
