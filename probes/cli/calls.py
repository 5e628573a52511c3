"""`zombie-probes calls import|report|follow`: one-off loads of call-detail files, each
hotline's figures, and following the configured sources without the HTTP server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from probes.cli.common import import_summary, load, open_store, state_path, zone
from probes.clock import SystemClock
from probes.config import Config
from probes.config.calls import FileSource
from probes.config.hotline import HotlineSpec
from probes.config.model import DEFAULT_TIMEZONE
from probes.config.types import local_time
from probes.hotline import callcentre
from probes.hotline.formats import LAYOUTS, bounded_lines, make_parser
from probes.hotline.ingest import IngestCounters, Sink, run_sources
from probes.hotline.records import MAX_RECORD_BYTES, Rejected, RejectReason
from probes.hotline.sink import quick_hangup_limits
from probes.hotline.stats import HotlineStats, compute
from probes.model import CallRecord, Outcome
from probes.state import calls

app = typer.Typer(help="Import and report hotline call records.", no_args_is_help=True)
BATCH = 5000
SCHEMA_VERSION = 1


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="asterisk-csv, freeswitch-csv, jsonl, asterisk-queue-log or 3cx-cdr",
        ),
    ],
    columns: Annotated[
        str | None,
        typer.Option(help=f"a layout ({', '.join(LAYOUTS)}) or comma-separated column names"),
    ] = None,
    channel: Annotated[str | None, typer.Option(help="the hotline channel of every record")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="zone of the file's local times (default: from -c)")
    ] = None,
    config: Annotated[Path | None, typer.Option("-c", "--config")] = None,
    state: Annotated[Path | None, typer.Option(help="state file (default: from -c)")] = None,
) -> None:
    """Load a call-detail file once; duplicates (same channel and call id) count once.

    With -c, the file is read the way the config's `calls.files` entry of this format reads
    its file (columns, channel or channel_column with its mapping, time zone; the entry
    naming this file's name when there are several), and records for channels the config
    does not have are refused. Options given here win.
    """
    cfg = load(config)
    path = state_path(cfg, state)
    if fmt in callcentre.FORMATS:
        _import_call_centre(file, fmt, channel, timezone or DEFAULT_TIMEZONE, cfg, path)
        return
    source = _file_source(cfg, fmt, file) if cfg is not None else None
    try:
        parser = make_parser(
            fmt,
            source="import",
            timezone=timezone or (source.timezone if source else DEFAULT_TIMEZONE),
            columns=columns or (source.columns if source else None),
            channel=channel or (source.channel if source and not source.channel_column else None),
            channel_column=None if channel or source is None else source.channel_column,
            channels=None if channel or source is None else source.channels,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with _import_sink(cfg, path) as sink:
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
    typer.echo(import_summary(sink.counters, f"records into {path}"))


@contextmanager
def _import_sink(cfg: Config | None, path: Path) -> Iterator[Sink]:
    """The sink one `calls import` stores through: its own counters, the state file, the
    config's quick-hang-up limits."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    known = quick_hangup_limits(cfg.channels) if cfg else None
    with open_store(path, must_exist=False) as store:
        yield Sink(store, IngestCounters(), SystemClock(), known)


def _file_source(cfg: Config, fmt: str, file: Path) -> FileSource | None:
    """The config's file source of this format, preferring the one for this file name."""
    same = [f for f in (cfg.calls.files if cfg.calls else []) if f.format == fmt]
    named = [f for f in same if Path(f.path).name == file.name]
    found = named or same
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class HotlineRow:
    """One hotline's figures as `calls report` shows them."""

    channel: str
    stats: HotlineStats
    answer_bound: float  # the wait bucket the "answered within" count uses
    within: int
    zone: ZoneInfo


def _import_call_centre(
    file: Path, fmt: str, channel: str | None, timezone: str, cfg: Config | None,
    path: Path,
) -> None:  # fmt: skip
    """A queue_log or a 3CX CDR file: calls grouped or filtered across lines."""
    if channel is None:
        raise typer.BadParameter(f"{fmt} needs --channel", param_hint="--channel")
    reader = callcentre.CallCentreFile(fmt, channel, timezone)
    with _import_sink(cfg, path) as sink:
        items: list[tuple[CallRecord, str]] = []
        with file.open(encoding="utf-8-sig", errors="replace") as handle:
            for item, position in reader.records(handle):
                where = f"{file.name} {position}"
                if isinstance(item, Rejected):
                    sink.reject("import", Rejected(item.reason, item.detail, where))
                else:
                    items.append((item, where))
        sink.store_batch("import", items)
    typer.echo(
        import_summary(sink.counters, "calls")
        + f"; skipped {reader.skipped} rows that are not hotline calls"
        + (f", {reader.incomplete} calls without an outcome" if reader.incomplete else "")
    )


@app.command()
def report(
    config: Annotated[Path | None, typer.Option("-c", "--config")] = None,
    state: Annotated[Path | None, typer.Option(help="state file (default: from -c)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Each hotline's figures: calls by outcome, answer waits, windows, last records.

    Times are in the channel's zone (global.timezone) with their offset; the text table
    is never cut to the terminal's width, piped or not.
    """
    cfg = load(config)
    path = state_path(cfg, state)
    specs: dict[str, HotlineSpec] = {}
    if cfg is not None:
        for ch in cfg.channels:
            if ch.checks.hotline is not None:
                specs[ch.name] = ch.checks.hotline
    now = SystemClock().now()
    rows = []
    with open_store(path, must_exist=True) as store:
        for name in sorted(set(calls.channels(store)) | specs.keys()):
            spec = specs.get(name, HotlineSpec())
            stats = compute(store, name, spec, now)
            # The largest wait bucket within the configured answer time (exact for the
            # usual 15 s; the bucket's bound is what the figure means otherwise).
            bound, within = max(
                ((b, n) for b, n in stats.totals.wait_buckets if b <= spec.answer_within),
                default=(0.0, 0),
            )
            rows.append(HotlineRow(name, stats, bound, within, zone(cfg, name)))
    if as_json:
        doc = {"schema_version": SCHEMA_VERSION, "hotlines": [_row_json(r) for r in rows]}
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    typer.echo(_table(rows))


def _table(rows: list[HotlineRow]) -> str:
    bounds = {r.answer_bound for r in rows}
    within = f"≤{next(iter(bounds)):g}s" if len(bounds) == 1 else "answered in time"
    outcomes = [o.value.replace("_", " ") for o in Outcome]
    head = ["channel", "calls", *outcomes, within, "quick hang-ups", "loops",
            "last record", "last answered", "window answered"]  # fmt: skip
    body = []
    for r in rows:
        t, long = r.stats.totals, r.stats.found.long
        ratio = long.answered_ratio
        cell = f"{r.within}/{t.wait_count}" + (
            "" if len(bounds) == 1 else f" (≤{r.answer_bound:g}s)"
        )
        body.append([
            r.channel, str(sum(t.calls.values())), *(str(t.calls[o]) for o in Outcome), cell,
            str(t.quick_hangups), str(t.transfer_loops),
            local_time(t.last_record, r.zone), local_time(t.last_answered, r.zone),
            "-" if ratio is None else f"{ratio:.0%} of {long.calls} in {long.label}",
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = []
    for line in [head, *body]:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _row_json(r: HotlineRow) -> dict[str, Any]:
    t = r.stats.totals

    def when(ts: float | None) -> dict[str, Any] | None:
        return None if ts is None else {"ts": ts, "time": local_time(ts, r.zone)}

    return {
        "channel": r.channel,
        "calls": {o.value: t.calls[o] for o in Outcome},
        "total": sum(t.calls.values()),
        "answered_within": {"seconds": r.answer_bound, "calls": r.within, "of": t.wait_count},
        "quick_hangups": t.quick_hangups,
        "transfer_loops": t.transfer_loops,
        "last_record": when(t.last_record),
        "last_answered": when(t.last_answered),
        "windows": [
            {
                "window": w.label,
                "seconds": w.seconds,
                "calls": {o.value: w.by_outcome.get(o, 0) for o in Outcome},
                "answered_ratio": w.answered_ratio,
                "answered_within": w.answered_within,
            }
            for w in r.stats.found.windows
        ],
    }


@app.command()
def follow(
    config: Annotated[Path, typer.Option("-c", "--config", exists=True)],
    state: Annotated[Path | None, typer.Option(help="state file (default: from config)")] = None,
) -> None:
    """Ingest from the configured MQTT topics and files until interrupted."""
    cfg = load(config)
    assert cfg is not None
    if cfg.calls is None:
        raise typer.BadParameter("the config has no `calls:` block", param_hint="--config")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    hotlines = [c for c in cfg.channels if c.kind == "hotline"]
    with open_store(state_path(cfg, state), must_exist=False) as store:
        coro = run_sources(cfg.calls, hotlines, store, IngestCounters(), SystemClock())
        try:
            asyncio.run(coro)
        except KeyboardInterrupt:
            typer.echo("stopped")
