"""Reads a YAML config file into a validated `Config`, or a `ConfigError` whose every
issue names the file, the line and the field.

YAML is composed into nodes (not loaded straight to dicts) so every value keeps its line;
`${NAME}` and `${NAME:-default}` in string values are replaced from the environment while
walking them, so a secret never sits in the file and a missing one is an error at its line.

Hostile or runaway files are refused cheaply, naming the file and line: a file larger
than `MAX_CONFIG_BYTES` is not read; nesting deeper than `MAX_DEPTH` stops the composer
(libyaml's scanner stops runaway flow nesting at 1,000 levels itself; the pure-Python
scanner, used without libyaml, is stopped at `MAX_DEPTH`); aliases are followed while
composing with the size of what they expand to counted once per node, so an alias bomb
(a few hundred bytes standing for billions of values) is refused at the line where its
expansion passes `MAX_NODES`, before anything is expanded, and an alias inside its own
anchor (`a: &x [*x]`) is refused as recursive.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from probes.config.model import Config
from probes.model import one_line

MAX_CONFIG_BYTES = 32 * 1024 * 1024  # a national config of 14,000 sites is a few MiB
MAX_DEPTH = 64  # levels of mappings and lists (the schema needs fewer than 10)
MAX_NODES = 2_000_000  # values once aliases are expanded
KEEP_FROM_CHANNELS = 2_000  # configs this large are kept out of garbage collections
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
        message = one_line(self.message)
        return f"{where}: {self.field}: {message}" if self.field else f"{where}: {message}"


class ConfigError(Exception):
    """A config file that cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class _Refused(yaml.MarkedYAMLError):
    """A YAML document past a bound, at the mark where it went past."""

    def __init__(self, problem: str, problem_mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=problem_mark)


class _PythonSafeLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.constructor.SafeConstructor,
    yaml.resolver.Resolver,
):
    """PyYAML's pure-Python safe loader without its composer (`BoundedLoader` brings
    that), for a PyYAML built without libyaml."""

    def __init__(self, stream: str | bytes) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def fetch_flow_collection_start(self, TokenClass: type[yaml.Token]) -> None:
        # Refused in the scanner, whose look-ahead for simple keys grows with flow depth:
        # `[[[[...` costs a quadratic scan before the composer sees any of it. (libyaml
        # stops at 1,000 levels by itself.)
        if self.flow_level >= MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", self.get_mark())
        super().fetch_flow_collection_start(TokenClass)


# libyaml's scanner and parser (C) when PyYAML has them, several times faster than the
# pure-Python ones on large configs; the composing stays in Python, where the bounds are.
if TYPE_CHECKING or yaml.__with_libyaml__:
    from yaml import CSafeLoader as _SafeLoader
else:
    _SafeLoader = _PythonSafeLoader


class BoundedLoader(yaml.composer.Composer, _SafeLoader):
    """A safe YAML loader with nesting, alias expansion and recursive aliases bounded
    (see the module docstring); usable wherever `yaml.SafeLoader` is."""

    def __init__(self, stream: str | bytes) -> None:
        _SafeLoader.__init__(self, stream)
        yaml.composer.Composer.__init__(self)  # composing by the Python methods below
        self._depth = 0
        self._open: set[str] = set()  # anchors whose node is still being composed
        self._sizes: dict[int, int] = {}  # id(node) -> values it expands to

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.ScalarEvent):  # most nodes: nothing nests or expands
            return super().compose_node(parent, index)
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise _Refused(problem=f"recursive alias *{event.anchor} (inside its own "
                               "anchor)", problem_mark=event.start_mark)  # fmt: skip
            return super().compose_node(parent, index)
        anchor = getattr(event, "anchor", None)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(problem=f"nested deeper than {MAX_DEPTH} levels",
                           problem_mark=getattr(event, "start_mark", None))  # fmt: skip
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor or "")
        if isinstance(node, yaml.CollectionNode):
            sizes = self._sizes
            if isinstance(node, yaml.MappingNode):
                size = 1 + sum(sizes.get(id(k), 1) + sizes.get(id(v), 1) for k, v in node.value)
            else:
                size = 1 + sum(sizes.get(id(c), 1) for c in node.value)
            if size > MAX_NODES:
                problem = f"expands to more than {MAX_NODES:,} values (aliases repeat what they "
                raise _Refused(problem=problem + "point to)", problem_mark=node.start_mark)
            self._sizes[id(node)] = size
        return node


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
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError([ConfigIssue(file, 1, 1, "", _too_large())])
    try:
        node = yaml.compose(text, Loader=BoundedLoader)
    except _Refused as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([ConfigIssue(file, line, col, "", str(exc.problem))]) from exc
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
    """Read and validate a config file (with the cyclic collector held, see
    `CollectorHeld`)."""
    with CollectorHeld() as held:
        config = _load_config(Path(path), environ)
        held.keep = len(config.channels) >= KEEP_FROM_CHANNELS
    return config


def _load_config(path: Path, environ: Mapping[str, str] | None) -> Config:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError([ConfigIssue(str(path), 1, 1, "", _too_large())])
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = one_line(str(exc))
        raise ConfigError([ConfigIssue(str(path), 0, 0, "", f"cannot read: {reason}")]) from exc
    return parse_config(text, str(path), environ)


class CollectorHeld:
    """No cyclic garbage collection while a config is built; with `keep` set, what is
    alive at the end is kept out of later collections (`gc.freeze`).

    Each collection walks the objects of its generations, so collections triggered while
    millions of nodes and models are made cost more than the building (a 20,000-channel
    file loads in less than half the time without them) and stop the event loop for up
    to a second each; and every full collection after it would walk the whole config
    again. A config holds no reference
    cycles: reference counting frees it when it is replaced. The price of keeping: cycles
    among what is alive at that moment are never collected, so only a large config
    (`KEEP_FROM_CHANNELS`) is kept.
    """

    def __init__(self) -> None:
        self.keep = False
        self._was_enabled = True

    def __enter__(self) -> CollectorHeld:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.keep:
            gc.freeze()
        if self._was_enabled:
            gc.enable()


def _too_large() -> str:
    return f"larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB: not read as a config"


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
