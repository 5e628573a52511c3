"""Fault suite, authentication: a flood of wrong passwords against a real server neither
starves the resolver's thread pool nor gets unlimited bcrypt time; unknown user names
cost what known ones do; a client that keeps failing is answered 429 without hashing."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from pathlib import Path

import bcrypt
import httpx
import pytest

from probes.clock import FrozenClock
from probes.runtime import basicauth
from probes.runtime.basicauth import FAIL_BURST, FAIL_EVERY, BasicAuthMiddleware
from probes.runtime.webconfig import load_web_config
from tests.test_webconfig import PASSWORD, _app, _basic, _serve, _write

pytestmark = pytest.mark.fault
# The cost htpasswd -B uses by default is 5; deployments use 10-12. 10 keeps the test short
# while each check still takes tens of milliseconds.
COSTLY = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10))


@pytest.mark.integration
async def test_a_wrong_password_flood_leaves_the_default_executor_to_dns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[str] = set()
    started: list[float] = []
    took: list[float] = []
    real = bcrypt.checkpw

    def recording(password: bytes, hashed: bytes) -> bool:
        threads.add(threading.current_thread().name)
        begun = time.monotonic()
        started.append(begun)
        try:
            return real(password, hashed)
        finally:
            took.append(time.monotonic() - begun)

    monkeypatch.setattr(basicauth.bcrypt, "checkpw", recording)
    # No attempt comes back during the test, however long a loaded machine takes to hash
    # the burst (the refill rate is FailureLimiter's own test).
    monkeypatch.setattr(
        basicauth, "FailureLimiter", functools.partial(basicauth.FailureLimiter, every=3600.0)
    )
    # A deployment's cost (12: about a quarter of a second a check): checks queued on a
    # shared pool would hold the lookup up for at least one check's time.
    costly = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=12)).decode()
    web = load_web_config(_write(tmp_path, f"basic_auth_users:\n  prometheus: '{costly}'\n"))
    async with _serve(web) as port, httpx.AsyncClient(timeout=60) as client:
        url = f"http://127.0.0.1:{port}/metrics"
        flood = [
            asyncio.create_task(client.get(url, headers=_basic("prometheus", f"guess{i}")))
            for i in range(3 * FAIL_BURST)
        ]
        while len(started) < 2:  # the guesses are being hashed
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        began = time.monotonic()
        await loop.getaddrinfo("localhost", 80)  # the default executor, as the resolver uses
        resolved_in = time.monotonic() - began
        statuses = sorted(r.status_code for r in await asyncio.gather(*flood))
        good = await client.get(url, headers=_basic("prometheus", PASSWORD))
    assert resolved_in < min(took) / 2
    assert threads and all(name.startswith("bcrypt") for name in threads)
    # The first FAIL_BURST guesses are checked, the rest refused before any hashing; the
    # right password is refused too now (the address is over its limit).
    assert statuses.count(401) == FAIL_BURST
    assert statuses.count(429) == 2 * FAIL_BURST
    assert len(started) == FAIL_BURST
    assert good.status_code == 429
    assert int(good.headers["retry-after"]) >= 1


def _client(app: BasicAuthMiddleware, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_failed_attempts_are_limited_per_client_and_a_remembered_password_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, against: bytes) -> bool:
        hashed.append(against)
        return real(password, against)

    monkeypatch.setattr(basicauth.bcrypt, "checkpw", counting)
    clock = FrozenClock(0.0)
    app = BasicAuthMiddleware(_app(), users={"prometheus": COSTLY}, clock=clock)
    async with _client(app, "10.0.0.1") as scraper, _client(app, "10.0.0.2") as guesser:
        assert (
            await scraper.get("/metrics", headers=_basic("prometheus", PASSWORD))
        ).status_code == 200
        for i in range(FAIL_BURST):
            wrong = await guesser.get("/metrics", headers=_basic("prometheus", f"guess{i}"))
            assert wrong.status_code == 401
        checks = len(hashed)
        limited = await guesser.get("/metrics", headers=_basic("nobody", "guess"))
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == str(int(FAIL_EVERY))
        assert len(hashed) == checks  # refused without hashing
        # Another address is not limited, and a password verified before passes from anywhere.
        assert (await scraper.get("/metrics", headers=_basic("prometheus", "x"))).status_code == 401
        clock.advance(FAIL_EVERY)
        again = await guesser.get("/metrics", headers=_basic("prometheus", "guess-again"))
        assert again.status_code == 401
        assert (await guesser.get("/metrics", headers=_basic("prometheus", "y"))).status_code == 429
    async with _client(app, "10.0.0.2") as same_address:
        ok = await same_address.get("/metrics", headers=_basic("prometheus", PASSWORD))
    assert ok.status_code == 200


async def test_an_unknown_user_costs_the_same_bcrypt_rounds_as_a_known_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, against: bytes) -> bool:
        hashed.append(against)
        return real(password, against)

    monkeypatch.setattr(basicauth.bcrypt, "checkpw", counting)
    app = BasicAuthMiddleware(_app(), users={"prometheus": COSTLY})
    async with _client(app, "10.0.0.3") as client:
        for user in ("prometheus", "nobody"):
            assert (await client.get("/metrics", headers=_basic(user, "x"))).status_code == 401
    known, unknown = hashed
    assert unknown != known
    assert unknown[:7] == known[:7] == b"$2b$10$"
