"""The `zombie-probes` command line: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from probes.cli import calls

app = typer.Typer(
    name="zombie-probes",
    help="Find zombie government service channels and export Prometheus metrics.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(calls.app, name="calls")


def main() -> None:
    app()
