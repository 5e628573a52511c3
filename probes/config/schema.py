"""The JSON Schema of the config file, generated from the models (committed as
`config/schema.json` so editors can complete and check the YAML).

Any value may be written as an environment reference (`port: ${MQTT_PORT:-1883}`): it is
a string in the file and becomes a number, a boolean or a list item only after
substitution, so every non-string leaf also accepts a string holding a `${…}` reference.
"""

from __future__ import annotations

import json
from typing import Any

from probes.config.model import Config

ENV_REFERENCE = {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}"}
_LEAF_TYPES = {"integer", "number", "boolean"}


def schema_text() -> str:
    schema = Config.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "zombie-probes configuration"
    return json.dumps(_allow_env(schema), ensure_ascii=False, indent=2) + "\n"


def _allow_env(node: Any) -> Any:
    if isinstance(node, list):
        return [_allow_env(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _allow_env(value) for key, value in node.items()}
    # `type` is a keyword here unless it is a property's schema (a column's `type:`).
    kind = out.get("type")
    if isinstance(kind, str) and kind in _LEAF_TYPES:
        keep = {k: v for k, v in out.items() if k in {"title", "description", "default"}}
        typed = {k: v for k, v in out.items() if k not in keep}
        return {**keep, "anyOf": [typed, ENV_REFERENCE]}
    return out
