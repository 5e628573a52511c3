"""Start-up: every failure to start `serve` or `demo` is one line naming what and where,
exit status 2, never a traceback; `config check` checks what the start checks (files a
config names, channels its call files map to); the shipped example config starts."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = "channels:\n  - {name: h1, kind: hotline, owner: x, checks: {hotline: {}}}\n"


def _run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "probes", *args], capture_output=True, text=True, cwd=cwd,
        env=env, timeout=timeout, check=False,
    )  # fmt: skip


def _one_line(out: subprocess.CompletedProcess[str], *expected: str) -> None:
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in out.stderr, out.stderr
    assert len(lines) == 1, out.stderr
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _config(tmp: Path, text: str) -> Path:
    path = tmp / "monitor.yaml"
    path.write_text(f"global: {{state_path: {tmp / 'state.db'}}}\n" + text)
    return path


def _newer_state(tmp: Path) -> None:
    with sqlite3.connect(tmp / "state.db") as conn:
        conn.execute("PRAGMA user_version = 9999")


def _corrupt_state(tmp: Path) -> None:
    (tmp / "state.db").write_bytes(b"\x07" * 4096)


def _bad_web_config(tmp: Path) -> None:
    (tmp / "web.yml").write_text("basic_auth_users:\n  admin: not-a-bcrypt-hash\n")


def _nothing(tmp: Path) -> None:
    pass


# (what, extra config, arguments after -c, how to spoil the setting, text the line names)
SERVE_FAILURES: list[tuple[str, str, list[str], Callable[[Path], None], list[str]]] = [
    ("listen without a port", HOTLINE, ["--listen", "localhost"], _nothing,
     ["'localhost'", "HOST:PORT"]),
    ("listen port out of range", HOTLINE, ["--listen", "127.0.0.1:99999"], _nothing,
     ["127.0.0.1:99999", "65535"]),
    ("missing CA file", HOTLINE + "calls:\n  mqtt: {host: 127.0.0.1, tls: {ca_file: ca.pem}}\n",
     [], _nothing, ["monitor.yaml:5", "calls.mqtt.tls.ca_file", "no such file", "ca.pem"]),
    # Over APART_FROM_BYTES: read in a child process, the same one line.
    ("large config with a missing CA file",
     HOTLINE + "# " + "padding " * 40_000
     + "\ncalls:\n  mqtt: {host: 127.0.0.1, tls: {ca_file: ca.pem}}\n",
     [], _nothing, ["monitor.yaml:6", "calls.mqtt.tls.ca_file", "no such file", "ca.pem"]),
    ("call file in a missing directory",
     HOTLINE + "calls:\n  files:\n    - {path: /nonexistent/cdr/Master.csv, format: jsonl}\n",
     [], _nothing, ["monitor.yaml:6", "calls.files[0].path", "/nonexistent/cdr"]),
    ("call file mapped to an unknown channel",
     HOTLINE + "calls:\n  files:\n    - {path: cdr.csv, format: asterisk-csv, "
     "channel_column: dst, channels: {'12345': h1, '12369': h2}}\n",
     [], _nothing, ["monitor.yaml", "calls", "'12369'", "'h2'", "not a hotline channel"]),
    ("bad web config", HOTLINE, ["--web.config.file", "web.yml"], _bad_web_config,
     ["web.yml", "admin"]),
    ("corrupt state file", HOTLINE, [], _corrupt_state, ["state.db", "corrupt"]),
    ("state file of a newer release", HOTLINE, [], _newer_state, ["state.db", "9999"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "args", "spoil", "expected"),
    [case[1:] for case in SERVE_FAILURES],
    ids=[case[0] for case in SERVE_FAILURES],
)
def test_serve_that_cannot_start_says_why_in_one_line(
    tmp_path: Path,
    extra: str,
    args: list[str],
    spoil: Callable[[Path], None],
    expected: list[str],
) -> None:
    config = _config(tmp_path, extra)
    spoil(tmp_path)
    out = _run("serve", "-c", str(config), "--listen", "127.0.0.1:0", *args, cwd=tmp_path)
    assert out.returncode == 2
    _one_line(out, *expected)


def test_serve_on_a_busy_port_says_which(tmp_path: Path, taken_port: int) -> None:
    config = _config(tmp_path, HOTLINE)
    out = _run("serve", "-c", str(config), "--listen", f"127.0.0.1:{taken_port}", cwd=tmp_path)
    assert out.returncode == 2
    _one_line(out, f"127.0.0.1:{taken_port}", "in use")
    assert not (tmp_path / "state.db").exists(), "nothing is opened before the bind"


@pytest.mark.parametrize("which", ["--portal-port", "--listen"])
def test_a_second_demo_says_the_port_is_taken(tmp_path: Path, taken_port: int, which: str) -> None:
    ports = {"--portal-port": "0", "--listen": "127.0.0.1:0"}
    ports[which] = str(taken_port) if which == "--portal-port" else f"127.0.0.1:{taken_port}"
    args = [x for kv in ports.items() for x in kv]
    out = _run("demo", "--once", *args, cwd=tmp_path)
    assert out.returncode == 2
    _one_line(out, str(taken_port), "another demo")


def test_config_check_checks_what_the_start_checks(tmp_path: Path) -> None:
    extra = HOTLINE + "calls:\n  mqtt: {host: 127.0.0.1, tls: {ca_file: ca.pem}}\n"
    out = _run("config", "check", str(_config(tmp_path, extra)), cwd=tmp_path)
    assert out.returncode == 1
    assert "calls.mqtt.tls.ca_file: no such file" in out.stderr
    # Once the file is there (and is a CA bundle), both agree it is fine.
    trustme = pytest.importorskip("trustme")
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    out = _run("config", "check", str(_config(tmp_path, extra)), cwd=tmp_path)
    assert out.returncode == 0, out.stderr


def test_config_check_checks_the_web_config_too(tmp_path: Path) -> None:
    _bad_web_config(tmp_path)
    config = _config(tmp_path, HOTLINE)
    out = _run("config", "check", str(config), "--web.config.file", "web.yml", cwd=tmp_path)
    assert out.returncode == 1
    _one_line(out, "web.yml")


# Runs inside a network namespace of its own (loopback only): the example's sites and
# broker are unreachable there, as on a machine that has not been set up yet, and no
# request can leave this machine.
_EXAMPLE_DRIVER = """
import os, signal, subprocess, sys, time, urllib.request
port = sys.argv[1]
proc = subprocess.Popen([sys.executable, "-m", "probes", "serve", "-c", sys.argv[2],
                         "--listen", "127.0.0.1:" + port], stderr=open("serve.log", "wb"))
