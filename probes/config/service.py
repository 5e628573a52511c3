"""Spec of the `service` check: a multi-step online-service transaction (在线办事) with
assertions per step, the values carried between steps, and the "broken after K
consecutive failed runs" rule its verdict applies.

A step's URL, form, JSON body and headers may use `{name}` placeholders; every name must
be a configured `variables` entry or extracted by an earlier step, which is checked here
at load time so a typo fails `config check`, not the 3 a.m. run.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from probes.config.base import HttpCheckSpec
from probes.config.types import Duration, Strict
from probes.pages.extract import parse_json_path
from probes.pages.softerror import DEFAULT_SOFT_ERRORS

# Consecutive failures are counted over the history the state keeps (35 days by default);
# a service failing for longer than that is long broken anyway.
HISTORY_LOOKBACK = 35 * 86400.0
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
_STEP_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


class Extract(Strict):
    """Where a value comes from: exactly one of `css` (with `attr`, else the element's
    text), `regex` (group 1, else the whole match) or `jsonpath` ($.a.b[0])."""

    css: str | None = None
    attr: str | None = Field(default=None, description="attribute to read (css only)")
    regex: str | None = None
    jsonpath: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [s for s in (self.css, self.regex, self.jsonpath) if s is not None]
        if len(sources) != 1:
            raise ValueError("an extract needs exactly one of css, regex, jsonpath")
        if self.attr is not None and self.css is None:
            raise ValueError("attr goes with css")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regex {self.regex!r}: {exc}") from exc
        if self.jsonpath is not None:
            parse_json_path(self.jsonpath)
        return self


class Expect(Strict):
    """What a step's response must satisfy; the first unmet item fails the step."""

    status: list[int] = Field(
        default_factory=lambda: [200], description="accepted final status codes"
    )
    body_contains: list[str] = Field(default_factory=list)
    body_not_contains: list[str] = Field(default_factory=list)
    json_equals: dict[str, Any] = Field(
        default_factory=dict, description="JSON path -> the value it must equal"
    )
    json_exists: list[str] = Field(default_factory=list, description="JSON paths that must exist")
    content_type: str | None = Field(
        default=None, description="media type prefix, for example application/json"
    )
    max_duration: Duration | None = Field(default=None, description="slower fails the step")

    @field_validator("json_exists")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            parse_json_path(path)
        return value

    @field_validator("json_equals")
    @classmethod
    def _path_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path in value:
            parse_json_path(path)
        return value


class Step(Strict):
    """One request of the transaction."""

    name: str = Field(description="step id, used as the `step` label: a-z, 0-9, _")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: str = Field(
        min_length=1,
        description="absolute, or relative to the channel's url; {name} placeholders "
        "are URL-quoted",
    )
    form: dict[str, str] | None = Field(default=None, description="form body (POST)")
    json_body: Any = Field(default=None, alias="json", description="JSON body")
    headers: dict[str, str] = Field(default_factory=dict)
    extract: dict[str, Extract] = Field(
        default_factory=dict, description="values for later steps' {name} placeholders"
    )
    expect: Expect = Field(default_factory=Expect)
    timeout: Duration | None = Field(
        default=None, description="deadline of this request (default: what is left of the run)"
    )

    @field_validator("name")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _STEP_NAME.match(value):
            raise ValueError(f"step name {value!r} must be 1-32 of a-z, 0-9, _ (a metric label)")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if self.form is not None and self.json_body is not None:
            raise ValueError("a step has a form body or a json body, not both")
        return self

    def placeholders(self) -> set[str]:
        """Every `{name}` this step's request uses."""
        texts = [self.url, *self.headers.values(), *(self.form or {}).values()]
        texts.extend(_strings(self.json_body))
        return {m.group(1) for text in texts for m in PLACEHOLDER.finditer(text)}


class ServiceSpec(HttpCheckSpec):
    steps: list[Step] = Field(min_length=1, description="the requests, run in order")
    variables: dict[str, str] = Field(
        default_factory=dict,
        description="initial {name} values (use ${ENV_VAR} for secrets)",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="headers of every step (a step's own win); one using {name} is sent "
        "from the first step after its value is known, e.g. Authorization: Bearer {token}",
    )
    soft_error_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SOFT_ERRORS),
        description="text that fails a step even with a good status (maintenance, WAF pages)",
    )
    failures_for_broken: int = Field(
        default=3, ge=1, description="consecutive failed runs that make the service a zombie"
    )

    @model_validator(mode="after")
    def _names_resolve(self) -> Self:
        known = set(self.variables)
        seen: set[str] = set()
        for step in self.steps:
            if step.name in seen:
                raise ValueError(f"step name {step.name!r} is used twice")
            seen.add(step.name)
            missing = step.placeholders() - known
            if missing:
                raise ValueError(
                    f"step {step.name!r} uses {', '.join(sorted(missing))} before any "
                    "variable or earlier extract defines it"
                )
            known |= set(step.extract)
        for name, value in self.headers.items():
            missing = {m.group(1) for m in PLACEHOLDER.finditer(value)} - known
            if missing:
                raise ValueError(
                    f"header {name!r} uses {', '.join(sorted(missing))}, which no variable "
                    "or extract defines"
                )
        return self

    @classmethod
    def for_url(cls, url: str, options: dict[str, Any]) -> Self:
        """A one-step GET of `url` with the default assertions and soft-error patterns."""
        return cls.model_validate({"steps": [{"name": "get", "url": url}], **options})


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
