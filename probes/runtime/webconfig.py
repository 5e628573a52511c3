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
the file and the field) and the TLS settings handed to uvicorn; the basic-auth middleware
that makes every endpoint answer 401 without valid credentials is
`probes.runtime.basicauth`.

Supported subset, refused loudly otherwise (a security setting that is silently ignored is
worse than an error): `client_auth_type` NoClientCert, VerifyClientCertIfGiven and
RequireAndVerifyClientCert (Python's TLS cannot request a certificate without verifying it);
`min_version` TLS12 or TLS13 (older versions are refused as insecure); no cipher suites,
curve preferences or `http_server_config`.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError, field_validator, model_validator

from probes.config.loader import BoundedLoader
from probes.config.types import Strict
from probes.model import one_line
from probes.runtime.basicauth import BasicAuthMiddleware

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
