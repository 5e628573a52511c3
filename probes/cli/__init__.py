"""The `zombie-probes` command line: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from probes.cli import boardcmd, calls, configcmd, orders
from probes.cli.check import check_command
from probes.cli.demo import demo_command
from probes.cli.servecmd import serve_command

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
app.add_typer(orders.app, name="orders")
app.add_typer(boardcmd.app, name="board")


def main() -> None:
    app()
