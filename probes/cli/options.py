"""`-o KEY=VALUE` options of a one-off check, typed by the spec field they set.

A value stays the string it was typed as where its field takes a string (a selector
`#list li` is not a YAML comment, `on` is not `true`, `[0-9]+` is not a list); elsewhere it
is read as YAML, so `max_pages=3`, `enabled=false` and `forward_words=[转交, 请咨询]` work.
A key the spec does not name directly is looked up in the spec's nested sections (`item`
is `selectors.item` of a board, `item_selector` a freshness column's), as the kinds'
`for_url` route them.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel


def typed_options(model: type[BaseModel], options: dict[str, Any]) -> dict[str, Any]:
    """`options` (nested dicts of raw strings) with YAML read where the field is not a
    string field of `model`; ValueError on a value that is not valid YAML."""
    return _typed(model, options, ())


def _typed(
    model: type[BaseModel], options: dict[str, Any], path: tuple[str, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in options.items():
        here = (*path, key)
        if isinstance(value, dict):
            out[key] = _typed(model, value, here)
        elif isinstance(value, str) and not _takes_string(model, here):
            try:
                out[key] = yaml.safe_load(value) if value else ""
            except yaml.YAMLError as exc:
                line = str(exc).splitlines()[0]
                raise ValueError(
                    f"-o {'.'.join(here)}={value}: not a valid value ({line})"
                ) from exc
        else:
            out[key] = value
    return out


def _takes_string(model: type[BaseModel], path: tuple[str, ...]) -> bool:
    annotation = _field(model, path)
    return annotation is not None and _is_string(annotation)


def _field(model: type[BaseModel], path: tuple[str, ...]) -> Any:
    """The annotation of the field at `path`, a leading key also found in nested models."""
    fields = model.model_fields
    head, rest = path[0], path[1:]
    if head in fields:
        annotation = fields[head].annotation
        if not rest:
            return annotation
        if len(rest) == 1 and (value := _mapping_value(annotation)) is not None:
            return value  # a key of a dict field: `api.form.fid=14` is a form value
        nested = _models(annotation)
        return next((a for m in nested if (a := _field(m, rest)) is not None), None)
    for info in fields.values():
        for nested_model in _models(info.annotation):
            if (found := _field(nested_model, path)) is not None:
                return found
    return None


def _mapping_value(annotation: Any) -> Any:
    """The value type of a `dict[str, V]` (or `dict[str, V] | None`) annotation."""
    if typing.get_origin(annotation) is dict:
        return typing.get_args(annotation)[1]
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is dict:
            return typing.get_args(arg)[1]
    return None


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _is_string(annotation: Any) -> bool:
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return all(isinstance(a, str) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return any(_is_string(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _is_string(typing.get_args(annotation)[0])
    return False
