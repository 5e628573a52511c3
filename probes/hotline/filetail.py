"""Follows a call-detail file like `tail -F`, its offset kept in the state file.

Only complete lines (ending in a newline) are read; the records of a chunk and the offset
after it are committed in one transaction, so a crash re-reads nothing already stored and
skips nothing. Rotation (the path now names another file): the old file is read to its end
first when still open, then the new one from its start; after a restart, a rotated file
is looked for beside the path by its inode (`Master.csv.1`). Truncation (the file is
shorter than the offset): read again from the start. Each bad line is counted and logged
with its line position; it never stops the tail.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from probes.config.calls import FileSource
from probes.hotline.formats import LineParser, make_parser
from probes.hotline.records import RecordError, Rejected
from probes.hotline.sink import Sink
from probes.model import CallRecord
from probes.state import calls
from probes.state.errors import StateWriteError

log = logging.getLogger("probes.hotline.filetail")
CHUNK = 1 << 20  # bytes read per transaction


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
    handle: BinaryIO
    inode: int
    offset: int


def read_chunk(current: _Open, parser: LineParser, sink: Sink, name: str) -> int:
    """Parse and store the complete lines after the offset; returns the new offset."""
    offset, inode = current.offset, current.inode
    current.handle.seek(offset)
    data = current.handle.read(CHUNK)
    end = data.rfind(b"\n")
    if end < 0:
        return offset
    items: list[tuple[CallRecord, str]] = []
    pos = offset
    for raw in data[: end + 1].splitlines(keepends=True):
        position = f"{name} byte {pos}"
        pos += len(raw)
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line.strip():
            continue
        try:
            items.append((parser.parse(line), position))
        except RecordError as exc:
            sink.reject(name, Rejected(exc.reason, exc.detail, position))
    sink.store_batch(name, items, offset=(inode, offset + end + 1))
    return offset + end + 1


def _drain(current: _Open, parser: LineParser, sink: Sink, name: str) -> None:
    while True:
        new = read_chunk(current, parser, sink, name)
        if new == current.offset:
            return
        current.offset = new


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
    elif current.inode != st.st_ino:
        _drain(current, parser, sink, name)  # the rotated file's last lines
        current.handle.close()
        log.info("%s rotated; following the new file", path)
        current = _Open(path.open("rb"), st.st_ino, 0)
    size = os.fstat(current.handle.fileno()).st_size
    if size < current.offset:
        log.warning("%s truncated (%d < %d); reading from the start", path, size, current.offset)
        current.offset = 0
    _drain(current, parser, sink, name)
    return current


async def follow(source: FileSource, sink: Sink) -> None:
    """Follow one file until cancelled."""
    parser = parser_for(source)
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
                await asyncio.sleep(max(sink.store.retry_in(), source.poll))
                continue
            await asyncio.sleep(source.poll)
    finally:
        if current is not None:
            current.handle.close()
