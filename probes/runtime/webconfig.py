"""Securing the HTTP endpoints: `serve --web.config.file FILE`.

FILE is in the format of Prometheus' exporter-toolkit, so the same file works for the
monitor and for node_exporter or blackbox_exporter::

    tls_server_config:
      cert_file: server.crt          # relative paths are relative to FILE
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert   # optional, needs client_ca_file
      client_ca_file: clients.pem
      min_version: TLS12             # TLS12 (default) or TLS13
    basic_auth_users:
      prometheus: $2b$12$...         # bcrypt hash (htpasswd -nBC 12 "" | tr -d ':\\n')

This module owns parsing it (once, at start-up, into a frozen `WebConfig`; every error names
the file and the field), the TLS settings handed to uvicorn, and `BasicAuthMiddleware`, the
pure-ASGI middleware that makes every endpoint answer 401 without valid credentials.

Password guessing is bounded three ways: bcrypt runs on a small pool of its own (two
threads), never on the default executor that DNS lookups share, so a flood of wrong
passwords cannot starve the resolver; each client (by address) may fail `FAIL_BURST`
times and then once every `FAIL_EVERY` seconds, beyond which it is answered 429 with
`Retry-After` without any hashing; and at most `MAX_PENDING` checks wait for the pool at
once (429 beyond). Credentials already verified are recognised without bcrypt, so a
scraper with the right password is never slowed or locked out by someone else's guesses
from the same address. Behind a reverse proxy every client has the proxy's address: the
limit then applies to all of them together.

Supported subset, refused loudly otherwise (a security setting that is silently ignored is
worse than an error): `client_auth_type` NoClientCert, VerifyClientCertIfGiven and
RequireAndVerifyClientCert (Python's TLS cannot request a certificate without verifying it);
`min_version` TLS12 or TLS13 (older versions are refused as insecure); no cipher suites,
curve preferences or `http_server_config`.
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
import ssl
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import bcrypt
import yaml
from pydantic import ValidationError, field_validator, model_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from probes.clock import Clock, SystemClock
from probes.config.loader import BoundedLoader
from probes.config.types import Strict
from probes.model import one_line

ClientAuth = Literal["NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"]
_CERT_REQS: dict[str, ssl.VerifyMode] = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
_MIN_VERSION: dict[str, ssl.TLSVersion] = {
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
MAX_WEB_CONFIG_BYTES = 1024 * 1024  # users and TLS paths: a few kilobytes
_BCRYPT_PREFIXES = (b"$2a$", b"$2b$", b"$2y$")
_BCRYPT_LEN = 60


class WebConfigError(Exception):
    """The web config file cannot be used; the message names the file and the field."""


class _TLSModel(Strict):
    cert_file: str
    key_file: str
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: str | None = None
    min_version: Literal["TLS12", "TLS13"] = "TLS12"

    @model_validator(mode="after")
    def _ca_for_verification(self) -> _TLSModel:
        if self.client_auth_type != "NoClientCert" and not self.client_ca_file:
            raise ValueError(f"client_auth_type {self.client_auth_type} needs client_ca_file")
        return self


class _WebConfigModel(Strict):
    tls_server_config: _TLSModel | None = None
    basic_auth_users: dict[str, str] | None = None

    @field_validator("basic_auth_users")
    @classmethod
    def _bcrypt_hashes(cls, users: dict[str, str] | None) -> dict[str, str] | None:
        for user, hashed in (users or {}).items():
            raw = hashed.encode()
            if not raw.startswith(_BCRYPT_PREFIXES) or len(raw) != _BCRYPT_LEN:
                raise ValueError(
                    f"user {user!r}: not a bcrypt hash (expected $2b$..., 60 characters); "
                    "create one with `htpasswd -nBC 12 '' | tr -d ':\\n'`"
                )
            if ":" in user:
                raise ValueError(f"user {user!r}: a user name cannot contain ':'")
        return users


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """The server side of TLS, with every path resolved against the web config's folder."""

    cert_file: Path
    key_file: Path
    client_auth: ssl.VerifyMode
    client_ca_file: Path | None
    min_version: ssl.TLSVersion

    def context(self) -> ssl.SSLContext:
        """A server context with these settings (also what uvicorn is told to build)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = self.min_version
        ctx.load_cert_chain(self.cert_file, self.key_file)
        ctx.verify_mode = self.client_auth
        if self.client_ca_file is not None:
            ctx.load_verify_locations(self.client_ca_file)
        return ctx


@dataclass(frozen=True, slots=True)
class WebConfig:
    """A parsed web config: TLS (or None for plain HTTP) and bcrypt hashes by user (empty:
    no authentication)."""

    path: Path
    tls: TLSSettings | None
    users: Mapping[str, bytes] = field(default_factory=dict)

    def uvicorn_ssl_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `uvicorn.Config`: none for plain HTTP."""
        if self.tls is None:
            return {}
        tls = self.tls
        kwargs: dict[str, Any] = {
            "ssl_certfile": str(tls.cert_file),
            "ssl_keyfile": str(tls.key_file),
            "ssl_cert_reqs": int(tls.client_auth),
            "ssl_ca_certs": str(tls.client_ca_file) if tls.client_ca_file else None,
        }
        if tls.min_version is not ssl.TLSVersion.TLSv1_2:
            # uvicorn's own context already refuses anything below TLS 1.2 (Python's
            # default), but cannot raise the floor; a context factory (newer uvicorn releases)
            # builds ours instead.
            def factory(_config: object, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
                return tls.context()

            kwargs["ssl_context_factory"] = factory
        return kwargs

    def middleware_class(self) -> type[BasicAuthMiddleware]:
        return BasicAuthMiddleware

    def middleware_kwargs(self) -> dict[str, Any]:
        """For `app.add_middleware(web.middleware_class(), **web.middleware_kwargs())`."""
        return {"users": dict(self.users)}


def load_web_config(path: str | Path) -> WebConfig:
    """Read and validate FILE; `WebConfigError` names the file and the field at fault."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_WEB_CONFIG_BYTES + 1).decode("utf-8")
        if len(text) > MAX_WEB_CONFIG_BYTES:
            raise WebConfigError(f"{path}: larger than {MAX_WEB_CONFIG_BYTES} bytes")
        # The config loader's bounds: an alias bomb or runaway nesting is refused at once.
        raw = yaml.load(text, Loader=BoundedLoader)  # a SafeLoader subclass
    except (OSError, UnicodeDecodeError) as exc:
        raise WebConfigError(f"{path}: cannot read: {_one_line(exc)}") from exc
    except yaml.YAMLError as exc:
        raise WebConfigError(f"{path}: not valid YAML: {_one_line(exc)}") from exc
    try:
        model = _WebConfigModel.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise WebConfigError(f"{path}: {problems}") from exc
    tls = None
    if model.tls_server_config is not None:
        tls = _tls_settings(path, model.tls_server_config)
    users = {u: h.encode() for u, h in (model.basic_auth_users or {}).items()}
    return WebConfig(path=path, tls=tls, users=users)


def _one_line(exc: BaseException) -> str:
    return one_line(str(exc))


def _tls_settings(path: Path, m: _TLSModel) -> TLSSettings:
    def resolve(name: str, value: str) -> Path:
        found = (path.parent / value) if not Path(value).is_absolute() else Path(value)
        if not found.is_file():
            raise WebConfigError(f"{path}: tls_server_config.{name}: no such file {found}")
        return found

    settings = TLSSettings(
        cert_file=resolve("cert_file", m.cert_file),
        key_file=resolve("key_file", m.key_file),
        client_auth=_CERT_REQS[m.client_auth_type],
        client_ca_file=resolve("client_ca_file", m.client_ca_file) if m.client_ca_file else None,
        min_version=_MIN_VERSION[m.min_version],
    )
    try:  # load once now, so a wrong key or a garbled PEM fails at start-up
        settings.context()
    except (ssl.SSLError, OSError) as exc:
        raise WebConfigError(f"{path}: tls_server_config: cannot load: {_one_line(exc)}") from exc
    return settings


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
