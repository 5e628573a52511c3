"""Basic authentication for every endpoint: `BasicAuthMiddleware`, the pure-ASGI
middleware `serve --web.config.file` puts in front of the app (users and bcrypt hashes from
`probes.runtime.webconfig`).

Password guessing is bounded three ways: bcrypt runs on a small pool of its own (two
threads), never on the default executor that DNS lookups share, so a flood of wrong
passwords cannot starve the resolver; each client (by address) may fail `FAIL_BURST`
times and then once every `FAIL_EVERY` seconds, beyond which it is answered 429 with
`Retry-After` without any hashing; and at most `MAX_PENDING` checks wait for the pool at
once (429 beyond). Credentials already verified are recognised without bcrypt, so a
scraper with the right password is never slowed or locked out by someone else's guesses
from the same address. Behind a reverse proxy every client has the proxy's address: the
limit then applies to all of them together. An unknown user name is checked against a
dummy hash of the configured cost, so user names cannot be told apart by timing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import bcrypt
from starlette.types import ASGIApp, Receive, Scope, Send

from probes.clock import Clock, SystemClock

# bcrypt only reads 72 bytes; longer passwords cannot match a hash made by htpasswd and
# are refused rather than truncated.
_BCRYPT_MAX_PASSWORD = 72
BCRYPT_THREADS = 2  # the pool of password checks: a wrong-password flood waits here
MAX_PENDING = 64  # checks waiting for the pool at once; more are answered 429
FAIL_BURST = 10  # failed attempts a client may make at once ...
FAIL_EVERY = 6.0  # ... then one every this many seconds (10 a minute)
MAX_CLIENTS = 10_000  # clients whose failures are remembered


def _cost(hashed: bytes) -> int:
    """The cost factor of a bcrypt hash (`$2b$12$...` -> 12)."""
    return int(hashed[4:6])


def dummy_hash(users: Mapping[str, bytes]) -> bytes:
    """A hash of a random password at the highest cost among the users' hashes, checked
    for unknown user names so they take as long as a known user's wrong password."""
    cost = max((_cost(h) for h in users.values()), default=12)
    return bcrypt.hashpw(secrets.token_bytes(16).hex().encode(), bcrypt.gensalt(rounds=cost))


class FailureLimiter:
    """Failed attempts per client as a token bucket: `burst` at once, then one per `every`
    seconds; bounded to `MAX_CLIENTS` clients (those with a full bucket are forgotten first)."""

    def __init__(self, clock: Clock, burst: int = FAIL_BURST, every: float = FAIL_EVERY) -> None:
        self.clock = clock
        self.burst = burst
        self.every = every
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)

    def _tokens(self, client: str, now: float) -> float:
        tokens, at = self._buckets.get(client, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) / self.every)

    def take(self, client: str) -> float:
        """Reserve one attempt before checking a password: 0 when taken, else the seconds
        until the client may try again. Taken before the check, so guesses sent at once
        cannot all slip in while the first ones are still being hashed."""
        now = self.clock.monotonic()
        tokens = self._tokens(client, now)
        if tokens < 1:
            return (1 - tokens) * self.every
        self._buckets.pop(client, None)  # re-inserted last: the dict is oldest-first
        if len(self._buckets) >= MAX_CLIENTS:
            self._forget(now)
        self._buckets[client] = (tokens - 1, now)
        return 0.0

    def give_back(self, client: str) -> None:
        """The attempt succeeded: it does not count against the client."""
        now = self.clock.monotonic()
        if client in self._buckets:
            self._buckets[client] = (min(float(self.burst), self._tokens(client, now) + 1), now)

    def _forget(self, now: float) -> None:
        full = [c for c in self._buckets if self._tokens(c, now) >= self.burst]
        for client in full:
            del self._buckets[client]
        while len(self._buckets) >= MAX_CLIENTS:
            del self._buckets[next(iter(self._buckets))]


class BasicAuthMiddleware:
    """Pure-ASGI middleware: HTTP and websocket requests need `Authorization: Basic` with a
    user of `users` and its password; others get 401 with `WWW-Authenticate: Basic`, or
    429 once a client has failed too often (see the module docstring).

    bcrypt is deliberately slow (tens of milliseconds), too slow to pay on every scrape,
    so a verified user+password is remembered as an HMAC under a per-process random key
    (never the password itself) and later requests are checked with a constant-time
    compare. bcrypt runs on the middleware's own small thread pool so it never stalls the
    event loop or the default executor. With no users configured, every request passes.
    """

    def __init__(
        self, app: ASGIApp, users: Mapping[str, bytes], clock: Clock | None = None
    ) -> None:
        self.app = app
        self.users = dict(users)
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}  # user -> HMAC of the last good password
        self._dummy = dummy_hash(self.users) if self.users else b""
        self._pool = ThreadPoolExecutor(BCRYPT_THREADS, thread_name_prefix="bcrypt")
        self._limiter = FailureLimiter(clock or SystemClock())
        self._pending = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.users:
            await self.app(scope, receive, send)
            return
        credentials = _credentials(scope)
        if credentials is None:
            await _unauthorized(scope, receive, send)
            return
        if self._remembered(*credentials):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("", 0))[0]
        if self._pending >= MAX_PENDING:
            await _too_many(scope, receive, send, 1.0)
            return
        wait = self._limiter.take(client)
        if wait:
            await _too_many(scope, receive, send, wait)
            return
        if await self._check(*credentials):
            self._limiter.give_back(client)
            await self.app(scope, receive, send)
            return
        await _unauthorized(scope, receive, send)

    def _digest(self, user: str, password: bytes) -> bytes:
        return hmac.new(self._key, user.encode() + b"\0" + password, hashlib.sha256).digest()

    def _remembered(self, user: str, password: bytes) -> bool:
        cached = self._verified.get(user)
        return cached is not None and hmac.compare_digest(cached, self._digest(user, password))

    async def _check(self, user: str, password: bytes) -> bool:
        hashed = self.users.get(user)
        if len(password) > _BCRYPT_MAX_PASSWORD:
            return False
        loop = asyncio.get_running_loop()
        check = functools.partial(bcrypt.checkpw, password, hashed or self._dummy)
        self._pending += 1
        try:
            ok = await loop.run_in_executor(self._pool, check)
        finally:
            self._pending -= 1
        if ok and hashed is not None:
            self._verified[user] = self._digest(user, password)
            return True
        return False


def _credentials(scope: Scope) -> tuple[str, bytes] | None:
    """(user, password) from the request's `Authorization: Basic` header, if well formed."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() != b"basic":
                return None
            try:
                decoded = base64.b64decode(token.strip(), validate=True)
            except (binascii.Error, ValueError):
                return None
            user, sep, password = decoded.partition(b":")
            if not sep:
                return None
            try:
                return user.decode("utf-8"), password
            except UnicodeDecodeError:
                return None
    return None


async def _too_many(scope: Scope, receive: Receive, send: Send, wait: float) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b"Too many failed attempts; try again later\n"
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"retry-after", str(math.ceil(wait)).encode()),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _unauthorized(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b"Unauthorized\n"
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"www-authenticate", b'Basic realm="zombie-probes", charset="UTF-8"'),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
