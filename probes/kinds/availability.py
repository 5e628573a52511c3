"""The `availability` check kind: does the page open within the deadline, with an
expected status, and is it not a soft error page (HTTP 200 saying 系统维护 / 页面不存在)?

One probe per run; the official window rule over many probes is the verdict's job
(`probes.verdict.availability`), over the window of past runs the runner hands it
(`history_span`). The window's counts including this run are reported as measurements
(`window_measurements`), so dashboards show the share the verdict judged.
"""

from __future__ import annotations

import re
from html import unescape

from selectolax.lexbor import LexborHTMLParser

from probes.config.availability import AvailabilitySpec
from probes.findings.availability import AvailabilityFindings
from probes.http.fetcher import FetchFailure
from probes.kinds.context import CheckContext
from probes.model import Failure, Measurement, Report, RunWindow

# A soft error page (HTTP 200 "系统维护中") says so in its title, or is a short page that says
# it in its own text. A healthy portal can carry a headline "关于系统维护升级的通知" in a
# long list of links, which must not turn it red: link text is left out, and the body
# counts only when the page's own text is short, as error and maintenance pages are.
SOFT_ERROR_MAX_TEXT = 1500
# Codecs that spell every character one way, without state: text holding a word means the
# body holds the word's encoding, so phrases can be looked for in the undecoded body.
_PLAIN_CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gb18030": "gb18030", "gbk": "gbk",
                 "cp1252": "cp1252", "latin-1": "latin-1", "iso8859-1": "latin-1",
                 "ascii": "ascii", "big5": "big5"}  # fmt: skip
_REFERENCE = re.compile(rb"&(?:#[0-9]{1,8};?|#[xX][0-9a-fA-F]{1,8};?|[A-Za-z][A-Za-z0-9]{0,31};?)")


async def check(spec: AvailabilitySpec, ctx: CheckContext) -> Report:
    url = str(spec.url or ctx.channel.url or "")
    if not url:
        return Report(None, error="no url: set checks.availability.url or the channel's url")
    outcome = await ctx.fetch(url, method=spec.method)
    if isinstance(outcome, FetchFailure):
        return Report(
            False, AvailabilityFindings(url, outcome.status, outcome.duration),
            failure=outcome.failure, error=outcome.line,
            evidence=(f"{url}: {outcome.line}",),
            measurements=(
                Measurement("http_status_code", float(outcome.status)),
                Measurement("http_duration_seconds", outcome.duration),
            ),
        )  # fmt: skip
    page = outcome
    measurements = [
        Measurement("http_status_code", float(page.status)),
        Measurement("http_duration_seconds", page.duration),
        Measurement("http_content_length_bytes", float(len(page.content))),
        Measurement("http_redirects", float(len(page.redirects))),
    ]
    if page.tls_not_after is not None:
        measurements.append(Measurement("tls_cert_not_after_timestamp_seconds", page.tls_not_after))
    failure: Failure | None = None
    error = ""
    if page.status not in spec.valid_status_codes:
        failure, error = Failure.HTTP_STATUS, f"http_status: got {page.status}"
    elif phrase := page_soft_error(page.content, page.encoding, spec.soft_error_patterns):
        failure, error = Failure.SOFT_ERROR, f"soft_error: page says {phrase!r}"
    evidence = [f"{page.url}: HTTP {page.status} in {page.duration:.2f}s"]
    if error:
        evidence.append(error)
    return Report(
        failure is None, AvailabilityFindings(url, page.status, page.duration, page.tls_not_after),
        failure=failure, error=error, evidence=tuple(evidence),
        measurements=tuple(measurements),
    )  # fmt: skip


def history_span(spec: AvailabilitySpec) -> float:
    """The span of past probes the rule judges: the official window (default 7 days)."""
    return spec.unreachable.window


def window_measurements(window: RunWindow) -> tuple[Measurement, ...]:
    """The rule window's probe, failure and consecutive-failure counts, this run included,
    so dashboards show the share the verdict judged."""
    return (
        Measurement("availability_window_probes", float(window.runs)),
        Measurement("availability_window_failures", float(window.failures)),
        Measurement("availability_consecutive_failures", float(window.consecutive_failures)),
    )


def page_soft_error(content: bytes, encoding: str, patterns: list[str]) -> str | None:
    """`soft_error` of a body as fetched: the body is decoded and parsed only when one of
    the phrases may be in its text (most pages carry none; decoding and scanning the text
    cost more than scanning the bytes)."""
    codec = _PLAIN_CODECS.get(encoding)
    if codec is None:
        return soft_error(content.decode(encoding, errors="replace"), patterns)
    referenced: set[str] | None = None
    candidates = []
    for pattern in patterns:
        possible = bool(pattern)
        # The longest word first: the rarest, and the quickest to look for.
        for word in sorted(pattern.split(), key=len, reverse=True):
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
            candidates.append(pattern)
    if not candidates:
        return None
    return soft_error(content.decode(encoding, errors="replace"), candidates)


def _referenced_chars(content: bytes) -> set[str]:
    """Every character the body's character references (`&#31995;`, `&nbsp;`) can stand
    for; the trailing letters of a reference without its semicolon are included too."""
    refs = {m.group().decode("ascii") for m in _REFERENCE.finditer(content)}
    return set("".join(unescape(r) for r in refs))


def soft_error(html: str, patterns: list[str]) -> str | None:
    """The soft-error phrase the page shows as its message, if any (see above)."""
    # Parsing a 200 KB home page costs several times the rest of the check, and almost
    # every page carries none of the phrases; parse only when one of them may be shown.
    decoded: list[str] = []
    candidates = [p for p in patterns if p and _may_show(html, p, decoded)]
    if not candidates:
        return None
    title, text = page_message(html)
    for pattern in candidates:
        if pattern in title or (len(text) <= SOFT_ERROR_MAX_TEXT and pattern in text):
            return pattern
    return None


def _may_show(html: str, pattern: str, decoded: list[str]) -> bool:
    """False only when the page's text cannot contain `pattern`. The title and the text
    are the page's text nodes joined by spaces with whitespace collapsed, so each
    whitespace-free word of the pattern lies within one text node: it is in the source as
    written, or spelled with character references (`&#31995;`), which are decoded here
    (once per page, into `decoded`) only when a word is not found as written."""
    words = pattern.split()
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
    for node in tree.css("script, style, noscript, a"):
        node.decompose()
    title_node = tree.css_first("title")
    title = title_node.text() if title_node is not None else ""
    if title_node is not None:
        title_node.decompose()
    root = tree.body if tree.body is not None else tree.root
    text = " ".join(root.text(separator=" ").split()) if root is not None else ""
    return title, text
