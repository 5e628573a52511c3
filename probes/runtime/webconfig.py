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
import hashlib
import hmac
import secrets
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import bcrypt
import yaml
from pydantic import ValidationError, field_validator, model_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from probes.config.types import Strict

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
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise WebConfigError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise WebConfigError(f"{path}: not valid YAML: {exc}") from exc
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
        raise WebConfigError(f"{path}: tls_server_config: cannot load: {exc}") from exc
    return settings


# A hash to spend bcrypt time on for unknown users, so a wrong user name takes as long as a
# wrong password and user names cannot be probed by timing.
_DUMMY_HASH = b"$2b$10$c7PgtBOa.J/Dhq3fn6LCRuiFQiBRG0Gvc6EcC0Bkt3PzbcxWWnnqa"
# bcrypt only reads 72 bytes; longer passwords cannot match a hash made by htpasswd and
# are refused rather than truncated.
_BCRYPT_MAX_PASSWORD = 72


class BasicAuthMiddleware:
    """Pure-ASGI middleware: HTTP and websocket requests need `Authorization: Basic` with a
    user of `users` and its password; others get 401 with `WWW-Authenticate: Basic`.

    bcrypt is deliberately slow (tens of milliseconds), too slow to pay on every scrape,
    so a verified user+password is remembered as an HMAC under a per-process random key
    (never the password itself) and later requests are checked with a constant-time
    compare. bcrypt runs in a worker thread so it never stalls the event loop. With no
    users configured, every request passes.
    """

    def __init__(self, app: ASGIApp, users: Mapping[str, bytes]) -> None:
        self.app = app
        self.users = dict(users)
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}  # user -> HMAC of the last good password

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.users:
            await self.app(scope, receive, send)
            return
        credentials = _credentials(scope)
        if credentials is not None and await self._check(*credentials):
            await self.app(scope, receive, send)
            return
        await _unauthorized(scope, receive, send)

    async def _check(self, user: str, password: bytes) -> bool:
        digest = hmac.new(self._key, user.encode() + b"\0" + password, hashlib.sha256).digest()
        cached = self._verified.get(user)
        if cached is not None and hmac.compare_digest(cached, digest):
            return True
        hashed = self.users.get(user)
        if len(password) > _BCRYPT_MAX_PASSWORD:
            return False
        ok = await asyncio.to_thread(bcrypt.checkpw, password, hashed or _DUMMY_HASH)
        if ok and hashed is not None:
            self._verified[user] = digest
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
