"""Reads a YAML config file into a validated `Config`, or a `ConfigError` whose every
issue names the file, the line and the field.

YAML is composed into nodes (not loaded straight to dicts) so every value keeps its line;
`${NAME}` and `${NAME:-default}` in string values are replaced from the environment while
walking them, so a secret never sits in the file and a missing one is an error at its line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from probes.config.model import Config

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")
_STR_TAG = "tag:yaml.org,2002:str"
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file: where it is and what is wrong."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(Exception):
    """A config file that cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class _Walker:
    def __init__(self, file: str, environ: Mapping[str, str]) -> None:
        self.file = file
        self.environ = environ
        self.marks: dict[Loc, tuple[int, int]] = {}
        self.issues: list[ConfigIssue] = []
        self.loader = yaml.SafeLoader("")

    def walk(self, node: yaml.Node, loc: Loc) -> Any:
        self.marks[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node)
                if key in out:
                    self._issue(key_node, loc + (key,), f"duplicate key {key!r}")
                self.marks[loc + (key,)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.walk(value_node, loc + (key,))
                self.marks[loc + (key,)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(child, loc + (i,)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG and "${" in node.value:
            return self._substitute(node, loc)
        return self.loader.construct_object(node)

    def _substitute(self, node: yaml.ScalarNode, loc: Loc) -> str:
        def one(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.environ:
                return self.environ[name]
            if default is not None:
                return default
            self._issue(node, loc, f"environment variable {name} is not set")
            return ""

        return _ENV.sub(one, str(node.value))

    def _issue(self, node: yaml.Node, loc: Loc, message: str) -> None:
        self.issues.append(
            ConfigIssue(
                self.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                dotted(loc),
                message,
            )
        )

    def mark_for(self, loc: Loc) -> tuple[int, int]:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.marks:
                return self.marks[loc[:end]]
        return (1, 1)


def dotted(loc: Loc) -> str:
    """`channels[2].checks.availability.timeout` from a pydantic/YAML location."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_config(
    text: str, file: str = "<config>", environ: Mapping[str, str] | None = None
) -> Config:
    """Validate config text; every problem is collected into one `ConfigError`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError(
            [ConfigIssue(file, line, col, "", f"YAML syntax: {exc.problem or exc}")]
        ) from exc
    walker = _Walker(file, os.environ if environ is None else environ)
    data = walker.walk(node, ()) if node is not None else {}
    if walker.issues:
        raise ConfigError(walker.issues)
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(file, 1, 1, "", "the top level must be a mapping")])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not _is_pydantic_tag(p))
            line, col = walker.mark_for(loc)
            issues.append(ConfigIssue(file, line, col, dotted(loc), _message(err)))
        raise ConfigError(issues) from exc
    return config.with_defaults()


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(str(path), 0, 0, "", f"cannot read: {exc}")]) from exc
    return parse_config(text, str(path), environ)


def _is_pydantic_tag(part: str | int) -> bool:
    # Locations through unions and validators carry tags like "function-after[...]".
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "list"})


def _message(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown key (not part of the configuration)"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "missing":
        return "required field is missing"
    return msg
