"""The config loader: defaults, durations, env substitution, and errors that name the
file, the line and the field."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from probes.config import ConfigError, load_config, parse_config
from probes.config.schema import schema_text
from probes.config.types import parse_duration, parse_size

ROOT = Path(__file__).resolve().parents[1]
INVALID = sorted((Path(__file__).parent / "configs" / "invalid").glob("*.yaml"))


def _expectation(path: Path) -> tuple[int, str, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} needs an '# expect:' header"
    line, field, message = first[len("# expect: ") :].split(" ", 2)
    return int(line), field, message.strip()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_config_names_file_line_and_field(path: Path) -> None:
    line, field, message = _expectation(path)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    issues = info.value.issues
    match = [i for i in issues if i.line == line and i.field == field and message in i.message]
    assert match, f"expected line {line} field {field!r} with {message!r}, got:\n{info.value}"
    assert str(match[0]).startswith(f"{path}:{line}:")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("14d", 14 * 86400), ("1h30m", 5400), ("2w", 1209600),
     ("250ms", 0.25), (30, 30), ("1.5h", 5400)],
)  # fmt: skip
def test_durations_parse_to_seconds(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["fast", "15", "m15", "1x", "", "-5s", "15m abc"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"), [("5MiB", 5 * 2**20), ("512KiB", 2**19), ("10MB", 10**7), (1024, 1024)]
)
def test_sizes_parse_to_bytes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


def test_checks_inherit_interval_and_timeout_from_global() -> None:
    config = parse_config(
        """
global: {interval: 10m, timeout: 7s}
channels:
  - name: portal
    kind: website
    owner: 市政府办公厅
    url: http://www.example.gov.cn/
    checks:
      availability: {interval: 1h}
"""
    )
    spec = config.channels[0].checks.availability
    assert spec is not None
    assert (spec.every, spec.deadline) == (3600, 7)


def test_env_substitution_fills_secrets_and_defaults() -> None:
    config = parse_config(
        """
channels:
  - name: portal
    kind: website
    owner: ${OWNER}
    url: ${BASE:-http://default.example.gov.cn}/index.html
    checks: {availability: {}}
""",
        environ={"OWNER": "市数据局"},
    )
    channel = config.channels[0]
    assert channel.owner == "市数据局"
    assert str(channel.url) == "http://default.example.gov.cn/index.html"


def test_every_error_in_a_file_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            """
channels:
  - name: a
    kind: website
    owner: x
    checks: {availability: {timeout: soon, retries: 3}}
""",
            "two.yaml",
        )
    fields = {i.field for i in info.value.issues}
    assert fields == {"channels[0].checks.availability.timeout",
                      "channels[0].checks.availability.retries"}  # fmt: skip


@pytest.mark.parametrize("name", ["example.yaml", "demo.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    path = ROOT / "config" / name
    if not path.exists():
        pytest.fail(f"config/{name} is missing")
    config = load_config(path, environ={})
    assert config.channels


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "config" / "schema.json").read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(schema_text()), (
        "config/schema.json is stale: run `zombie-probes config schema > config/schema.json`"
    )


@pytest.mark.parametrize("name", ["example.yaml", "demo.yaml"])
def test_schema_accepts_the_shipped_configs_as_an_editor_would(name: str) -> None:
    # Editors validate the raw YAML, before `${ENV}` substitution.
    schema = json.loads((ROOT / "config" / "schema.json").read_text(encoding="utf-8"))
    document = yaml.safe_load((ROOT / "config" / name).read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads(schema_text())
    for document in (
        {"global": {"max_in_flight": "many"}},
        {"channels": [{"name": "a", "kind": "website", "owner": "x", "colour": "red"}]},
        {"channels": [{"name": "a", "kind": "radio", "owner": "x"}]},
    ):
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(document)), document
