"""The form an ASP.NET WebForms page posts back: where it posts to and the fields a
browser would send with it.

A WebForms list (徐州 12345 公示, any GridView or AspNetPager list) has no page links: its
pager calls `__doPostBack(target, argument)`, which sets `__EVENTTARGET` and
`__EVENTARGUMENT` and submits the page's one server form, with the page's hidden state
(`__VIEWSTATE`, `__VIEWSTATEGENERATOR`, `__EVENTVALIDATION`) and every other control's
value. The server rebuilds the page from that state, so page N is asked for with the
fields of page N - 1: a post without them is refused ("Validation of viewstate MAC
failed") or answered with page 1 on many sites.

A next-page link of such a pager is `javascript:__doPostBack('CaseGgfwAll1$Pager','3')`
(or a LinkButton's `WebForm_DoPostBackWithOptions(new WebForm_PostBackOptions("…", …))`):
`postback_event` reads the target and argument it would post.

The fields are those of an HTML form submission: named controls that are not disabled;
checkboxes and radio buttons only when checked; a select's selected option (else its
first); no buttons (a submit button's name would be a click on it, such as a search).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

_DO_POSTBACK = re.compile(
    r"""__doPostBack\(\s*(['"])(.*?)\1\s*,\s*(['"])(.*?)\3\s*\)"""
    r"""|WebForm_PostBackOptions\(\s*(['"])(.*?)\5\s*,\s*(['"])(.*?)\7"""
)
# A script that does nothing: how pagers write a disabled next link.
_NOOP = re.compile(
    r"\s*(?:javascript:)?\s*(?:void\s*\(?\s*0\s*\)?|return\s+false|false)?\s*;?\s*$", re.I
)
SHOWN_SCRIPT = 80  # characters of a link's script quoted in the evidence
_NOT_SENT = frozenset({"submit", "button", "image", "reset", "file"})
_CHECKED = frozenset({"checkbox", "radio"})


@dataclass(frozen=True, slots=True)
class PostbackForm:
    """The page's server form: the absolute URL it posts to and its fields, in order
    (the first value of a name repeated)."""

    action: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class LinkPostback:
    """What a next-page link posts back: its target and argument, with the page's form."""

    target: str
    argument: str
    form: PostbackForm | None


def postback_form(html: str, page_url: str) -> PostbackForm | None:
    """The form holding the page's `__VIEWSTATE`, else its first form posted by POST;
    None when the page has neither."""
    return _form(LexborHTMLParser(html), page_url)


def link_postback(html: str, page_url: str, selector: str) -> LinkPostback | str | None:
    """What the first element matching `selector` (a next-page link) does when clicked:
    a postback, with the page's form; else its script as written (cut), when it runs one
    instead of leading to a URL (`javascript:goPage(2)`, an onclick on `#`); None when
    there is no such element or it does nothing (a disabled link)."""
    tree = LexborHTMLParser(html)
    node = tree.css_first(selector)
    if node is None:
        return None
    href, onclick = node.attributes.get("href"), node.attributes.get("onclick")
    event = postback_event(href) or postback_event(onclick)
    if event is not None:
        return LinkPostback(*event, _form(tree, page_url))
    script = onclick or (href if (href or "").strip().lower().startswith("javascript:") else "")
    if not script or _NOOP.match(script):
        return None  # a disabled link (javascript:void(0) on the last page)
    return " ".join(script.split())[:SHOWN_SCRIPT]


def _form(tree: LexborHTMLParser, page_url: str) -> PostbackForm | None:
    form = next(
        (f for f in tree.css("form") if f.css_first('input[name="__VIEWSTATE"]') is not None),
        None,
    ) or next(
        (f for f in tree.css("form") if (f.attributes.get("method") or "").lower() == "post"),
        None,
    )  # fmt: skip
    if form is None:
        return None
    action = (form.attributes.get("action") or "").strip()
    fields: dict[str, str] = {}
    for control in form.css("input, select, textarea"):
        field = _field(control)
        if field is not None:
            fields.setdefault(*field)
    return PostbackForm(urljoin(page_url, action) if action else page_url, tuple(fields.items()))


def _field(control: LexborNode) -> tuple[str, str] | None:
    attrs = control.attributes
    name = attrs.get("name")
    if not name or "disabled" in attrs:
        return None
    if control.tag == "textarea":
        return name, control.text(deep=True)
    if control.tag == "select":
        options = control.css("option")
        chosen = next((o for o in options if "selected" in o.attributes), None)
        chosen = chosen or (options[0] if options else None)
        if chosen is None:
            return None
        value = chosen.attributes.get("value")
        return name, value if value is not None else chosen.text(deep=True).strip()
    kind = (attrs.get("type") or "text").lower()
    if kind in _NOT_SENT or (kind in _CHECKED and "checked" not in attrs):
        return None
    value = attrs.get("value")
    return name, value if value is not None else ("on" if kind in _CHECKED else "")


def postback_event(script: str | None) -> tuple[str, str] | None:
    """The (target, argument) a link's `javascript:` href or `onclick` posts back, or
    None when it posts none."""
    if not script or not (m := _DO_POSTBACK.search(script)):
        return None
    if m.group(2) is not None:
        return m.group(2), m.group(4)
    return m.group(6), m.group(8)
