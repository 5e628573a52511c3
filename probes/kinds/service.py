"""The `service` check kind: run an online service's transaction step by step, carrying
cookies and extracted values (a token, an id) from one step to the next, and stop at the
first step that fails its assertions or shows a soft-error page (系统维护 / WAF block with
HTTP 200). The result names the failing step and why.

One run is one transaction; the "broken after K consecutive failed runs" rule is the
verdict's (`probes.verdict.service`), over the window of past runs the runner hands it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from probes.config.service import HISTORY_LOOKBACK, PLACEHOLDER, ServiceSpec, Step
from probes.findings.service import ServiceFindings, StepOutcome
from probes.http.fetcher import FetchFailure, Page
from probes.kinds.context import CheckContext
from probes.model import Failure, Measurement, Report, RunWindow
from probes.pages import challenge
from probes.pages.complexity import too_complex
from probes.pages.extract import decode_json, extract, json_get
from probes.pages.softerror import soft_error

# A step's error page says little besides its message; a result page with more text than
# this that mentions 系统维护 is a working page carrying a notice.
SOFT_ERROR_MAX_TEXT = 3000


async def check(spec: ServiceSpec, ctx: CheckContext) -> Report:
    base = str(ctx.channel.url or "")
    values: dict[str, str] = dict(spec.variables)
    cookies = httpx.Cookies()
    outcomes: list[StepOutcome] = []
    for step in spec.steps:
        outcome, cookies = await _run_step(
            step, spec, ctx, base=base, values=values, cookies=cookies
        )
        outcomes.append(outcome)
        if not outcome.ok:
            break
    failed = next((o for o in outcomes if not o.ok), None)
    measurements = [
        Measurement("service_step_success", float(o.ok), (("step", o.name),)) for o in outcomes
    ]
    # The transaction's time is its requests' (the runner's duration adds the rest).
    measurements.append(Measurement("service_duration_seconds", sum(o.duration for o in outcomes)))
    evidence = [o.line for o in outcomes]
    skipped = [s.name for s in spec.steps[len(outcomes) :]]
    if skipped:
        evidence.append(f"not run after the failure: {', '.join(skipped)}")
    # A run stopped by an anti-bot challenge could not tell: not a failed run.
    blocked = failed is not None and failed.failure is Failure.BLOCKED
    return Report(
        None if blocked else failed is None, ServiceFindings(tuple(outcomes)),
        failure=failed.failure if failed else None,
        error=f"step {failed.name}: {failed.error}" if failed else "",
        evidence=tuple(evidence),
        measurements=tuple(measurements),
    )  # fmt: skip


def window_span(spec: ServiceSpec) -> float:
    """How far back consecutive failed runs are counted."""
    return HISTORY_LOOKBACK


def window_measurements(window: RunWindow) -> tuple[Measurement, ...]:
    return (Measurement("service_consecutive_failures", float(window.consecutive_failures)),)


async def _run_step(
    step: Step,
    spec: ServiceSpec,
    ctx: CheckContext,
    *,
    base: str,
    values: dict[str, str],
    cookies: httpx.Cookies,
) -> tuple[StepOutcome, httpx.Cookies]:
    url = fill(step.url, values, url=True)
    url = urljoin(base, url) if base else url
    got = await ctx.fetch(
        url,
        timeout=step.timeout,
        method=step.method,
        headers=step_headers(spec, step, values) or None,
        data={k: fill(v, values) for k, v in step.form.items()} if step.form else None,
        json=fill_json(step.json_body, values),
        cookies=cookies,
    )
    if isinstance(got, FetchFailure):
        return StepOutcome(
            step.name, False, got.status, got.duration, got.failure, got.line
        ), cookies
    answer = Answer(got.status, got.content_type, got.duration, got.content, got.encoding)
    failure, error, taken = await ctx.read(got.content, _read_step, step, spec, answer)
    values.update(taken)
    ok = failure is None
    return StepOutcome(step.name, ok, got.status, got.duration, failure, error), got.cookies


@dataclass(frozen=True, slots=True)
class Answer:
    """What a step's reading needs of its response, sendable to a page worker (a `Page`
    carries its cookie jar, which is not)."""

    status: int
    content_type: str
    duration: float
    content: bytes
    encoding: str

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")


def _read_step(
    step: Step, spec: ServiceSpec, answer: Answer
) -> tuple[Failure | None, str, dict[str, str]]:
    """A step's response judged (`assess`) and, when it passes, its values extracted, as
    (failure, error, values). Runs in a page worker for a big page."""
    failure, error = assess(step, spec, answer)
    values: dict[str, str] = {}
    if failure is None:
        for name, rule in step.extract.items():
            taken = extract(
                answer.text, css=rule.css, attr=rule.attr, regex=rule.regex,
                jsonpath=rule.jsonpath,
            )  # fmt: skip
            if taken.value is None:
                return Failure.ASSERTION, f"assertion: could not take {name}: {taken.error}", {}
            values[name] = taken.value
    return failure, error, values


def assess(step: Step, spec: ServiceSpec, page: Page | Answer) -> tuple[Failure | None, str]:
    """The first unmet expectation of a step's response, as (failure, error)."""
    expect = step.expect
    if wall := challenge.detect(page.status, page.content, page.encoding):
        return Failure.BLOCKED, wall.line
    if page.status not in expect.status:
        return Failure.HTTP_STATUS, f"http_status: got {page.status}, want {expect.status}"
    text = page.text
    if hostile := too_complex(text):
        return Failure.PARSE_ERROR, hostile
    if phrase := soft_error(text, spec.soft_error_patterns, max_text=SOFT_ERROR_MAX_TEXT):
        return Failure.SOFT_ERROR, f"soft_error: page says {phrase!r}"
    if expect.content_type and not page.content_type.startswith(expect.content_type.lower()):
        got = page.content_type or "none"
        return Failure.ASSERTION, f"assertion: content type {got}, want {expect.content_type}"
    if expect.max_duration is not None and page.duration > expect.max_duration:
        return Failure.ASSERTION, (
            f"assertion: took {page.duration:.2f}s, limit {expect.max_duration:g}s"
        )
    for needle in expect.body_contains:
        if needle not in text:
            return Failure.ASSERTION, f"assertion: body lacks {needle!r}"
    for needle in expect.body_not_contains:
        if needle in text:
            return Failure.ASSERTION, f"assertion: body contains {needle!r}"
    if expect.json_equals or expect.json_exists:
        ok, doc = decode_json(text)
        if not ok:
            return Failure.ASSERTION, f"assertion: body is {doc}"  # not JSON, or too deep
        for path in expect.json_exists:
            if not json_get(doc, path)[0]:
                return Failure.ASSERTION, f"assertion: JSON path {path} missing"
        for path, want in expect.json_equals.items():
            found, value = json_get(doc, path)
            if not found or value != want:
                shown = json.dumps(value, ensure_ascii=False) if found else "missing"
                return Failure.ASSERTION, (
                    f"assertion: JSON {path} is {shown[:80]}, want "
                    f"{json.dumps(want, ensure_ascii=False)}"
                )
    return None, ""


def step_headers(spec: ServiceSpec, step: Step, values: dict[str, str]) -> dict[str, str]:
    """The transaction's headers whose values are known by now, then the step's own."""
    out: dict[str, str] = {}
    for name, value in spec.headers.items():
        if all(m.group(1) in values for m in PLACEHOLDER.finditer(value)):
            out[name] = fill(value, values)
    out.update({k: fill(v, values) for k, v in step.headers.items()})
    return out


def fill(template: str, values: dict[str, str], *, url: bool = False) -> str:
    """`{name}` placeholders replaced by their values (URL-quoted inside a URL)."""

    def one(match: Any) -> str:
        value = values[match.group(1)]
        return quote(value, safe="") if url else value

    return PLACEHOLDER.sub(one, template)


def fill_json(body: Any, values: dict[str, str]) -> Any:
    """A JSON body with placeholders filled in every string it holds."""
    if isinstance(body, str):
        return fill(body, values)
    if isinstance(body, dict):
        return {k: fill_json(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [fill_json(v, values) for v in body]
    return body
