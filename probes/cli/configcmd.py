"""`zombie-probes config check FILE` and `zombie-probes config schema`."""

from __future__ import annotations

from pathlib import Path

import typer

from probes.config import ConfigError, load_config
from probes.config.schema import schema_text

app = typer.Typer(help="Validate configuration files and print their JSON Schema.",
                  no_args_is_help=True)  # fmt: skip


@app.command("check")
def check(
    file: Path = typer.Argument(..., help="config file to validate"),
    web_config: Path | None = typer.Option(
        None, "--web.config.file", help="also check this web config, as `serve` would"
    ),
) -> None:
    """Validate FILE as `serve` does at start, including every file it names (TLS
    certificates, the directories of followed call files); every error names the file,
    the line and the field."""
    try:
        config = load_config(file)
    except ConfigError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        typer.echo(f"{file}: {len(exc.issues)} error(s)", err=True)
        raise typer.Exit(1) from exc
    if web_config is not None:
        from probes.runtime.webconfig import WebConfigError, load_web_config

        try:
            load_web_config(web_config)
        except WebConfigError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
    checks = sum(len(c.enabled_checks()) for c in config.channels)
    typer.echo(f"{file}: ok ({len(config.channels)} channels, {checks} checks)")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the config file, for editors and CI."""
    typer.echo(schema_text(), nl=False)
