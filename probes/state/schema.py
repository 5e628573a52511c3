"""The state file's schema: every area's tables, the schema version, and the upgrade of
a file written by an older release.

The version is SQLite's `PRAGMA user_version`. On open (`prepare`):
- a fresh file gets every area's tables and the current version, in one transaction;
- a file of an older version is first copied beside itself (`state.db.v0.bak`; a number
  is added when that name is taken), then migrated in one transaction (the migrations of
  `probes.state.migrations` in order, then the areas' DDL, then the new version), so it
  is either wholly upgraded or left as it was;
- a file of a newer version is refused: this release would misread its tables.

A separate module from `store.py` so the area modules can import `Store` without a cycle.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from probes.state import board, calls, content, evidence, history
from probes.state.errors import StateError
from probes.state.migrations import MIGRATIONS, Migration

SCHEMAS: tuple[tuple[str, str], ...] = (
    ("history", history.DDL),
    ("content", content.DDL),
    ("board", board.DDL),
    ("calls", calls.DDL),
    ("evidence", evidence.DDL),
)
# The version this release reads and writes: that of the newest migration.
SCHEMA_VERSION = MIGRATIONS[-1].VERSION


def statements(ddl: str) -> Iterator[str]:
    """The complete SQL statements of a script, one by one (`executescript` would commit
    the open transaction first)."""
    pending = ""
    for line in ddl.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()


def apply_ddl(conn: sqlite3.Connection) -> None:
    for _area, ddl in SCHEMAS:
        for statement in statements(ddl):
            conn.execute(statement)


def table_columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Table -> its column names, for the tables in the file (SQLite's own excluded)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: [r[1] for r in conn.execute(f"PRAGMA table_info('{n}')")] for n in names}


def expected_columns() -> dict[str, list[str]]:
    """The tables and columns the current DDL creates."""
    with sqlite3.connect(":memory:") as scratch:
        apply_ddl(scratch)
        return table_columns(scratch)


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def backup_path(path: str, old: int) -> Path:
    """Where the copy of a file of version `old` is kept: beside it, never overwriting."""
    candidate = Path(f"{path}.v{old}.bak")
    n = 1
    while candidate.exists():
        candidate = Path(f"{path}.v{old}.bak.{n}")
        n += 1
    return candidate


def prepare(
    conn: sqlite3.Connection, path: str, migrations: Sequence[Migration] = MIGRATIONS
) -> None:
    """Bring the file at `conn` to the current schema (see the module docstring). Raises
    `StateError` for a newer file or a failed migration; SQLite errors pass up."""
    current = migrations[-1].VERSION
    found = version(conn)
    if found > current:
        raise _newer(path, found, current)
    if found < current and table_columns(conn) and path != ":memory:":
        copy = backup_path(path, found)
        dest = sqlite3.connect(copy)
        try:
            conn.backup(dest)
        finally:
            dest.close()
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = version(conn)  # again, under the write lock: another process may have won
        if found > current:
            raise _newer(path, found, current)
        if table_columns(conn):
            for migration in migrations:
                if found < migration.VERSION:
                    migration.upgrade(conn)
        apply_ddl(conn)
        if found != current:
            conn.execute(f"PRAGMA user_version = {int(current)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _newer(path: str, found: int, current: int) -> StateError:
    return StateError(
        path,
        f"schema version {found} is newer than version {current} that this release reads; "
        "run the release that wrote it, or point state_path at another file",
    )
