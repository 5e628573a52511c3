"""Shared fixtures: the repo on sys.path, a frozen clock, a state store, and the simulated
portal running on a free port with config/demo.yaml pointed at it."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Property tests draw the same examples on every run (derived from each test, not from the
# session's random seed): a suite that found a new counterexample one run in ten would turn
# someone else's CI red. `HYPOTHESIS_PROFILE=explore` searches afresh, to hunt for new
# counterexamples on purpose.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
try:
    import probes  # noqa: F401
except ImportError:  # not pip-installed: run from the checkout (imports below need it)
    sys.path.insert(0, str(ROOT))

from probes.clock import FrozenClock  # noqa: E402
from probes.config import Config, load_config  # noqa: E402
from probes.demo.portal import RunningPortal, run_portal  # noqa: E402
from probes.runtime.runner import Runtime, open_runtime  # noqa: E402
from probes.state.store import Store  # noqa: E402

DEMO_CONFIG = ROOT / "config" / "demo.yaml"
# The tests' "today": Wednesday 2026-11-18 10:00 in Beijing (UTC+8), a working day.
FROZEN_NOW = 1_794_967_200.0


@pytest.fixture
def frozen_clock() -> FrozenClock:
    """A clock stopped at FROZEN_NOW; it moves only with `advance()`."""
    return FrozenClock(FROZEN_NOW)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite state store in the test's temporary directory."""
    with Store.open(tmp_path / "state.db") as opened:
        yield opened


@pytest.fixture
async def portal(frozen_clock: FrozenClock) -> AsyncIterator[RunningPortal]:
    """The simulated portal on a free localhost port; its today is the frozen clock's."""
    async with run_portal(now=frozen_clock.now()) as running:
        yield running


@pytest.fixture
def demo_config(portal: RunningPortal, tmp_path: Path) -> Config:
    """config/demo.yaml with every portal URL pointing at the running `portal`."""
    environ = {
        **os.environ,
        "DEMO_PORTAL": portal.base_url,
        "ZOMBIE_STATE": str(tmp_path / "demo-state.db"),
    }
    return load_config(DEMO_CONFIG, environ=environ)


@pytest.fixture
async def runtime(
    demo_config: Config, tmp_path: Path, frozen_clock: FrozenClock
) -> AsyncIterator[Runtime]:
    """What the monitor runs checks with, against the running portal, as `open_runtime`
    opens it for serve, demo and check: the real shared client and fetcher, a state store
    in the test's directory, and the frozen clock."""
    async with open_runtime(
        demo_config.global_, clock=frozen_clock, state_path=tmp_path / "runtime.db"
    ) as rt:
        yield rt


@dataclass
class Site:
    """A government home page on a local server whose body and status the test switches;
    served as GBK, as many county sites still are."""

    url: str
    body: str = "<html><head><title>某某区人民政府</title></head><body>政务公开</body></html>"
    status: int = 200
    hits: int = 0  # requests served


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    current = Site("")

    async def home(request: web.Request) -> web.Response:
        current.hits += 1
        return web.Response(
            body=current.body.encode("gbk"),
            status=current.status,
            content_type="text/html",
            charset="gbk",
        )

    app = web.Application()
    app.router.add_get("/", home)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    current.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        yield current
    finally:
        await runner.cleanup()
