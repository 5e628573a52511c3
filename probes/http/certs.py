"""The peer certificate's notAfter, read from its DER form, for `Page.tls_not_after`.

Read from the DER form because `getpeercert()` returns nothing when verification is off
(`verify_tls: false`, `tls: {insecure: true}`), and expiry is still worth reporting then.
Every transport reads it from the connection's `ssl_object` while the connection is open.
"""

from __future__ import annotations

import calendar
import logging
import ssl

log = logging.getLogger(__name__)


def not_after_of(ssl_object: object) -> float | None:
    """The notAfter (epoch seconds) of the certificate an `ssl_object` was shown, if any."""
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return der_not_after(der) if der else None


def der_not_after(der: bytes) -> float | None:
    """The notAfter of a DER certificate as epoch seconds, or None if it cannot be read."""
    try:
        _, body, _ = _tlv(der, 0)  # Certificate
        _, pos, _ = _tlv(der, body)  # TBSCertificate
        tag, _, end = _tlv(der, pos)
        if tag == 0xA0:  # explicit [0] version
            pos = end
        for _field in ("serial", "signature", "issuer"):
            pos = _tlv(der, pos)[2]
        _, validity, _ = _tlv(der, pos)
        not_before_end = _tlv(der, validity)[2]
        tag, start, end = _tlv(der, not_before_end)
        text = der[start:end].decode("ascii").rstrip("Z")
        if tag == 0x17:  # UTCTime, YYMMDDHHMMSS; years 50-99 are 19xx (RFC 5280)
            year = int(text[:2])
            text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
        elif tag != 0x18:  # not GeneralizedTime either
            return None
        parts = [int(text[i : i + 2]) for i in range(4, 14, 2)]
        return float(calendar.timegm((int(text[:4]), *parts, 0, 0, 0)))
    except (IndexError, ValueError) as exc:
        log.warning("cannot read notAfter from the peer certificate: %s", exc)
        return None


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at `pos`."""
    tag, length = der[pos], der[pos + 1]
    start = pos + 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(der[start : start + size], "big")
        start += size
    if start + length > len(der):
        raise ValueError("truncated certificate")
    return tag, start, start + length
