"""`zombie-probes serve -c FILE`: run the monitor.

Every start-up failure (the config or a file it names, the web config, the listen
address, the state file) is one line on stderr naming what and where, and exit status 2;
the config is checked exactly as `config check` does.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import NoReturn

import typer

from probes.config import ConfigError
from probes.config.apart import LoaderProcessError
from probes.config.types import label_value
from probes.runtime.monitor import load_config_file
from probes.runtime.scheduler import parse_shard
from probes.runtime.serve import StartupError, run_monitor
from probes.state.errors import StateError


def fail(message: str) -> NoReturn:
    """End a command that could not start: the one line, exit status 2."""
    typer.echo(message, err=True)
    raise typer.Exit(2)


def serve_command(
    config_file: Path = typer.Option(..., "-c", "--config", help="config file"),
    listen: str | None = typer.Option(None, "--listen", help="HOST:PORT (default from config)"),
    shard: str | None = typer.Option(
        None, "--shard", help="I/N: run only shard I (0-based) of N, by a stable name hash"
    ),
    web_config: Path | None = typer.Option(
        None, "--web.config.file", help="TLS and basic auth, exporter-toolkit format"
    ),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error"),
    access_log: bool = typer.Option(
        False,
        "--access-log",
        help="log every HTTP request served and made (off: one line "
        "per state change, not per request)",
    ),
    location: str | None = typer.Option(
        None, "--location", help="vantage point: a `location` label on every series"
    ),
) -> None:
    """Run the scheduler, the call-record sources and the HTTP server."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not access_log:
        # httpx logs each request it makes at INFO: thousands of lines an hour that bury
        # the state changes.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        # A large file is read in a child process: see `load_config_file`.
        config = asyncio.run(load_config_file(config_file))
    except (ConfigError, LoaderProcessError) as exc:
        fail(str(exc))
    try:
        shard_tuple = parse_shard(shard) if shard else None
        if location is not None:
            label_value(location, "--location")
    except ValueError as exc:
        fail(str(exc))
    address = listen or config.global_.listen
    if web_config is not None:
        from probes.runtime.webconfig import WebConfigError, load_web_config

        try:
            load_web_config(web_config)  # fail before binding, with the file named
        except WebConfigError as exc:
            fail(str(exc))
    try:
        asyncio.run(
            run_monitor(
                config,
                config_file,
                listen=address,
                shard=shard_tuple,
                web_config=web_config,
                access_log=access_log,
                location=location,
            )
        )
    except (StartupError, StateError) as exc:
        fail(str(exc))
