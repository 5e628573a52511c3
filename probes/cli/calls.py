"""`zombie-probes calls import|report`. (Owned by the hotline work.)"""

from __future__ import annotations

import typer

app = typer.Typer(help="Import and report hotline call records.", no_args_is_help=True)
