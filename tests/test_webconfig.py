"""`serve --web.config.file`: the exporter-toolkit file is parsed with errors naming the file
and field, basic auth refuses missing, wrong and malformed credentials with 401 while
remembering good ones (bcrypt once, not per scrape), and a real uvicorn server with the TLS
settings refuses plain HTTP, old TLS versions and clients without a required certificate."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from probes.runtime import basicauth
from probes.runtime.basicauth import BasicAuthMiddleware
from probes.runtime.webconfig import WebConfig, WebConfigError, load_web_config

PASSWORD = "s3cret-口令"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _app() -> Starlette:
    async def metrics(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("zombie_build_info 1\n")

    return Starlette(routes=[Route("/metrics", metrics), Route("/-/healthy", metrics)])


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """server.crt / server.key for 127.0.0.1 and clients.pem (the CA) in one folder, where
    each test writes its web.yml."""
    tmp_path = tmp_path_factory.mktemp("web")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "server.crt"))
    ca.cert_pem.write_to_path(str(tmp_path / "clients.pem"))
    return tmp_path


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "web.yml"
    path.write_text(text, encoding="utf-8")
    return path


# --- parsing ----------------------------------------------------------------------------


def test_full_config_resolves_paths_next_to_the_file(tls_files: Path) -> None:
    path = _write(
        tls_files,
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.pem\n"
        "  min_version: TLS13\n"
        f"basic_auth_users:\n  prometheus: '{HASH}'\n",
    )
    web = load_web_config(path)
    assert web.tls is not None
    assert web.tls.cert_file == tls_files / "server.crt"
    assert web.tls.client_auth is ssl.CERT_REQUIRED
    assert web.tls.min_version is ssl.TLSVersion.TLSv1_3
    assert web.users == {"prometheus": HASH.encode()}
    kwargs = web.uvicorn_ssl_kwargs()
    assert kwargs["ssl_certfile"] == str(tls_files / "server.crt")
    assert kwargs["ssl_keyfile"] == str(tls_files / "server.key")


def test_empty_file_means_plain_http_without_auth(tmp_path: Path) -> None:
    web = load_web_config(_write(tmp_path, ""))
    assert web.tls is None
    assert web.users == {}
    assert web.uvicorn_ssl_kwargs() == {}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("basic_auth_users:\n  prometheus: plaintext\n", "basic_auth_users: user 'prometheus'"),
        ("tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n",
         "tls_server_config.cert_file: no such file"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
         "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
         "tls_server_config.cipher_suites"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
         "  client_auth_type: RequireAndVerifyClientCert\n",
         "needs client_ca_file"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
         "  client_auth_type: RequireAnyClientCert\n  client_ca_file: clients.pem\n",
         "tls_server_config.client_auth_type"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
         "  min_version: TLS10\n",
         "tls_server_config.min_version"),
        ("tls_server_config:\n  cert_file: server.key\n  key_file: server.crt\n",
         "tls_server_config: cannot load"),
        ("http_server_config:\n  http2: false\n", "http_server_config"),
        ("basic_auth_users: [a, b\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_bad_config_is_refused_naming_file_and_field(
    tls_files: Path, text: str, names: str
) -> None:
    path = _write(tls_files, text)
    with pytest.raises(WebConfigError) as caught:
        load_web_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert names in message


def test_missing_file_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(WebConfigError, match=r"web\.yml: cannot read"):
        load_web_config(tmp_path / "web.yml")


# --- basic auth, in process ------------------------------------------------------------------


def _client(users: dict[str, bytes]) -> httpx.AsyncClient:
    app = BasicAuthMiddleware(_app(), users=users)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (_basic("prometheus", PASSWORD), 200),
        (_basic("prometheus", "wrong"), 401),
        ({}, 401),
        (_basic("someone", PASSWORD), 401),
        (_basic("prometheus", PASSWORD + "x" * 80), 401),
        ({"Authorization": "Bearer abc"}, 401),
        ({"Authorization": "Basic !!notbase64!!"}, 401),
        ({"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, 401),
    ],
)
async def test_basic_auth_answers(headers: dict[str, str], status: int) -> None:
    async with _client({"prometheus": HASH.encode()}) as client:
        response = await client.get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic ")
        assert "zombie_build_info" not in response.text


async def test_every_endpoint_is_protected() -> None:
    async with _client({"prometheus": HASH.encode()}) as client:
        for path in ("/metrics", "/-/healthy", "/no-such-page"):
            assert (await client.get(path)).status_code == 401


async def test_no_users_means_no_authentication() -> None:
    async with _client({}) as client:
        assert (await client.get("/metrics")).status_code == 200


async def test_bcrypt_is_paid_once_per_good_password_not_per_scrape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bytes] = []
    real: Callable[[bytes, bytes], bool] = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(password)
        return real(password, hashed)

    monkeypatch.setattr(basicauth.bcrypt, "checkpw", counting)
    async with _client({"prometheus": HASH.encode()}) as client:
        for _ in range(5):
            ok = await client.get("/metrics", headers=_basic("prometheus", PASSWORD))
            assert ok.status_code == 200
        # A wrong password after a good one is still checked, and still refused.
        bad = await client.get("/metrics", headers=_basic("prometheus", "wrong"))
        assert bad.status_code == 401
        again = await client.get("/metrics", headers=_basic("prometheus", PASSWORD))
        assert again.status_code == 200
    assert calls == [PASSWORD.encode(), b"wrong"]


# --- a real server with TLS --------------------------------------------------------------------


@asynccontextmanager
async def _serve(web: WebConfig) -> AsyncIterator[int]:
    """The test app behind the web config's middleware and TLS, on a free port."""
    app = _app()
    app.add_middleware(web.middleware_class(), **web.middleware_kwargs())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", **web.uvicorn_ssl_kwargs()
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def _web(tls_files: Path, extra: str = "") -> WebConfig:
    return load_web_config(
        _write(
            tls_files,
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            f"{extra}basic_auth_users:\n  prometheus: '{HASH}'\n",
        )
    )


