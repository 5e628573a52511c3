"""`tls:` of a check that fetches over HTTP: a site whose certificate chains to a domestic
or private CA (`ca_file`), one checked without verification (`insecure`, still reporting
the certificate's expiry), or one reached under another name (`server_name`: the name sent
in SNI and verified against the certificate, for a site reached by IP or through a
gateway).

A check without `tls:` uses the process-wide `global.verify_tls` and the system CAs.
"""

from __future__ import annotations

import ssl

from pydantic import Field, field_validator, model_validator

from probes.config.types import Strict


class TlsSpec(Strict):
    """TLS settings of one check."""

    ca_file: str | None = Field(
        default=None, description="PEM file of the CA(s) to verify the site with"
    )
    insecure: bool = Field(default=False, description="do not verify the certificate")
    server_name: str | None = Field(
        default=None, min_length=1, description="name for SNI and certificate verification"
    )

    @field_validator("ca_file")
    @classmethod
    def _readable_pem(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ssl.create_default_context(cafile=value)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"ca_file {value!r}: not a readable PEM CA file ({exc})") from exc
        return value

    @model_validator(mode="after")
    def _not_both(self) -> TlsSpec:
        if self.insecure and self.ca_file is not None:
            raise ValueError("tls: ca_file and insecure contradict each other; choose one")
        return self

    def context(self) -> ssl.SSLContext | bool:
        """What the client verifies with: False (insecure) or a context with `ca_file`."""
        if self.insecure:
            return False
        return ssl.create_default_context(cafile=self.ca_file)