ready = ""
for _ in range(600):
    try:
        ready = urllib.request.urlopen("http://127.0.0.1:" + port + "/-/ready", timeout=2).read()
        metrics = urllib.request.urlopen("http://127.0.0.1:" + port + "/metrics", timeout=5).read()
        break
    except OSError:
        if proc.poll() is not None:
            break
        time.sleep(0.1)
proc.send_signal(signal.SIGTERM)
print(ready.decode().strip() if ready else "not ready", proc.wait(timeout=60))
print("channels", metrics.decode().count("zombie_channel_info{") if ready else 0)
"""


def test_the_shipped_example_config_starts(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs root, unshare(1) and ip(8) for a network namespace")
    (tmp_path / "driver.py").write_text(_EXAMPLE_DRIVER)
    example = ROOT / "config" / "example.yaml"
    script = 'ip link set lo up && exec "$@"'
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MQTT_", "ZOMBIE_"))}
    out = subprocess.run(
        ["unshare", "-n", "sh", "-c", script, "sh", sys.executable, "driver.py", "9705",
         str(example)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
        env={**env, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert out.stdout.splitlines() == ["OK 0", "channels 8"], out.stderr + log
    assert "Traceback" not in log
    assert (tmp_path / "zombie-probes.db").exists(), "the state file is created where it says"


@pytest.mark.parametrize("command", [["calls", "report"], ["calls", "import", "cdr.jsonl",
                                     "--format", "jsonl", "--channel", "h1"]])  # fmt: skip
def test_other_commands_name_an_unusable_state_file_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    _corrupt_state(tmp_path)
    (tmp_path / "cdr.jsonl").write_text("")
    out = _run(*command, "--state", str(tmp_path / "state.db"), cwd=tmp_path)
    assert out.returncode == 2
    _one_line(out, "state.db", "corrupt")
