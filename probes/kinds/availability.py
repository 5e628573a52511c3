"""The `availability` check kind: does the page open within the deadline, with an
expected status, and is it not a soft error page (HTTP 200 saying 系统维护 / 页面不存在)?
An anti-bot challenge (瑞数 412, 加速乐 521, …: `probes.pages.challenge`) in front of the
page is neither: the run could not tell (`blocked`), and the window does not count it.

One probe per run; the official window rule over many probes is the verdict's job
(`probes.verdict.availability`), over the window of past runs the runner hands it
(`window_span`). The window's counts including this run are reported as measurements
(`window_measurements`), so dashboards show the share the verdict judged.
"""

from __future__ import annotations

from probes.config.availability import AvailabilitySpec
from probes.findings.availability import AvailabilityFindings
from probes.http.fetcher import FetchFailure
from probes.kinds.context import CheckContext
from probes.model import Failure, Measurement, Report, RunWindow
from probes.pages import challenge
from probes.pages.complexity import EXACT_FROM, not_text, too_complex
from probes.pages.softerror import page_soft_error

# Bodies read as text (an unknown content type is too).
_TEXT_TYPES = ("text/", "application/xhtml", "application/xml")


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
    findings = AvailabilityFindings(url, page.status, page.duration, page.tls_not_after)
    if blocked := challenge.detect(page.status, page.content, page.encoding):
        return Report(
            None, findings, failure=Failure.BLOCKED, error=blocked.line,
            evidence=(f"{page.url}: HTTP {page.status}: {blocked.line}",),
            measurements=tuple(measurements),
        )  # fmt: skip
    failure: Failure | None = None
    error = ""
    if page.status not in spec.valid_status_codes:
        failure, error = Failure.HTTP_STATUS, f"http_status: got {page.status}"
    else:
        failure, error = await ctx.read(
            page.content, _read, page.content, page.content_type, page.encoding,
            spec.soft_error_patterns,
        )  # fmt: skip
    evidence = [f"{page.url}: HTTP {page.status} in {page.duration:.2f}s"]
    if error:
        evidence.append(error)
    return Report(
        failure is None, findings, failure=failure, error=error, evidence=tuple(evidence),
        measurements=tuple(measurements),
    )  # fmt: skip


def _read(
    content: bytes, content_type: str, encoding: str, phrases: list[str]
) -> tuple[Failure | None, str]:
    """Why a page that answered is not healthy, as (failure, error): unreadable, or a soft
    error page. Runs in a page worker for a big page."""
    if unreadable := _unreadable(content, content_type, encoding):
        return Failure.PARSE_ERROR, unreadable
    if phrase := page_soft_error(content, encoding, phrases):
        return Failure.SOFT_ERROR, f"soft_error: page says {phrase!r}"
    return None, ""


def _unreadable(content: bytes, content_type: str, encoding: str) -> str | None:
    """Why a text page cannot be a healthy page: bytes that are not text, or markup too
    complex to read (`probes.pages.complexity`). Other content types are not read."""
    if content_type and not content_type.startswith(_TEXT_TYPES):
        return None
    if garbled := not_text(content, encoding):
        return garbled
    if content.count(b"<") <= EXACT_FROM:
        return None  # too few tags to be too complex: no need to decode
    return too_complex(content.decode(encoding, errors="replace"))


def window_span(spec: AvailabilitySpec) -> float:
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
