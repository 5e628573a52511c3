"""Configuration: pydantic models (the single source of defaults, validation and the JSON
Schema) and the YAML loader that names file, line and field for every error."""

from probes.config.loader import ConfigError, ConfigIssue, load_config, parse_config
from probes.config.model import ChannelConfig, ChecksConfig, Config, GlobalConfig

__all__ = [
    "ChannelConfig",
    "ChecksConfig",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "GlobalConfig",
    "load_config",
    "parse_config",
]
