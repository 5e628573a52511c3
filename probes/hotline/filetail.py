"""Follows a call-detail file like `tail -F`, its offset kept in the state file.

Only complete lines (ending in a newline) are read; the records of a chunk and the offset
after it are committed in one transaction, so a crash re-reads nothing already stored and
skips nothing. Rotation (the path now names another file): the old file is read to its end
first when still open, then the new one from its start; after a restart, a rotated file
is looked for beside the path by its inode (`Master.csv.1`).

Truncation and replacement are told by identity, never by size alone: besides the inode,
the followed file keeps a hash of its first bytes (up to `HEAD` of them) and the bytes
just before the offset (`MARK`). A file shorter than the offset, or whose first bytes or
bytes before the offset changed, was truncated or rewritten in place: it is read again
from the start (records already stored count once), so a truncate-then-rewrite that grew
past the old offset between two polls loses nothing. The marks are stored beside the
offset, so a file rewritten in place while the monitor was down is caught at the restart
too (and a stored offset that no longer follows a newline is a rewrite whatever the marks).

Each bad line is counted and logged with its byte position; it never stops the tail. A
line longer than `CHUNK` is skipped to its newline and counted as `too_large`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from probes.config.calls import FileSource
from probes.hotline.formats import LineParser, make_parser
from probes.hotline.records import Rejected, RejectReason
from probes.hotline.sink import Sink
from probes.model import CallRecord
from probes.state import calls
from probes.state.errors import StateWriteError

log = logging.getLogger("probes.hotline.filetail")
CHUNK = 1 << 20  # bytes read per transaction
HEAD = 4096  # leading bytes whose hash tells the same file from a rewritten one
MARK = 256  # bytes before the offset compared on every poll


def source_name(source: FileSource) -> str:
    """The `source` label of a followed file: bounded, from the config."""
    return "file:" + Path(source.path).name


def parser_for(source: FileSource) -> LineParser:
    return make_parser(
        source.format, source=source_name(source), timezone=source.timezone,
        columns=source.columns, channel=source.channel, channel_column=source.channel_column,
        channels=source.channels,
    )  # fmt: skip


@dataclass
class _Open:
    """A followed file: its handle, inode, read offset and what identifies its content."""

    handle: BinaryIO
    inode: int
    offset: int
    head: tuple[int, bytes] = (0, b"")  # (length, sha256) of the first bytes read
    mark: bytes = b""  # the bytes just before `offset`
    in_long_line: bool = False  # inside a line longer than CHUNK: skip to its newline

    def _bytes(self, start: int, length: int) -> bytes:
        self.handle.seek(start)
        return self.handle.read(length)

    def remember(self) -> None:
        """Note the identity of what was read so far (after the offset moved)."""
        if self.head[0] < HEAD and self.offset > self.head[0]:
            first = self._bytes(0, min(self.offset, HEAD))
            self.head = (len(first), hashlib.sha256(first).digest())
        start = max(0, self.offset - MARK)
        self.mark = self._bytes(start, self.offset - start)

    def resumed_mid_line(self) -> bool:
        """After a restart, the stored offset must follow a newline (offsets are stored at
        line ends, except inside a line longer than CHUNK, which is then read again)."""
        return self._bytes(self.offset - 1, 1) != b"\n"

    def rewritten(self, size: int) -> bool:
        """True when the file no longer holds what was read: truncated or rewritten."""
        if size < self.offset:
            return True
        length, digest = self.head
        if length and hashlib.sha256(self._bytes(0, length)).digest() != digest:
            return True
        mark = self.mark
        return bool(mark) and self._bytes(self.offset - len(mark), len(mark)) != mark


def read_chunk(current: _Open, parser: LineParser, sink: Sink, name: str) -> int:
    """Parse and store the complete lines after the offset; returns the new offset."""
    offset, inode = current.offset, current.inode
    current.handle.seek(offset)
    data = current.handle.read(CHUNK)
    end = data.rfind(b"\n")
    items: list[tuple[CallRecord, str]] = []
    if current.in_long_line:
        first = data.find(b"\n")
        if first < 0:
            # Still inside the over-long line: move past what it holds so far.
            if data:
                sink.store_batch(name, items, offset=(inode, offset + len(data)))
            return offset + len(data)
        current.in_long_line = False
        sink.store_batch(name, items, offset=(inode, offset + first + 1))
        return offset + first + 1
    if end < 0:
        if len(data) < CHUNK:
            return offset  # an incomplete last line: wait for its end
        sink.reject(name, Rejected(RejectReason.TOO_LARGE, f"line longer than {CHUNK} bytes",
                                   f"{name} byte {offset}"))  # fmt: skip
        current.in_long_line = True
        sink.store_batch(name, items, offset=(inode, offset + len(data)))
        return offset + len(data)
    pos = offset
    for raw in data[: end + 1].splitlines(keepends=True):
        position = f"{name} byte {pos}"
        pos += len(raw)
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line.strip():
            continue
        record = sink.parse(name, position, functools.partial(parser.parse, line))
        if record is not None:
            items.append((record, position))
    sink.store_batch(name, items, offset=(inode, offset + end + 1))
    return offset + end + 1


def _drain(current: _Open, parser: LineParser, sink: Sink, name: str) -> None:
    moved = False
    while True:
        new = read_chunk(current, parser, sink, name)
        if new == current.offset:
            break
        current.offset = new
        moved = True
    if moved:
        current.remember()
        length, digest = current.head
        marks = calls.FileMarks(current.offset, length, digest, current.mark)
        calls.set_file_marks(sink.store, name, marks)


def _find_rotated(path: Path, inode: int) -> Path | None:
    for sibling in path.parent.glob(path.name + "*"):
        try:
            if sibling != path and sibling.stat().st_ino == inode:
                return sibling
        except FileNotFoundError:
            continue
    return None


def poll_once(
    source: FileSource, current: _Open | None, sink: Sink, parser: LineParser
) -> _Open | None:
    """One look at the file: read what was appended, follow rotation and truncation."""
    name = source_name(source)
    path = Path(source.path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if current is not None:
            _drain(current, parser, sink, name)  # removed: still read its end
        return current
    if current is None:
        stored = calls.get_offset(sink.store, name)
        if stored is not None and stored[0] != st.st_ino:
            rotated = _find_rotated(path, stored[0])
            if rotated is not None:
                with rotated.open("rb") as old:
                    _drain(_Open(old, stored[0], stored[1]), parser, sink, name)
            stored = None
        offset = stored[1] if stored is not None else 0
        current = _Open(path.open("rb"), st.st_ino, offset)
        marks = calls.get_file_marks(sink.store, name) if offset else None
        if marks is not None:
            current.head = (marks.head_len, marks.head_sha256)
            if marks.offset == offset:
                current.mark = marks.mark
        if offset and (current.resumed_mid_line() or current.rewritten(st.st_size)):
            log.warning("%s was rewritten while not followed; reading from the start", path)
            current = _Open(current.handle, current.inode, 0)
        current.remember()
    elif current.inode != st.st_ino:
        _drain(current, parser, sink, name)  # the rotated file's last lines
        current.handle.close()
        log.info("%s rotated; following the new file", path)
        current = _Open(path.open("rb"), st.st_ino, 0)
    size = os.fstat(current.handle.fileno()).st_size
    if current.rewritten(size):
        log.warning("%s truncated or rewritten (size %d, offset %d); reading from the start",
                    path, size, current.offset)  # fmt: skip
        current = _Open(current.handle, current.inode, 0)
    _drain(current, parser, sink, name)
    return current


async def follow(source: FileSource, sink: Sink) -> None:
    """Follow one file until cancelled."""
    parser = parser_for(source)
    name = source_name(source)
    current: _Open | None = None
    try:
        while True:
            try:
                current = poll_once(source, current, sink, parser)
            except StateWriteError:
                # Nothing of the chunk was stored; the offset in the state file is that of
                # the last stored records, so the file is opened again from there once the
                # state file can be written (the failure is counted and logged by the store).
                if current is not None:
                    current.handle.close()
                current = None
                sink.counters.connected[name] = False
                await asyncio.sleep(max(sink.store.retry_in(), source.poll))
                continue
            sink.counters.connected[name] = current is not None  # the file is open
            await asyncio.sleep(source.poll)
    finally:
        sink.counters.connected[name] = False
        if current is not None:
            current.handle.close()
