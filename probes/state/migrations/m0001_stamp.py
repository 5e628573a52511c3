"""Version 0 -> 1: files written before the schema was versioned (`user_version` 0).

Their tables are today's, so nothing moves; the migration makes sure of that instead of
trusting it: every table in the file must be one this release knows, with at least the
columns it expects. A file that holds other tables is not a state file of this monitor
and is refused rather than written into.
"""

from __future__ import annotations

import sqlite3

from probes.state.errors import StateError

VERSION = 1


def upgrade(conn: sqlite3.Connection) -> None:
    from probes.state.schema import expected_columns, table_columns  # schema imports us

    expected = expected_columns()
    found = table_columns(conn)
    foreign = sorted(set(found) - set(expected))
    if foreign:
        raise StateError(
            _path(conn), f"not a zombie-probes state file (unknown tables: {', '.join(foreign)})"
        )
    for table, columns in found.items():
        missing = [c for c in expected[table] if c not in columns]
        if missing:
            raise StateError(
                _path(conn), f"table {table} lacks columns {', '.join(missing)}: not a "
                "state file of a known version",
            )  # fmt: skip


def _path(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row and row[2] else ":memory:"
