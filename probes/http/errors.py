"""Turning a transport exception into a failure reason from the fixed set and one line.

Classification reads the whole cause chain, not the outer exception's type: the transports
wrap the same root cause differently (httpx-aiohttp reports a refused connection as
`ConnectTimeout`, httpcore as "All connection attempts failed"), and the root cause
(`ConnectionRefusedError`, `socket.gaierror`, `ssl.SSLCertVerificationError`) is what a
human needs to read.

Every text is one line (`one_line`): aiohttp's parser errors span several lines, with the
offending bytes and a caret under them, and a multi-line error breaks log lines, the
CLI's first line and metrics-adjacent output.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import aiohttp
import httpx

from probes.model import Failure, one_line

__all__ = ["classify", "one_line"]


def classify(exc: BaseException, url: httpx.URL) -> tuple[Failure, str]:
    """(failure, one-line error) for an exception raised while fetching `url`."""
    failure, text = _classify(exc, url)
    return failure, one_line(text)


def _classify(exc: BaseException, url: httpx.URL) -> tuple[Failure, str]:
    where = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
    chain = list(_causes(exc))
    for err in chain:
        if isinstance(err, ssl.SSLCertVerificationError):
            detail = str(getattr(err, "verify_message", None) or err)
            return Failure.TLS, f"certificate of {where} not accepted: {detail}"
    for err in chain:
        if isinstance(err, ssl.SSLError):
            return (
                Failure.TLS,
                f"TLS handshake with {where} failed: {getattr(err, 'reason', None) or err}",
            )
    for err in chain:
        if isinstance(err, socket.gaierror):
            return Failure.DNS, f"cannot resolve {url.host}: {err.strerror or err}"
    for err in chain:
        if isinstance(err, aiohttp.ClientConnectorDNSError):
            return Failure.DNS, f"cannot resolve {url.host}: {err.os_error}"
    for err in chain:
        if isinstance(err, ConnectionRefusedError):
            return Failure.CONNECT, f"connection refused to {where}"
        if isinstance(err, ConnectionResetError | BrokenPipeError):
            return Failure.CONNECT, f"connection reset by {where}"
        if isinstance(err, httpx.RemoteProtocolError | aiohttp.ServerDisconnectedError):
            return Failure.CONNECT, f"{where} broke the HTTP exchange: {_text(err)}"
        if isinstance(err, aiohttp.ClientPayloadError):
            return Failure.CONNECT, f"body from {where} cut short: {_text(err)}"
        if isinstance(err, aiohttp.ClientResponseError):
            return Failure.CONNECT, f"{where} sent an invalid HTTP response: {err.message}"
    for err in chain:
        if isinstance(err, TimeoutError | httpx.TimeoutException | aiohttp.ServerTimeoutError):
            return Failure.TIMEOUT, f"{where} timed out: {_text(err)}"
    for err in chain:
        if isinstance(err, OSError) and err.strerror:
            return Failure.CONNECT, f"cannot connect to {where}: {err.strerror}"
    return Failure.CONNECT, f"{where}: {_text(exc)}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        err = todo.pop(0)
        if id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        todo.extend(e for e in (err.__cause__, err.__context__) if e is not None)
        if isinstance(err, BaseExceptionGroup):
            todo.extend(err.exceptions)


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
