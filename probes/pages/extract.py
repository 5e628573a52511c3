"""Values taken out of a response between the steps of a service transaction: a CSS
selector (text or an attribute), a regular expression, or a JSON path.

The JSON path language is a deliberately small subset, hand-written so the monitor needs no
extra dependency: `$` (optional) then `.name`, `['name']` / `["name"]` and `[N]` (negative
indexes count from the end). No wildcards, filters or recursive descent: a service
transaction reads one token or one id, and an unambiguous path is easier to debug.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
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


def decode_json(text: str) -> tuple[bool, Any]:
    """(ok, document) of a response body that should be JSON."""
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


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
