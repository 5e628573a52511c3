"""The SQLite state store: one file in WAL mode, opened by one owner and passed down.

Each area keeps its own tables and queries in a module beside this one (`history.py` for
check results, `content.py`, `board.py`, `calls.py`) and declares its DDL; `Store.open`
applies them all and upgrades a file written by an older release (`schema.py`), so a
fresh file and an existing one end with the same schema. A file that cannot be used
(corrupt, read-only, held by another process, of a newer schema) raises `StateError`,
one line naming the path and the reason.

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

from probes.state.errors import StateError, reason_of


class Store:
    """A connection to the state file. Use as a context manager or call `close()`."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, busy_timeout: float = 5.0) -> Store:
        """Open (creating or upgrading) the state file; `StateError` when it cannot be used.

        busy_timeout: how long a statement waits for another process's lock.
        """
        path = str(path)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(path, f"cannot create its directory: {exc.strerror or exc}") from exc
        conn: sqlite3.Connection | None = None
        try:
            # isolation_level=None: transactions are explicit (see `transaction`).
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            conn.execute("PRAGMA user_version").fetchone()  # a corrupt file fails here
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            from probes.state.schema import prepare  # the areas import Store: avoid a cycle

            prepare(conn, path)
        except (sqlite3.Error, StateError) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, StateError):
                raise
            raise StateError(path, reason_of(exc, path)) from exc
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
