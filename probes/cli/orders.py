"""`zombie-probes orders import|generate`: one-off loads of work-order event files (JSON
Lines, or a ticket system's CSV export through a column mapping), and streams of
realistic orders with a known pattern for trying the `workorders` check."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import zoneinfo
from pathlib import Path
from typing import Annotated

import typer

from probes.cli.common import import_summary
from probes.clock import SystemClock
from probes.config import Config, load_config
from probes.demo.orders import PATTERNS, generate
from probes.hotline.ingest import IngestCounters
from probes.hotline.ordersink import OrderSink
from probes.hotline.records import RecordError, Rejected
from probes.hotline.workorders import FIELDS, OrderCsvMapping, make_order_parser
from probes.model import WorkOrderEvent
from probes.state.store import Store

app = typer.Typer(help="Import work-order events and generate example streams.",
                  no_args_is_help=True)  # fmt: skip
BATCH = 5000
SOURCE = "import"


def _mapping(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or name not in FIELDS or not column:
            raise typer.BadParameter(
                f"{pair!r}: expected FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}",
                param_hint="--map",
            )
        out[name] = column
    return out


def _known(cfg: Config | None) -> frozenset[str] | None:
    if cfg is None:
        return None
    return frozenset(c.name for c in cfg.channels if c.checks.workorders is not None)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    fmt: Annotated[str, typer.Option("--format", help="jsonl, or csv (with a header row)")],
    channel: Annotated[str, typer.Option(help="the channel of every event (a 12345 hotline)")],
    column: Annotated[
        list[str], typer.Option("--map", help="csv: FIELD=COLUMN header (repeatable)")
    ] = [],  # noqa: B006 (typer reads the default; never mutated)
    timezone: Annotated[str, typer.Option(help="zone of times without offset")] = "Asia/Shanghai",
    config: Annotated[Path | None, typer.Option("-c", "--config")] = None,
    state: Annotated[Path | None, typer.Option(help="state file (default: from config)")] = None,
) -> None:
    """Load a work-order event file once; an event seen twice is stored once."""
    cfg = None if config is None else load_config(config)
    path = state or Path(cfg.global_.state_path if cfg else "zombie-probes.db")
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter(f"{fmt!r}: jsonl or csv", param_hint="--format")
    try:
        tz = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise typer.BadParameter(f"unknown time zone {timezone!r}") from exc
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    counters = IngestCounters()
    with Store.open(path) as store:
        sink = OrderSink(store, counters, SystemClock(), _known(cfg))
        items: list[tuple[WorkOrderEvent, str]] = []

        def flush() -> None:
            sink.store_batch(SOURCE, items)
            items.clear()

        with file.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            if fmt == "jsonl":
                parser = make_order_parser("jsonl", source=SOURCE, timezone=timezone,
                                           channel=channel)  # fmt: skip
                for n, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    where = f"{file.name} line {n}"
                    try:
                        items.append((parser.parse(line.rstrip("\r\n")), where))
                    except RecordError as exc:
                        sink.reject(SOURCE, Rejected(exc.reason, exc.detail, where))
                    if len(items) >= BATCH:
                        flush()
            else:
                mapping = OrderCsvMapping(channel, tz, SOURCE, _mapping(column))
                reader = csv.DictReader(handle)
                try:
                    mapping.check_header(list(reader.fieldnames or []))
                except ValueError as exc:
                    raise typer.BadParameter(f"{file}: {exc}") from exc
                for n, row in enumerate(reader, 2):
                    where = f"{file.name} line {n}"
                    try:
                        items.append((mapping.parse(row), where))
                    except RecordError as exc:
                        sink.reject(SOURCE, Rejected(exc.reason, exc.detail, where))
                    if len(items) >= BATCH:
                        flush()
        flush()
    typer.echo(import_summary(counters, "events"))


@app.command("generate")
def generate_(
    pattern: Annotated[str, typer.Option(help=f"one of {', '.join(PATTERNS)}")] = "clean",
    orders: Annotated[int, typer.Option(min=1, max=100_000, help="orders in the stream")] = 60,
    end: Annotated[
        str | None, typer.Option(help="ISO date the stream ends on (default: today)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same stream)")] = 1,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="file (default: stdout)")] = None,
) -> None:
    """Write a realistic JSON Lines stream of work-order events with one known pattern
    (its ground truth: the reason `check -c` should give)."""
    if pattern not in PATTERNS:
        raise typer.BadParameter(f"{pattern!r}: one of {', '.join(PATTERNS)}")
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    try:
        last = dt.date.fromisoformat(end) if end else dt.datetime.now(tz).date()
    except ValueError as exc:
        raise typer.BadParameter(f"{end!r}: an ISO date such as 2026-11-20") from exc
    stream = generate(pattern, orders=orders, end=last, seed=seed)
    lines = [json.dumps(e, ensure_ascii=False) for e in stream.events]
    text = "\n".join(lines) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(lines)} events of {orders} orders ({pattern}) to {out}", err=True)
