"""Config of a list read from a JSON API (`probes.pages.jsonlist`): the request, the
success test, the item list, paging. The fields of each item are declared by the check
that reads the list (a board's message fields live in `probes.config.board`)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, HttpUrl, field_validator, model_validator

from probes.config.types import Strict
from probes.pages.extract import JsonPathError, parse_json_path


def json_path(value: str | None) -> str | None:
    """A JSON path field's validator: the path in the supported subset, or ValueError."""
    if value is not None:
        try:
            parse_json_path(value)
        except JsonPathError as exc:
            raise ValueError(str(exc)) from exc
    return value


class JsonOk(Strict):
    """What a successful answer holds: `path` equal to `equals`; otherwise the text at
    `error` (if given) is the reason."""

    path: str = Field(description="JSON path of the success flag, e.g. result")
    equals: str = Field(description="its value on success, e.g. success")
    error: str | None = Field(default=None, description="JSON path of the error text")

    _paths = field_validator("path", "error")(json_path)


class JsonPaging(Strict):
    """How the next page is asked for (bounded by the check's `max_pages`)."""

    by: Literal["page", "offset", "cursor"] = Field(
        description="page: a page number; offset: a row offset; cursor: a value of the last "
        "item (or of the answer) names the next page"
    )
    param: str = Field(description="request field of the page number, offset or cursor")
    start: int | str = Field(
        default=1, description="its value for the first page (page 1, offset 0, cursor 0)"
    )
    step: int = Field(default=10, ge=1, description="offset: rows per page")
    cursor: str | None = Field(
        default=None, description="cursor: JSON path in the last item (e.g. tid) of the next one"
    )
    cursor_in_response: bool = Field(
        default=False, description="cursor: the path is in the whole answer, not the last item"
    )

    _paths = field_validator("cursor")(json_path)

    @model_validator(mode="after")
    def _cursor(self) -> Self:
        if self.by == "cursor" and self.cursor is None:
            raise ValueError("cursor paging needs cursor: the JSON path of the next cursor")
        if self.by != "cursor" and not str(self.start).lstrip("-").isdigit():
            raise ValueError(f"{self.by} paging starts at a number, not {self.start!r}")
        return self


class JsonList(Strict):
    """Where a list API is and how to read its pages."""

    url: HttpUrl = Field(description="the API endpoint")
    method: Literal["GET", "POST"] = "GET"
    form: dict[str, str] | None = Field(default=None, description="POST form fields")
    body: dict[str, Any] | None = Field(default=None, description="POST JSON body")
    headers: dict[str, str] = Field(default_factory=dict, description="request headers")
    warm_up: HttpUrl | None = Field(
        default=None,
        description="GET this page first and send its cookies (sites whose WAF refuses "
        "API calls without a session, such as 人民网's forum/list page)",
    )
    ok: JsonOk | None = Field(default=None, description="success test of an answer")
    items: str = Field(description="JSON path of the item list, e.g. responseData")
    paging: JsonPaging | None = Field(default=None, description="no paging: page 1 only")

    _paths = field_validator("items")(json_path)

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if self.form is not None and self.body is not None:
            raise ValueError("a POST has a form or a JSON body, not both")
        if self.method == "GET" and (self.form is not None or self.body is not None):
            raise ValueError("a GET has no form or body: put the fields in the url")
        return self
