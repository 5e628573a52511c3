"""State file versions: a file of every past schema version opens with nothing lost (a
copy kept beside it), a newer one is refused, and a file that cannot be used (corrupt,
held by another process, read-only) gives one line naming the path and the reason."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest

from probes.state import calls
from probes.state.errors import StateError
from probes.state.migrations import MIGRATIONS
from probes.state.schema import SCHEMA_VERSION, prepare
from probes.state.store import Store

ROOT = Path(__file__).resolve().parents[1]
PAST = sorted((ROOT / "tests" / "data" / "state").glob("v*.sql"))


def _from_dump(dump: Path, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.executescript(dump.read_text(encoding="utf-8"))


def _rows(db: Path) -> dict[str, set[tuple[object, ...]]]:
    with closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: set(conn.execute(f"SELECT * FROM {t}")) for t in tables}


def _version(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_every_past_version_has_a_fixture() -> None:
    assert [p.stem for p in PAST] == [f"v{v}" for v in range(SCHEMA_VERSION)]


@pytest.mark.parametrize("dump", PAST, ids=[p.stem for p in PAST])
def test_a_file_of_a_past_version_is_upgraded_with_nothing_lost(dump: Path, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    _from_dump(dump, db)
    old_version, before = _version(db), _rows(db)
    assert sum(len(rows) for rows in before.values()) > 10
    with Store.open(db) as store:
        assert calls.count_records(store, "hotline-12345") == 6
        assert calls.get_offset(store, "file:/var/log/cdr.csv") == (42, 1234)
    assert _version(db) == SCHEMA_VERSION
    after = _rows(db)
    for table, rows in before.items():
        assert rows <= after[table], table
    copy = tmp_path / f"state.db.v{old_version}.bak"
    assert _version(copy) == old_version
    assert _rows(copy) == before
    # Opened again: already current, no second copy.
    Store.open(db).close()
    assert sorted(p.name for p in tmp_path.glob("state.db.v*")) == [copy.name]


def test_a_fresh_file_is_stamped_with_the_current_version(tmp_path: Path) -> None:
    Store.open(tmp_path / "new.db").close()
    assert _version(tmp_path / "new.db") == SCHEMA_VERSION
    assert not list(tmp_path.glob("*.bak*"))


def test_a_newer_file_is_refused_in_one_line_naming_both_versions(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 9999")
    with pytest.raises(StateError) as caught:
        Store.open(db)
    message = str(caught.value)
    assert "\n" not in message
    assert str(db) in message
    assert "9999" in message
    assert f"version {SCHEMA_VERSION} " in message
    assert _version(db) == 9999


def test_a_file_of_another_program_is_not_migrated(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(StateError, match="unknown tables: invoices"):
        Store.open(db)
    assert _version(db) == 0
    assert _rows(db).keys() == {"invoices"}


def _migration(version: int, sql: str, fail: bool = False) -> SimpleNamespace:
    def upgrade(conn: sqlite3.Connection) -> None:
        conn.execute(sql)
        if fail:
            raise StateError("test", "the migration failed half way")

    return SimpleNamespace(VERSION=version, upgrade=upgrade)


def test_a_migration_runs_in_one_transaction_after_a_copy(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    Store.open(db).close()
    before = _rows(db)
    failing = [*MIGRATIONS, _migration(SCHEMA_VERSION + 1,
               "ALTER TABLE call_last ADD COLUMN note TEXT", fail=True)]  # fmt: skip
    conn = sqlite3.connect(db, isolation_level=None)
    with pytest.raises(StateError, match="half way"):
        prepare(conn, str(db), failing)  # type: ignore[arg-type]
    assert _version(db) == SCHEMA_VERSION
    assert "note" not in [r[1] for r in conn.execute("PRAGMA table_info(call_last)")]
    working = [*MIGRATIONS, _migration(SCHEMA_VERSION + 1,
               "ALTER TABLE call_last ADD COLUMN note TEXT")]  # fmt: skip
    prepare(conn, str(db), working)  # type: ignore[arg-type]
    conn.close()
    assert _version(db) == SCHEMA_VERSION + 1
    # A copy before each attempt, none overwritten.
    copies = sorted(p.name for p in tmp_path.glob("state.db.v*"))
    assert copies == [f"state.db.v{SCHEMA_VERSION}.bak", f"state.db.v{SCHEMA_VERSION}.bak.1"]
    assert _rows(tmp_path / copies[0]) == before


def _one_line(caught: pytest.ExceptionInfo[StateError], path: Path, reason: str) -> None:
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"state file {path}: ")
    assert reason in message


def test_a_corrupt_file_gives_one_line(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    db.write_bytes(os.urandom(8192))
    with pytest.raises(StateError) as caught:
        Store.open(db)
    _one_line(caught, db, "corrupt")


def test_a_file_held_by_another_process_gives_one_line(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    Store.open(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StateError) as caught:
            Store.open(db, busy_timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _one_line(caught, db, "another process holds it")


def test_a_read_only_file_gives_one_line() -> None:
    """On a read-only file system (root writes any file whatever its mode bits)."""
    workdir = Path(tempfile.mkdtemp(prefix="zombie-ro-"))
    db = workdir / "state.db"
    Store.open(db).close()
    code = (
        "import sys; from probes.state.store import Store; from probes.state.errors import "
        "StateError\ntry:\n    Store.open(sys.argv[1])\nexcept StateError as e:\n    print(e)"
    )
    opener = [sys.executable, "-c", code, str(db)]
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            pytest.skip("needs unshare(1) to mount a read-only directory")
        script = f'mount --bind -o ro "{workdir}" "{workdir}" && exec "$@"'
        opener = ["unshare", "-m", "sh", "-c", script, "sh", *opener]
    else:
        db.chmod(0o444)
        workdir.chmod(0o555)
    try:
        out = subprocess.run(
            opener, capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
        )  # fmt: skip
    finally:
        workdir.chmod(0o755)
        shutil.rmtree(workdir, ignore_errors=True)
    if "mount" in out.stderr:
        pytest.skip(f"cannot mount a read-only directory here: {out.stderr.strip()}")
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert line.startswith(f"state file {db}: ")
    assert "read-only" in line
    assert "\n" not in line
