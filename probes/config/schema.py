"""The JSON Schema of the config file, generated from the models (committed as
`config/schema.json` so editors can complete and check the YAML)."""

from __future__ import annotations

import json

from probes.config.model import Config


def schema_text() -> str:
    schema = Config.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "zombie-probes configuration"
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
