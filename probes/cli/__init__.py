"""The `zombie-probes` command line: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from probes.cli import calls, configcmd
from probes.cli.check import check_command
from probes.cli.demo import demo_command
from probes.cli.servecmd import serve_command
from probes.config import ConfigError
from probes.state.errors import StateError

app = typer.Typer(
    name="zombie-probes",
    help="Find zombie government service channels and export Prometheus metrics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve_command)
app.command("check")(check_command)
app.command("demo")(demo_command)
app.add_typer(configcmd.app, name="config")
app.add_typer(calls.app, name="calls")


def main() -> None:
    # Commands that open the state file or read a config end in one line for either,
    # whichever command it is (`serve` and `demo` also say so for their own start-up).
    try:
        app()
    except (StateError, ConfigError) as exc:
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from exc
