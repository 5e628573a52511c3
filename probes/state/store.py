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

Write faults (another process holding the file, a full disk, an I/O error) never stop the
monitor and never hold its event loop for long: the running monitor opens the store with
a short busy timeout (`SHORT_BUSY_TIMEOUT`), a failed write opens a breaker so that, until
the next attempt is due (1 s, doubling to 8 s), writes do not touch SQLite at all, and
the failure is counted (`WriteHealth`, exported as `zombie_state_write_errors_total`,
`/-/ready` false). So the loop waits at most the busy timeout once per attempt. Writes
that can wait (`Store.write`: check history) are kept in order and stored with the next
transaction that succeeds (`retry_forever` makes one when nothing else writes); writes
that must not be acknowledged before they are stored (call records) get
`StateWriteError` and are retried by their source, which acknowledges only afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from types import TracebackType

from probes.clock import Clock, SystemClock
from probes.state.errors import StateError, StateWriteError, reason_of

log = logging.getLogger("probes.state")

# The running monitor's busy timeout: the longest one write attempt holds the event loop.
SHORT_BUSY_TIMEOUT = 0.1
RETRY_FIRST, RETRY_MAX = 1.0, 8.0
# Deferred writes kept while the file cannot be written (a day of checks nationally is
# far more; an outage that long loses the oldest history rows, and says so).
MAX_PENDING = 200_000
# Deferred writes stored per transaction on recovery: a long backlog is written in steps
# of a few milliseconds, the event loop running between them (`retry_forever`).
FLUSH_CHUNK = 2000
Work = Callable[[sqlite3.Connection], None]
# SQLite's primary result codes of a file that cannot be written now (rather than of a bug
# in a statement): BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL.
_FAULTS = frozenset({5, 6, 7, 8, 10, 13, 14, 15})


def is_write_fault(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _FAULTS


@dataclass
class WriteHealth:
    """Whether writes to the state file succeed, for the exporter and `/-/ready`."""

    errors: int = 0  # failed write attempts since start
    failing: bool = False
    reason: str = ""
    since: float = 0.0  # monotonic time the current failure started
    retry_at: float = 0.0  # monotonic time of the next attempt
    delay: float = RETRY_FIRST
    dropped: int = 0  # deferred writes given up when more than MAX_PENDING waited


class Store:
    """A connection to the state file. Use as a context manager or call `close()`."""

    def __init__(self, conn: sqlite3.Connection, path: str, clock: Clock | None = None) -> None:
        self.conn = conn
        self.path = path
        self.clock: Clock = clock or SystemClock()
        self.health = WriteHealth()
        self.pending: deque[Work] = deque()

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        busy_timeout: float = 5.0,
        write_timeout: float | None = None,
        clock: Clock | None = None,
    ) -> Store:
        """Open (creating or upgrading) the state file; `StateError` when it cannot be used.

        busy_timeout: how long opening waits for another process's lock.
        write_timeout: how long each later statement waits (default: busy_timeout); the
            running monitor passes `SHORT_BUSY_TIMEOUT`.
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
        if write_timeout is not None:
            conn.execute(f"PRAGMA busy_timeout={int(write_timeout * 1000)}")
        return cls(conn, path, clock)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN … COMMIT, rolled back if the block raises; deferred writes go first.

        Raises `StateWriteError` when the file cannot be written now (SQLite's error, or
        at once while an earlier failure's retry is not yet due)."""
        now = self.clock.monotonic()
        if self.health.failing and now < self.health.retry_at:
            raise StateWriteError(self.path, f"writes failing: {self.health.reason}")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not is_write_fault(exc):
                raise
            raise self._failed(exc) from exc
        flushed = list(islice(self.pending, FLUSH_CHUNK))
        try:
            for work in flushed:
                work(self.conn)
            yield self.conn
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback()
            if not is_write_fault(exc):
                raise
            raise self._failed(exc) from exc
        except BaseException:
            self._rollback()
            raise
        for _ in flushed:
            self.pending.popleft()
        if self.health.failing:
            self._recovered(len(flushed))

    def write(self, work: Work) -> bool:
        """Run `work` in a transaction now, or keep it to run (in order) with the next one
        that succeeds when the file cannot be written; True when stored now. While older
        writes wait, it waits behind them, so the latest result stays the latest."""
        if len(self.pending) > FLUSH_CHUNK:
            self._keep(work)
            return False
        try:
            with self.transaction() as conn:
                work(conn)
        except StateWriteError:
            self._keep(work)
            return False
        return True

    def _keep(self, work: Work) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.pending.popleft()
            self.health.dropped += 1
            if self.health.dropped == 1:
                log.error("state file %s: more than %d writes waiting; dropping the oldest",
                          self.path, MAX_PENDING)  # fmt: skip
        self.pending.append(work)

    def retry_in(self) -> float:
        """Seconds until the next write attempt is due (0 when writes are not failing)."""
        if not self.health.failing:
            return 0.0
        return max(0.0, self.health.retry_at - self.clock.monotonic())

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.OperationalError:  # SQLite already rolled back (SQLITE_FULL)
                log.debug("state file %s: rollback after a failed write", self.path)

    def _failed(self, exc: sqlite3.OperationalError) -> StateWriteError:
        health, now = self.health, self.clock.monotonic()
        health.errors += 1
        reason = reason_of(exc, self.path)
        if not health.failing:
            health.failing, health.since, health.delay = True, now, RETRY_FIRST
            log.warning("state file %s: %s; keeping writes and retrying", self.path, reason)
        else:
            health.delay = min(health.delay * 2, RETRY_MAX)
        health.reason, health.retry_at = reason, now + health.delay
        return StateWriteError(self.path, reason)

    def _recovered(self, stored: int) -> None:
        health = self.health
        took = self.clock.monotonic() - health.since
        log.warning("state file %s: writes work again after %.1fs (%d deferred writes stored, "
                    "%d to go)", self.path, took, stored, len(self.pending))  # fmt: skip
        health.failing, health.reason, health.delay = False, "", RETRY_FIRST

    def close(self) -> None:
        if self.pending:  # one last try; what still fails is said, not dropped silently
            try:
                while self.pending:
                    with self.transaction():
                        pass
            except StateWriteError as exc:
                log.error("state file %s: %d writes could not be stored before closing: %s",  # noqa: TRY400
                          self.path, len(self.pending), exc.reason)  # fmt: skip
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


async def retry_forever(store: Store, every: float = RETRY_FIRST) -> None:
    """While writes are failing, attempt an empty transaction when a retry is due, so
    deferred writes are stored (and `/-/ready` recovers) even when nothing else writes."""
    while True:
        await store.clock.sleep(max(every, store.retry_in()))
        try:
            if store.health.failing and not store.pending:
                with store.transaction():
                    pass
            while store.pending:  # a chunk per transaction, the loop running in between
                with store.transaction():
                    pass
                await asyncio.sleep(0)
        except StateWriteError:
            continue  # counted and logged by the store; tried again later
