"""Every area's tables, applied by `Store.open`. A separate module so the area modules
can import `Store` without a cycle."""

from __future__ import annotations

from probes.state import board, calls, content, history, workorders

SCHEMAS: tuple[tuple[str, str], ...] = (
    ("history", history.DDL),
    ("content", content.DDL),
    ("board", board.DDL),
    ("calls", calls.DDL),
    ("workorders", workorders.DDL),
)
