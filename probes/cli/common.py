"""What several commands share: loading the config or the state file they were pointed
at (one line and exit 2 or 3 when they cannot), and the zone a channel's times are printed in.

Commands that read or write a monitor's state take `-c FILE` (its `state_path`) or
`--state FILE`; they never fall back to a file in the current directory, which would
silently be a different, empty state.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from probes.config import Config, ConfigError, load_config
from probes.config.model import DEFAULT_TIMEZONE
from probes.hotline.sink import IngestCounters
from probes.state.errors import StateError
from probes.state.store import Store

EXIT_UNKNOWN = 3


EXIT_STATE = 2  # a state file that cannot be used, as `serve` exits for one


def fail(message: str, code: int = EXIT_UNKNOWN) -> typer.Exit:
    """Print one line to stderr; the caller raises the returned exit (status 3 unless
    told)."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def load(path: Path | None) -> Config | None:
    if path is None:
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        raise fail(f"invalid config:\n{exc}") from exc


def state_path(config: Config | None, state: Path | None) -> Path:
    """`--state FILE`, else the config's `state_path`; neither is a usage error."""
    if state is not None:
        return state
    if config is None:
        raise fail("give -c FILE (its state_path is used) or --state FILE")
    return Path(config.global_.state_path)


def open_store(path: Path, *, must_exist: bool) -> Store:
    """Open the state file; one line and exit 2 when it cannot be used (or, for readers,
    does not exist: reading a fresh empty file would only say "nothing")."""
    if must_exist and not path.exists():
        message = f"state file {path}: no such file (is this the monitor's state_path?)"
        raise fail(message, EXIT_STATE)
    try:
        return Store.open(path)
    except StateError as exc:
        raise fail(str(exc), EXIT_STATE) from exc


def zone(config: Config | None, channel: str | None = None) -> ZoneInfo:
    """The channel's zone, else `global.timezone`, else the default (Asia/Shanghai)."""
    if config is None:
        return ZoneInfo(DEFAULT_TIMEZONE)
    found = config.channel(channel) if channel else None
    if found is not None:
        return found.zone
    return ZoneInfo(config.global_.timezone)


def import_summary(counters: IngestCounters, what: str) -> str:
    """The first words of a `calls import` or `orders import` summary: stored, already
    stored, refused by reason."""
    rejected = ", ".join(f"{r}: {n}" for (_, r), n in sorted(counters.rejected.items()))
    duplicates = counters.duplicates.get("import", 0)
    return (
        f"imported {counters.ingested.get('import', 0)} {what}"
        + (f"; {duplicates} already stored" if duplicates else "")
        + (f"; not stored: {rejected}" if rejected else "")
    )
