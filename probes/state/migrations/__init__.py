"""Schema migrations of the state file, one module per version.

Each module `mNNNN_*.py` takes a file from version NNNN-1 to NNNN: it exposes `VERSION`
and `upgrade(conn)`, which runs inside the one transaction that `probes.state.schema`
opens for the whole upgrade (no COMMIT, no `executescript`), so a failure leaves the file
as it was. The area modules' DDL (`CREATE ... IF NOT EXISTS`) is applied after the
migrations: a new table needs only its DDL; a change to an existing table (a column
added, renamed or retyped, data moved) needs a migration and `SCHEMA_VERSION` raised.
"""

from __future__ import annotations

import sqlite3
from types import ModuleType
from typing import Protocol, cast

from probes.state.migrations import m0001_stamp


class Migration(Protocol):
    VERSION: int

    def upgrade(self, conn: sqlite3.Connection) -> None: ...


def _as_migration(module: ModuleType) -> Migration:
    return cast(Migration, module)


MIGRATIONS: tuple[Migration, ...] = (_as_migration(m0001_stamp),)
