"""Page work off the event loop: parsing and extraction of a fetched page run in a small
pool of worker processes, under the time left of the check, so one big page never holds
`/metrics`, other checks' timers or a shutdown, and never keeps its check past its
deadline.

Why processes: the lexbor parser releases the GIL, but extraction (walking the elements,
reading dates) is Python and holds it for seconds on a several-MB page, and a thread
cannot be stopped. A worker whose task runs out of time (or whose check is cancelled) is
killed and replaced, so the time is bounded whatever the page does.

The pool is owned by whoever opens the runtime (`open_page_workers` in `open_runtime`) and
reaches the kinds through `CheckContext.read`. Tasks are plain functions of picklable
arguments (the pure readers in `probes.pages` and `probes.boards`, or a kind's module-level
function over them). A page of fewer than `INLINE_BELOW` bytes and `INLINE_TAGS` tags is
read on the loop: it takes at most about 0.1 s however it nests (the parser's time grows
with the square of the depth: 8,000 nested elements parse in 0.12 s), and a typical one
of 20-60 items reads in 5-20 ms, about what a round trip to a worker adds (bench/README.md,
"page work"). At most `size` pages are read at once, and at most one page of each check
run (`CheckContext.read`), so a site with many big pages never holds every worker while
other checks' pages wait into their deadlines; further pages wait for a free worker
within their own deadline, so the queue is bounded by the checks in flight and by time.

Workers are spawned (a fork of a process running threads is unsafe), so a program that
opens a runtime from a script of its own must guard its entry point with
`if __name__ == "__main__":` (the `zombie-probes` command and `python -m probes` do). A
worker keeps the memory its biggest page needed (about 145 MB RSS after a 3 MB page of
24,000 items, against 40-50 MB for the monitor itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from typing import Any, TypeVar, TypeVarTuple

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# Pages below both limits are read on the event loop (see the module docstring).
INLINE_BELOW = 256 * 1024
INLINE_TAGS = 8_000
# Workers: the machine's cores, at least 2 (so one check's pages never hold them all, see
# `CheckContext.read`) and at most 4 (page work is a small share of a check's time).
DEFAULT_WORKERS = max(2, min(4, os.cpu_count() or 1))


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a page worker, as text: the cause of the
    exception raised again in the check, so its log shows where the reader failed."""


class PageWorkCrashed(Exception):
    """A worker died while reading a page (killed by the system, out of memory): a fault of
    the monitor, not the target's."""


def _serve(conn: Connection) -> None:
    """A worker's loop: run each task received, send back its result or its exception."""
    # Ctrl-C reaches the whole process group: the parent stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        fn, args = task
        try:
            answer: tuple[bool, Any, str] = (True, fn(*args), "")
        except Exception as exc:  # noqa: BLE001 - not swallowed: raised again in the check
            answer = (False, exc, traceback.format_exc())
        try:
            conn.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # still an answer
            unsendable = RuntimeError(f"page work returned what cannot be sent: {exc!r}")
            conn.send((False, unsendable, traceback.format_exc()))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, mp: multiprocessing.context.SpawnContext) -> None:
        self.conn, child = mp.Pipe()
        self.process = mp.Process(target=_serve, args=(child,), daemon=True, name="page-worker")
        self.process.start()
        child.close()

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any, str]:
        """Send one task and wait for its answer (blocking: runs on a thread)."""
        try:
            self.conn.send((fn, args))
            answer: tuple[bool, Any, str] = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise PageWorkCrashed(
                f"the page worker died: exit code {self.process.exitcode}"
            ) from exc
        return answer

    def kill(self) -> None:
        """Stop the process now and reap it (blocking: runs on a thread)."""
        self.process.kill()
        self.process.join()
        self.conn.close()

    def ask_to_stop(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self.conn.send(None)

    def reap(self, timeout: float) -> None:
        """Wait up to `timeout` for the process to end, then kill it (blocking)."""
        self.process.join(timeout=timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class PageWorkers:
    """A pool of page-reading worker processes (see the module docstring)."""

    def __init__(
        self, size: int, inline_below: int = INLINE_BELOW, inline_tags: int = INLINE_TAGS
    ) -> None:
        self._mp = multiprocessing.get_context("spawn")  # no fork of a threaded process
        self._size = size
        self._inline_below = inline_below
        self._inline_tags = inline_tags
        # A thread per task sends the page and waits for the answer, so neither a worker
        # still starting nor a big page blocks the loop; twice the workers, as the thread
        # of a killed worker's task lingers until the kill has closed its pipe.
        self._threads = ThreadPoolExecutor(max_workers=2 * size, thread_name_prefix="page-work")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._closed = False

    async def _take(self) -> _Worker:
        # Workers start when first needed: a monitor whose pages are all small never
        # starts one.
        if self._idle.empty() and len(self._all) < self._size:
            worker = _Worker(self._mp)
            self._all.add(worker)
            return worker
        return await self._idle.get()

    def inline(self, body: bytes) -> bool:
        """True when the page `body` is read on the loop (below both limits)."""
        return len(body) < self._inline_below and body.count(b"<") < self._inline_tags

    async def run(self, body: bytes, timeout: float, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """`fn(*args)`, the reading of the page `body`, within `timeout` seconds (on the event
        loop's time: it bounds real CPU work, whatever the injected clock says). Raises
        TimeoutError when it ran out of time, `PageWorkCrashed` when its worker died, and
        whatever `fn` raised."""
        if self.inline(body):
            return fn(*args)
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            worker = await self._take()
            try:
                ok, value, trace = await loop.run_in_executor(self._threads, worker.call, fn, args)
            except BaseException:
                # Out of time, cancelled, or dead: the worker may still be reading the page.
                self._replace(worker)
                raise
            self._idle.put_nowait(worker)
        if not ok:
            raise value from WorkerTraceback(trace)
        result: T = value
        return result

    def _replace(self, worker: _Worker) -> None:
        self._all.discard(worker)
        threading.Thread(target=worker.kill, name="page-worker-kill", daemon=True).start()
        if self._closed:
            return
        # Started now, not by the next task: a task may be waiting for a free worker.
        replacement = _Worker(self._mp)
        self._all.add(replacement)
        self._idle.put_nowait(replacement)

    def close(self) -> None:
        """Stop every worker: an idle one ends at once, a busy one is killed after a
        second (blocking: the owner runs it off the loop)."""
        self._closed = True
        workers = list(self._all)
        self._all.clear()
        for worker in workers:
            worker.ask_to_stop()
        until = time.monotonic() + 1.0  # real processes: the system's time, not the clock
        for worker in workers:
            worker.reap(max(0.0, until - time.monotonic()))
        self._threads.shutdown(wait=True)


@asynccontextmanager
async def open_page_workers(size: int = DEFAULT_WORKERS) -> AsyncIterator[PageWorkers]:
    """Open the pool (its workers start when first needed); stop its workers on exit."""
    pool = PageWorkers(size)
    try:
        yield pool
    finally:
        await asyncio.get_running_loop().run_in_executor(None, pool.close)
