"""`zombie-probes board reposts FILE`: how often a board's answers were followed by the
same complaint again (`board_unresolved`), from a CSV export of its messages."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from probes.boards.reposts import Post, find_reposts
from probes.pages.dates import CN_TZ, parse_datetime

app = typer.Typer(help="Read exported board messages.", no_args_is_help=True)
FIELDS = ("id", "user", "title", "body", "posted", "replied")
DEFAULTS = {"id": "message_id", "user": "user", "title": "title", "body": "body",
            "posted": "posted_at", "replied": "replied_at"}  # fmt: skip


def _columns(pairs: list[str]) -> dict[str, str]:
    out = dict(DEFAULTS)
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or name not in FIELDS or not column:
            raise typer.BadParameter(f"{pair!r}: FIELD=COLUMN, FIELD one of {', '.join(FIELDS)}",
                                     param_hint="--map")  # fmt: skip
        out[name] = column
    return out


@app.command("reposts")
def reposts(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    column: Annotated[
        list[str], typer.Option("--map", help="FIELD=COLUMN header (repeatable)")
    ] = [],  # noqa: B006 (typer reads the default; never mutated)
    encoding: Annotated[str, typer.Option(help="the file's encoding (gbk for GBK exports)")] = (
        "utf-8-sig"
    ),
    show: Annotated[int, typer.Option(min=0, help="pairs to print")] = 5,
) -> None:
    """Count answered messages posted again afterwards by the same user (near-identical
    title or text) or saying 再次反映 / 仍未解决 about the same title."""
    cols = _columns(column)
    now = dt.datetime.now(CN_TZ)
    posts: list[Post] = []
    unreadable = 0
    with file.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in (cols["id"], cols["title"], cols["posted"])
                   if c not in (reader.fieldnames or [])]  # fmt: skip
        if missing:
            raise typer.BadParameter(f"{file}: no column {', '.join(missing)} (use --map)")
        for row in reader:
            posted = parse_datetime(row.get(cols["posted"]) or "", now=now)
            if posted is None:
                unreadable += 1
                continue
            replied = parse_datetime(row.get(cols["replied"]) or "", now=now)
            posts.append(Post(
                id=row.get(cols["id"]) or "", title=row.get(cols["title"]) or "",
                posted=posted.timestamp(), answered_at=replied.timestamp() if replied else None,
                user=(row.get(cols["user"]) or "").strip(), body=row.get(cols["body"]) or "",
            ))  # fmt: skip
    found = find_reposts(posts)
    answered = sum(p.answered_at is not None for p in posts)
    unresolved = len({r.original.id for r in found})
    share = f"{unresolved / answered:.1%}" if answered else "n/a"
    typer.echo(
        f"{len(posts)} messages, {answered} answered; {unresolved} answers followed by the "
        f"same complaint again ({share}); {len(found)} re-posts"
        + (f"; {unreadable} rows without a readable posting time" if unreadable else "")
    )
    for pair in found[:show]:
        typer.echo("  " + pair.evidence)