def _verify(ca: trustme.CA, **settings: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    for name, value in settings.items():
        setattr(ctx, name, value)
    return ctx


async def _refused(client: httpx.AsyncClient, url: str) -> bool:
    """True when a request with the right password gets no HTTP answer (TLS refused it)."""
    try:
        response = await client.get(url, headers=_basic("prometheus", PASSWORD))
    except httpx.TransportError:
        return True
    pytest.fail(f"expected the connection to fail, got HTTP {response.status_code}")


@pytest.mark.integration
async def test_tls_server_with_basic_auth(ca: trustme.CA, tls_files: Path) -> None:
    async with _serve(_web(tls_files)) as port:
        url = f"https://127.0.0.1:{port}/metrics"
        async with httpx.AsyncClient(verify=_verify(ca), timeout=5) as client:
            ok = await client.get(url, headers=_basic("prometheus", PASSWORD))
            wrong = await client.get(url, headers=_basic("prometheus", "wrong"))
            none = await client.get(url)
        assert ok.status_code == 200
        assert ok.text == "zombie_build_info 1\n"
        assert (wrong.status_code, none.status_code) == (401, 401)
        assert none.headers["www-authenticate"].startswith("Basic ")
        # Plain HTTP to the TLS port: the connection fails, with the right password too.
        async with httpx.AsyncClient(timeout=5) as plain:
            plain_url = f"http://127.0.0.1:{port}/metrics"
            assert await _refused(plain, plain_url)


@pytest.mark.integration
async def test_min_version_tls13_refuses_tls12_clients(ca: trustme.CA, tls_files: Path) -> None:
    async with _serve(_web(tls_files, "  min_version: TLS13\n")) as port:
        url = f"https://127.0.0.1:{port}/metrics"
        old = _verify(ca, maximum_version=ssl.TLSVersion.TLSv1_2)
        async with httpx.AsyncClient(verify=old, timeout=5) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(url, headers=_basic("prometheus", PASSWORD))
        async with httpx.AsyncClient(verify=_verify(ca), timeout=5) as client:
            ok = await client.get(url, headers=_basic("prometheus", PASSWORD))
        assert ok.status_code == 200


@pytest.mark.integration
async def test_required_client_certificate(ca: trustme.CA, tls_files: Path) -> None:
    extra = "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.pem\n"
    async with _serve(_web(tls_files, extra)) as port:
        url = f"https://127.0.0.1:{port}/metrics"
        async with httpx.AsyncClient(verify=_verify(ca), timeout=5) as client:
            assert await _refused(client, url)
        with_cert = _verify(ca)
        ca.issue_cert("prometheus@monitoring").configure_cert(with_cert)
        async with httpx.AsyncClient(verify=with_cert, timeout=5) as client:
            ok = await client.get(url, headers=_basic("prometheus", PASSWORD))
        assert ok.status_code == 200
