"""The SQLite state store: one file in WAL mode, opened by one owner and passed down.

Each area keeps its own tables and queries in a module beside this one (`history.py` for
check results, `content.py`, `board.py`, `calls.py`) and declares its DDL; `Store.open`
applies them all, so a fresh file and an existing one end with the same schema.

Calls are synchronous: every statement is a short indexed write or read on local disk
(well under a millisecond in WAL mode with synchronous=NORMAL), cheaper than a hop to a
thread and back, and it keeps a single connection free of locking. Bulk writers (call
ingest) batch their rows in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType


class Store:
    """A connection to the state file. Use as a context manager or call `close()`."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> Store:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (see `transaction`).
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA foreign_keys=ON")
        from probes.state.schema import SCHEMAS  # the areas import Store: avoid a cycle

        for _name, ddl in SCHEMAS:
            if ddl:
                conn.executescript(ddl)
        return cls(conn, path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN … COMMIT, rolled back if the block raises."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
