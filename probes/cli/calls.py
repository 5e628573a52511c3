"""`zombie-probes calls import|report|follow`: one-off loads of call-detail files, each
hotline's figures, and following the configured sources without the HTTP server."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from probes.clock import SystemClock
from probes.config import Config, load_config
from probes.config.hotline import HotlineSpec
from probes.hotline.formats import LAYOUTS, bounded_lines, make_parser
from probes.hotline.ingest import IngestCounters, Sink, run_sources
from probes.hotline.records import MAX_RECORD_BYTES, Rejected, RejectReason
from probes.hotline.sink import quick_hangup_limits
from probes.hotline.stats import compute
from probes.model import CallRecord, Outcome
from probes.state import calls
from probes.state.store import Store

app = typer.Typer(help="Import and report hotline call records.", no_args_is_help=True)
BATCH = 5000


def _config(path: Path | None) -> Config | None:
    return None if path is None else load_config(path)


def _state(config: Config | None, state: Path | None) -> Path:
    if state is not None:
        return state
    return Path(config.global_.state_path if config else "zombie-probes.db")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    fmt: Annotated[str, typer.Option("--format", help="asterisk-csv, freeswitch-csv or jsonl")],
    columns: Annotated[
        str | None,
        typer.Option(help=f"a layout ({', '.join(LAYOUTS)}) or comma-separated column names"),
    ] = None,
    channel: Annotated[str | None, typer.Option(help="the hotline channel of every record")] = None,
    timezone: Annotated[str, typer.Option(help="zone of the file's local times")] = "Asia/Shanghai",
    config: Annotated[Path | None, typer.Option("-c", "--config")] = None,
    state: Annotated[Path | None, typer.Option(help="state file (default: from config)")] = None,
) -> None:
    """Load a call-detail file once; duplicates (same channel and call id) count once."""
    cfg = _config(config)
    try:
        parser = make_parser(
            fmt, source="import", timezone=timezone, columns=columns, channel=channel
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    counters = IngestCounters()
    known = quick_hangup_limits(cfg.channels) if cfg else None
    with Store.open(_state(cfg, state)) as store:
        sink = Sink(store, counters, SystemClock(), known)
        items: list[tuple[CallRecord, str]] = []
        with file.open(encoding="utf-8", errors="replace") as handle:
            for n, line in enumerate(bounded_lines(handle, MAX_RECORD_BYTES), 1):
                position = f"{file.name} line {n}"
                if line is None:
                    too_long = Rejected(RejectReason.TOO_LARGE, "line too long", position)
                    sink.reject("import", too_long)
                    continue
                if not line.strip():
                    continue
                parse = partial(parser.parse, line.rstrip("\r\n"))
                record = sink.parse("import", position, parse)
                if record is not None:
                    items.append((record, position))
                if len(items) >= BATCH:
                    sink.store_batch("import", items)
                    items = []
        sink.store_batch("import", items)
    rejected = ", ".join(f"{r}: {n}" for (_, r), n in sorted(counters.rejected.items()))
    typer.echo(
        f"imported {counters.ingested.get('import', 0)} records"
        + (f"; not stored: {rejected}" if rejected else "")
    )


def _when(ts: float | None) -> str:
    return "-" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


@app.command()
def report(
    config: Annotated[Path | None, typer.Option("-c", "--config")] = None,
    state: Annotated[Path | None, typer.Option(help="state file (default: from config)")] = None,
) -> None:
    """Each hotline's figures: calls by outcome, answer waits, windows, last records."""
    cfg = _config(config)
    specs: dict[str, HotlineSpec] = {}
    if cfg is not None:
        for ch in cfg.channels:
            if ch.checks.hotline is not None:
                specs[ch.name] = ch.checks.hotline
    now = SystemClock().now()
    table = Table(title="Hotlines")
    for col in (
        "channel",
        "calls",
        "answered",
        "no answer",
        "busy",
        "failed",
        "congestion",
        "≤15s",
        "quick hang-ups",
        "loops",
        "last record",
        "last answered",
        "24h answered",
    ):
        table.add_column(col, justify="left" if col == "channel" else "right")  # fmt: skip
    with Store.open(_state(cfg, state)) as store:
        for name in sorted(set(calls.channels(store)) | specs.keys()):
            spec = specs.get(name, HotlineSpec())
            stats = compute(store, name, spec, now)
            t = stats.totals
            within = next((n for b, n in t.wait_buckets if b >= spec.answer_within), 0)
            ratio = stats.found.long.answered_ratio
            table.add_row(
                name, str(sum(t.calls.values())),
                *(str(t.calls[o]) for o in Outcome),
                f"{within}/{t.wait_count}", str(t.quick_hangups), str(t.transfer_loops),
                _when(t.last_record), _when(t.last_answered),
                "-" if ratio is None else f"{ratio:.0%}",
            )  # fmt: skip
    Console().print(table)


@app.command()
def follow(
    config: Annotated[Path, typer.Option("-c", "--config", exists=True)],
    state: Annotated[Path | None, typer.Option(help="state file (default: from config)")] = None,
) -> None:
    """Ingest from the configured MQTT topics and files until interrupted."""
    cfg = load_config(config)
    if cfg.calls is None:
        raise typer.BadParameter("the config has no `calls:` block", param_hint="--config")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    hotlines = [c for c in cfg.channels if c.kind == "hotline"]
    with Store.open(_state(cfg, state)) as store:
        coro = run_sources(cfg.calls, hotlines, store, IngestCounters(), SystemClock())
        try:
            asyncio.run(coro)
        except KeyboardInterrupt:
            typer.echo("stopped")
