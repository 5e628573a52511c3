"""`zombie-probes channels import FILE.csv|FILE.xlsx`: a register of sites (name, owner,
title, URL, optional column URLs and labels) turned into channel YAML that `config check`
accepts; what could not be mapped is listed on stderr (see `probes.config.register`).

CSV files are read as UTF-8 (with or without a BOM) or, failing that, GB18030 (what Excel
writes on a Chinese Windows); `.xlsx` needs openpyxl (`pip install 'zombie-probes[xlsx]'`),
and reads the first sheet unless `--sheet` names one.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated

import typer
import yaml

from probes.cli.common import fail
from probes.config.register import from_rows

app = typer.Typer(help="Import channels from a register of sites.", no_args_is_help=True)


def _csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    for codec in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    raise fail(f"{path}: neither UTF-8 nor GB18030 text")


def _xlsx_rows(path: Path, sheet: str | None) -> list[list[str]]:
    try:
        import openpyxl
    except ImportError as exc:
        raise fail("reading .xlsx needs openpyxl: pip install 'zombie-probes[xlsx]'") from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    if sheet is not None and sheet not in book.sheetnames:
        raise fail(f"{path}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    book.close()
    return rows


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="register .csv/.xlsx")],
    kind: Annotated[str, typer.Option(help="channel kind of every row")] = "website",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="YAML file")] = None,
    sheet: Annotated[str | None, typer.Option(help=".xlsx: the sheet to read")] = None,
) -> None:
    """Turn a register of sites into channel YAML and say what it could not map."""
    if kind not in ("website", "service", "board"):
        raise fail(f"--kind {kind!r}: website, service or board (hotlines have no URL to probe)")
    excel = file.suffix.lower() in (".xlsx", ".xlsm")
    rows = _xlsx_rows(file, sheet) if excel else _csv_rows(file)
    if not rows:
        raise fail(f"{file}: empty")
    register = from_rows(rows[0], rows[1:], kind)
    for header in register.unmapped:
        typer.echo(f"not mapped: column {header!r}", err=True)
    for problem in register.skipped:
        typer.echo(f"skipped: {problem}", err=True)
    if not register.channels:
        raise fail(f"{file}: no row could be made a channel (need a URL and an owner column)")
    text = yaml.safe_dump(register.config(), allow_unicode=True, sort_keys=False, width=100)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    typer.echo(f"{len(register.channels)} channels from {len(rows) - 1} rows", err=True)
