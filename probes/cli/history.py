"""`zombie-probes history CHANNEL`: the channel's state changes with their reasons, each
check's evidence and the pages that decided them, read from the monitor's state file.

`--show-snapshot ID` writes a stored page out as the server sent it (to stdout or
`--output FILE`); its codec is printed on stderr so a GBK page can be read back.
`--json` prints the timeline as one object (`schema_version` 1).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from probes.cli.common import fail, load, open_store, state_path, zone
from probes.clock import SystemClock
from probes.config.types import local_time, parse_duration
from probes.state import evidence
from probes.state.evidence import StateChange

SCHEMA_VERSION = 1


def history_command(
    channel: Annotated[str, typer.Argument(help="the channel's name")],
    since: Annotated[str, typer.Option(help="how far back, e.g. 30d, 12h")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    config: Annotated[Path | None, typer.Option("-c", "--config", help="config file")] = None,
    state: Annotated[Path | None, typer.Option(help="state file (default: from -c)")] = None,
    show_snapshot: Annotated[
        int | None, typer.Option("--show-snapshot", help="write stored page ID out")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file for --show-snapshot")
    ] = None,
) -> None:
    """Print a channel's state changes, with the evidence and pages that decided them."""
    try:
        back = parse_duration(since)
    except ValueError as exc:
        raise fail(f"--since: {exc}") from exc
    cfg = load(config)
    path = state_path(cfg, state)
    tz = zone(cfg, channel)
    with open_store(path, must_exist=True) as store:
        if show_snapshot is not None:
            found = evidence.page_body(store, channel, show_snapshot)
            if found is None:
                raise fail(f"no stored page {show_snapshot} for channel {channel} in {path}")
            page, body = found
            if output is None:
                sys.stdout.buffer.write(body)
                sys.stdout.flush()
            else:
                output.write_bytes(body)
            cut = ", cut at the size limit" if page.truncated else ""
            typer.echo(
                f"page {page.id}: {page.url} HTTP {page.status} {page.content_type}, "
                f"{page.size} bytes, encoding {page.encoding}{cut}",
                err=True,
            )
            return
        changes = evidence.timeline(store, channel, SystemClock().now() - back)
    if as_json:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "channel": channel,
            "since": since,
            "changes": [_json(c, tz) for c in changes],
        }
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    if not changes:
        typer.echo(f"{channel}: no state change recorded in {path}")
        return
    for change in changes:
        typer.echo(_text(change, tz))


def _text(change: StateChange, tz: ZoneInfo) -> str:
    was = change.from_state.value if change.from_state else "none"
    head = f"{local_time(change.ts, tz)}  {change.channel}: {was} -> {change.to_state.value}"
    if change.decided_by:
        head += f" (decided by the {change.decided_by} check)"
    lines = [head]
    for r in change.reasons:
        lines.append(f"    {r.state.value} {r.code}" + (f": {r.detail}" if r.detail else ""))
    for c in change.checks:
        told = {True: "ok", False: "failed", None: "could not tell"}[c.success]
        why = f" ({c.failure})" if c.failure else ""
        lines.append(f"  {c.check} at {local_time(c.started, tz)}: {told}{why}")
        if c.error:
            lines.append(f"      {c.error}")
        lines.extend(f"      {e}" for e in c.evidence)
    for p in change.pages:
        cut = ", cut" if p.truncated else ""
        lines.append(
            f"  page {p.id}: {p.url} HTTP {p.status} {p.content_type or '?'} {p.size} bytes"
            f"{cut}  (--show-snapshot {p.id})"
        )
    return "\n".join(lines)


def _json(change: StateChange, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": change.id,
        "ts": change.ts,
        "time": local_time(change.ts, tz),
        "from": change.from_state.value if change.from_state else None,
        "to": change.to_state.value,
        "decided_by": change.decided_by,
        "reasons": [
            {"code": r.code, "state": r.state.value, "check": r.check, "detail": r.detail}
            for r in change.reasons
        ],
        "checks": [
            {
                "check": c.check,
                "success": c.success,
                "failure": c.failure,
                "error": c.error,
                "evidence": list(c.evidence),
                "started": c.started,
            }
            for c in change.checks
        ],
        "pages": [
            {
                "id": p.id,
                "url": p.url,
                "status": p.status,
                "content_type": p.content_type,
                "encoding": p.encoding,
                "size": p.size,
                "truncated": p.truncated,
                "stored_bytes": p.stored_bytes,
            }
            for p in change.pages
        ],
    }
