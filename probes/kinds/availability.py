"""The `availability` check kind: does the page open within the deadline, with an
expected status, and is it not a soft error page (HTTP 200 saying 系统维护 / 页面不存在)?

One probe per run; the official window rule over many probes is the verdict's job
(`probes.verdict.availability`), from the history the runner records. The window's
counts including this run are reported as measurements, so dashboards show the share the
verdict judged.
"""

from __future__ import annotations

from dataclasses import replace

from probes.config.availability import AvailabilitySpec
from probes.http.fetcher import FetchFailure
from probes.kinds.context import CheckContext
from probes.model import CheckResult, Failure, Measurement
from probes.pages.softerror import page_soft_error
from probes.state import history


async def check(spec: AvailabilitySpec, ctx: CheckContext) -> CheckResult:
    url = str(spec.url or ctx.channel.url or "")
    started = ctx.clock.now()
    if not url:
        return CheckResult(
            "availability", "availability", None, started, 0.0,
            error="no url: set checks.availability.url or the channel's url",
        )  # fmt: skip
    result = await _probe(spec, ctx, url, started)
    return _with_window(spec, ctx, result)


async def _probe(
    spec: AvailabilitySpec, ctx: CheckContext, url: str, started: float
) -> CheckResult:
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
    elif phrase := page_soft_error(page.content, page.encoding, spec.soft_error_patterns):
        failure, error = Failure.SOFT_ERROR, f"soft_error: page says {phrase!r}"
    evidence = [f"{page.url}: HTTP {page.status} in {page.duration:.2f}s"]
    if error:
        evidence.append(error)
    return CheckResult(
        "availability", "availability", failure is None, started, page.duration,
        failure=failure, error=error, evidence=tuple(evidence),
        measurements=tuple(measurements),
    )  # fmt: skip


def _with_window(spec: AvailabilitySpec, ctx: CheckContext, result: CheckResult) -> CheckResult:
    """Add the rule window's probe, failure and consecutive-failure counts, this run
    included (it is recorded after the check returns)."""
    stats = history.window(
        ctx.store, ctx.channel.name, "availability", ctx.clock.now() - spec.unreachable.window
    )
    failed = result.success is False
    consecutive = stats.consecutive_failures + 1 if failed else 0
    extra = (
        Measurement("availability_window_probes", float(stats.runs + 1)),
        Measurement("availability_window_failures", float(stats.failures + failed)),
        Measurement("availability_consecutive_failures", float(consecutive)),
    )
    return replace(result, measurements=result.measurements + extra)
