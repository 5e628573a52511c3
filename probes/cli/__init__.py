"""The `zombie-probes` command line: one Typer app, one module per command group.

Exit statuses follow the monitoring-plugin convention everywhere: 0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN. A usage error (an unknown option, a missing argument) is UNKNOWN,
3: Nagios and Icinga read click's default of 2 as CRITICAL, which would page someone for
a typo in a check command.
"""

from __future__ import annotations

import sys

import typer

from probes import __version__
from probes.cli import calls, channels, configcmd
from probes.cli.check import check_command
from probes.cli.demo import demo_command
from probes.cli.history import history_command
from probes.cli.servecmd import serve_command
from probes.config import ConfigError
from probes.state.errors import StateError

EXIT_USAGE = 3

app = typer.Typer(
    name="zombie-probes",
    help="Find zombie government service channels and export Prometheus metrics.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"zombie-probes {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="print the version and exit",
    ),
) -> None:
    """Find zombie government service channels and export Prometheus metrics."""


app.command("serve")(serve_command)
app.command("check")(check_command)
app.command("demo")(demo_command)
app.command("history")(history_command)
app.add_typer(configcmd.app, name="config")
app.add_typer(calls.app, name="calls")
app.add_typer(channels.app, name="channels")


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except (StateError, ConfigError) as exc:
        # Whichever command opened the state file or read a config: one line, exit 2
        # (`serve` and `demo` also say so for their own start-up failures).
        typer.echo(str(exc), err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.TyperException as exc:
        # Typer's command-line errors; a usage error is the one with click's exit status 2.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
