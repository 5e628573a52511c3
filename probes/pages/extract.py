"""Values taken out of a response between the steps of a service transaction: a CSS
selector (text or an attribute), a regular expression, or a JSON path.

The JSON path language is a deliberately small subset, hand-written so the monitor needs no
extra dependency: `$` (optional) then `.name`, `['name']` / `["name"]` and `[N]` (negative
indexes count from the end). No wildcards, filters or recursive descent: a service
transaction reads one token or one id, and an unambiguous path is easier to debug.

JSON bodies (service steps, list APIs) are decoded by `decode_json`, which refuses a body
nested deeper than `MAX_JSON_DEPTH` with that reason before the recursive decoder sees
it; its depth scan (`nested_deeper_than`) also bounds call records and work-order events
(`probes.hotline.formats`), with their own smaller bound.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from selectolax.lexbor import LexborHTMLParser

_NAME = re.compile(r"\.([A-Za-z_\u4e00-\u9fff][\w\-\u4e00-\u9fff]*)")
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r"""\[(?:'([^']*)'|"([^"]*)")\]""")


class JsonPathError(ValueError):
    """A JSON path outside the supported subset."""


PathPart = str | int


def parse_json_path(path: str) -> tuple[PathPart, ...]:
    """The parts of a JSON path (`$.data.items[0]['id']`), or JsonPathError."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    elif text and not text.startswith((".", "[")):
        text = "." + text  # `data.token` is accepted as `$.data.token`
    parts: list[PathPart] = []
    pos = 0
    while pos < len(text):
        if m := _NAME.match(text, pos):
            parts.append(m.group(1))
        elif m := _INDEX.match(text, pos):
            parts.append(int(m.group(1)))
        elif m := _QUOTED.match(text, pos):
            parts.append(m.group(1) if m.group(1) is not None else m.group(2))
        else:
            raise JsonPathError(
                f"unsupported JSON path {path!r} at {text[pos:]!r}: use $.name, "
                "['name'] and [N] only"
            )
        pos = m.end()
    return tuple(parts)


def json_get(doc: Any, path: str) -> tuple[bool, Any]:
    """(found, value) of a JSON path in a decoded document."""
    node = doc
    for part in parse_json_path(path):
        if isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                return False, None
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                return False, None
            node = node[part]
    return True, node


MAX_JSON_DEPTH = 128  # nesting of a JSON body (real list and service APIs nest < 15)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_LISTS = bytes.maketrans(b"{}", b"[]")  # depth is the same whatever the bracket
_RUNS = re.compile(rb"\[+|\]+")


def nested_deeper_than(text: str | bytes, bound: int) -> bool:
    """Whether JSON text nests deeper than `bound`, found at C speed whatever its size
    (a 5 MB body in about the time `json.loads` takes): strings dropped, every bracket
    made `[` or `]`, the innermost pairs (`[]`) peeled one level a pass while that
    shrinks the text much, then the highest point of the rest's running sum of runs.
    Openers never closed count as levels (the recursive decoder descends them before
    failing). Text with at most `bound` brackets (nearly every body) is only counted."""
    if isinstance(text, str):
        if text.count("[") + text.count("{") <= bound:
            return False
        raw = text.encode("utf-8", "surrogatepass")
    else:
        raw = text
    if raw.count(b"[") + raw.count(b"{") <= bound:
        return False
    brackets = _outside_strings(raw).translate(_AS_LISTS, _NOT_BRACKETS)
    levels = 0
    while levels <= bound:
        peeled = brackets.replace(b"[]", b"")
        removed, brackets = len(brackets) - len(peeled), peeled
        if not removed:
            break
        levels += 1
        if removed * 3 < len(peeled):  # little left to gain: count what is left
            break
    if levels > bound:
        return True
    steps = [len(run) if run[0] == 0x5B else -len(run) for run in _RUNS.findall(brackets)]
    return levels + max(accumulate(steps), default=0) > bound


def _outside_strings(raw: bytes) -> bytes:
    """JSON text without its strings (brackets inside them are no nesting): escaped
    backslashes and quotes dropped, then every other piece between quotes."""
    if b'"' not in raw:
        return raw
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(plain.split(b'"')[::2])


def decode_json(text: str) -> tuple[bool, Any]:
    """(True, document) of a response body that should be JSON, or (False, why not): not
    JSON, or nested deeper than `MAX_JSON_DEPTH` (refused before decoding: the decoder
    is recursive and would raise RecursionError past a thousand levels)."""
    if nested_deeper_than(text, MAX_JSON_DEPTH):
        return False, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        return True, json.loads(text)
    except ValueError:
        return False, "not JSON"


@dataclass(frozen=True, slots=True)
class Extracted:
    """The outcome of one extraction: the value, or why there is none."""

    value: str | None
    error: str = ""


def extract(
    text: str,
    *,
    css: str | None = None,
    attr: str | None = None,
    regex: str | None = None,
    jsonpath: str | None = None,
) -> Extracted:
    """Take one value from a response body by exactly one of css / regex / jsonpath.

    css: the first matching element's `attr` (or its stripped text when `attr` is None);
    regex: the first match's group 1 (or the whole match when the pattern has no group);
    jsonpath: the value at the path, JSON-encoded unless it is a string or a number.
    """
    if css is not None:
        node = LexborHTMLParser(text).css_first(css)
        if node is None:
            return Extracted(None, f"selector {css!r} matched nothing")
        if attr is not None:
            value = node.attributes.get(attr)
            if value is None:
                return Extracted(None, f"selector {css!r} has no attribute {attr!r}")
            return Extracted(value)
        return Extracted(node.text(strip=True))
    if regex is not None:
        m = re.search(regex, text)
        if m is None:
            return Extracted(None, f"pattern {regex!r} matched nothing")
        return Extracted(m.group(1) if m.re.groups else m.group(0))
    if jsonpath is not None:
        ok, doc = decode_json(text)
        if not ok:
            return Extracted(None, f"body is not JSON (wanted {jsonpath})")
        found, value = json_get(doc, jsonpath)
        if not found or value is None:
            return Extracted(None, f"JSON path {jsonpath} not found")
        return Extracted(scalar_text(value))
    raise ValueError("an extraction needs one of css, regex or jsonpath")


def scalar_text(value: Any) -> str:
    """How a JSON value is spelled when substituted into a later step."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
