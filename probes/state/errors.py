"""Errors of the state file, each one line naming the file and the reason.

`StateError` is raised when a state file cannot be used at all (it cannot be opened, it
is corrupt or read-only, another process holds it, or its schema is newer than this
release knows); the command line prints it and exits 2. `StateWriteError` is a write that
failed while the monitor runs (the file locked for longer than the busy timeout, the disk
full): callers keep what they could not store and try again (see `Store.write`).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class StateError(Exception):
    """A state file that cannot be used; the message is one line with the path."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"state file {path}: {reason}")


class StateWriteError(StateError):
    """A write to the state file failed for now; it may succeed when retried."""


def reason_of(exc: sqlite3.Error, path: str = ":memory:") -> str:
    """One line for an SQLite error, with a hint where the message alone does not help
    (SQLite says "unable to open database file" when the file or its directory is
    read-only: in WAL mode it must create the -wal and -shm files beside it)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    lowered = text.lower()
    if path != ":memory:" and not _writable(Path(path)):
        return f"{text} (read-only: the monitor needs to write it and its directory)"
    if "file is not a database" in lowered or "malformed" in lowered:
        return f"{text} (corrupt, or not a state file)"
    if "locked" in lowered or "busy" in lowered:
        return f"{text} (another process holds it)"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{text} (read-only: the monitor needs to write it and its directory)"
    if "unable to open" in lowered:
        return f"{text} (missing directory or no permission)"
    return text


def _writable(path: Path) -> bool:
    if path.exists() and not os.access(path, os.W_OK):
        return False
    return os.access(path.parent, os.W_OK | os.X_OK)
