"""The `availability` check kind: does the page open within the deadline, with an
expected status, and is it not a soft error page (HTTP 200 saying 系统维护 / 页面不存在)?

One probe per run; the official window rule over many probes is the verdict's job
(`probes.verdict.availability`), from the history the runner records.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from probes.config.availability import AvailabilitySpec
from probes.fetch import FetchFailure
from probes.kinds.context import CheckContext
from probes.model import CheckResult, Failure, Measurement

# Soft-error phrases are looked for in the visible head of the page only: a healthy
# portal can mention "系统维护" in a news item far down the page, while a maintenance
# page says it up front and is short.
SOFT_ERROR_SCAN_CHARS = 3000


async def check(spec: AvailabilitySpec, ctx: CheckContext) -> CheckResult:
    url = str(spec.url or ctx.channel.url or "")
    started = ctx.clock.now()
    if not url:
        return CheckResult(
            "availability", "availability", None, started, 0.0,
            error="no url: set checks.availability.url or the channel's url",
        )  # fmt: skip
    outcome = await ctx.fetcher.fetch(url, timeout=ctx.remaining(), method=spec.method)
    if isinstance(outcome, FetchFailure):
        return CheckResult(
            "availability", "availability", False, started, outcome.duration,
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
    elif phrase := soft_error(page.text, spec.soft_error_patterns):
        failure, error = Failure.SOFT_ERROR, f"soft_error: page says {phrase!r}"
    evidence = [f"{page.url}: HTTP {page.status} in {page.duration:.2f}s"]
    if error:
        evidence.append(error)
    return CheckResult(
        "availability", "availability", failure is None, started, page.duration,
        failure=failure, error=error, evidence=tuple(evidence),
        measurements=tuple(measurements),
    )  # fmt: skip


def soft_error(text: str, patterns: list[str]) -> str | None:
    """The first soft-error phrase in the page's title or opening text, if any."""
    head = visible_head(text)
    return next((p for p in patterns if p and p in head), None)


def visible_head(html: str) -> str:
    """The title and the start of the visible text of an HTML page (markup dropped)."""
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, noscript"):
        node.decompose()
    title = tree.css_first("title")
    body = tree.body.text(separator=" ") if tree.body is not None else tree.text()
    head = (title.text() if title is not None else "") + " " + " ".join(body.split())
    return head[:SOFT_ERROR_SCAN_CHARS]
