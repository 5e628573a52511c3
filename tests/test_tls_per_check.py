"""TLS per check: `tls: {ca_file, insecure, server_name}` on an HTTP check, for sites whose
certificate chains to a domestic or private CA or is reached under another name, and
`check --insecure`; against a real HTTPS server with a private CA."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from probes.clock import FrozenClock
from probes.config import ConfigError, parse_config
from probes.model import Failure, State
from probes.runtime.runner import open_runtime, run_channel
from tests.test_cli import zp
from tests.test_fetch_sockets import TRANSPORTS


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="某省政务云 CA")


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "gov-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


async def _https(ca: trustme.CA, name: str) -> AsyncIterator[int]:
    async def home(request: web.Request) -> web.Response:
        return web.Response(text="<html><title>政务服务网</title><body>办事指南</body></html>",
                            content_type="text/html")  # fmt: skip

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    app = web.Application()
    app.router.add_get("/", home)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@pytest.fixture
async def by_ip(ca: trustme.CA) -> AsyncIterator[int]:
    """A server whose certificate names 127.0.0.1, from the private CA."""
    async for port in _https(ca, "127.0.0.1"):
        yield port


@pytest.fixture
async def by_name(ca: trustme.CA) -> AsyncIterator[int]:
    """A server reached by IP whose certificate names only zwfw.example.gov.cn."""
    async for port in _https(ca, "zwfw.example.gov.cn"):
        yield port


async def _state(port: int, tls: dict[str, Any] | None, transport: str) -> tuple[State, Any]:
    tls_yaml = "" if tls is None else f"tls: {tls}"
    config = parse_config(
        f"""
global: {{http_transport: {transport}}}
channels:
  - name: zwfw
    kind: website
    owner: 省大数据局
    url: https://127.0.0.1:{port}/
    checks: {{availability: {{ {tls_yaml} }}}}
""".replace("'", '"')
    )
    async with open_runtime(config.global_, clock=FrozenClock(1.8e9), state_path=":memory:") as rt:
        verdict, [result] = await run_channel(rt, config.channels[0])
    return verdict.state, result.failure


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("tls", "state", "failure"),
    [(None, State.ZOMBIE, Failure.TLS),  # the system CAs do not know the private CA
     ({"ca_file": "{ca}"}, State.OK, None),
     ({"insecure": True}, State.OK, None)],
)  # fmt: skip
async def test_a_check_verifies_with_its_own_ca_or_not_at_all(
    by_ip: int, ca_file: Path, transport: str, tls: dict[str, Any] | None, state: State,
    failure: Failure | None,
) -> None:  # fmt: skip
    filled = None if tls is None else {k: str(v).format(ca=ca_file) if isinstance(v, str) else v
                                       for k, v in tls.items()}  # fmt: skip
    assert await _state(by_ip, filled, transport) == (state, failure)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("server_name", "state", "failure"),
    [("zwfw.example.gov.cn", State.OK, None),
     (None, State.ZOMBIE, Failure.TLS),  # the certificate does not name 127.0.0.1
     ("other.example.gov.cn", State.ZOMBIE, Failure.TLS)],
)  # fmt: skip
async def test_server_name_is_the_name_the_certificate_is_verified_against(
    by_name: int, ca_file: Path, transport: str, server_name: str | None, state: State,
    failure: Failure | None,
) -> None:  # fmt: skip
    tls: dict[str, Any] = {"ca_file": str(ca_file)}
    if server_name is not None:
        tls["server_name"] = server_name
    assert await _state(by_name, tls, transport) == (state, failure)


async def test_check_insecure_accepts_a_certificate_from_an_unknown_ca(by_ip: int) -> None:
    url = f"https://127.0.0.1:{by_ip}/"
    code, out, _ = await zp("check", url, "--as", "availability")
    assert code == 2 and "tls" in out.splitlines()[0]
    code, out, err = await zp("check", url, "--as", "availability", "--insecure")
    assert code == 0, out + err


@pytest.mark.parametrize(
    ("tls", "message"),
    [('{ca_file: "/nonexistent/ca.pem"}', "not a readable PEM CA file"),
     ('{ca_file: "{ca}", insecure: true}', "contradict"),
     ("{insecure: maybe}", "insecure")],
)  # fmt: skip
def test_bad_tls_settings_are_config_errors(ca_file: Path, tls: str, message: str) -> None:
    text = f"""
channels:
  - name: zwfw
    kind: website
    owner: 省大数据局
    url: https://127.0.0.1/
    checks: {{availability: {{tls: {tls.replace("{ca}", str(ca_file))}}}}}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert message in str(caught.value)
