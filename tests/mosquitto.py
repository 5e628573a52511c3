"""A real mosquitto broker for integration tests: a free port, a temporary config and
persistence directory, and stop/restart that keep the persisted sessions."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def available() -> bool:
    return Path(MOSQUITTO).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# CONNECT (MQTT 3.1.1, clean session, client id "ready") and the CONNACK accepting it.
_CONNECT = b"\x10\x11\x00\x04MQTT\x04\x02\x00\x3c\x00\x05ready"
_CONNACK_OK = b"\x20\x02\x00\x00"


def _answers_mqtt(port: int) -> bool:
    """True if an MQTT broker accepts a connection on the port: a bare TCP connect would
    also succeed against whatever else might hold the port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(_CONNECT)
            reply = sock.recv(4)
            sock.sendall(b"\xe0\x00")  # DISCONNECT
    except OSError:
        return False
    return reply == _CONNACK_OK


class Mosquitto:
    """One broker process on 127.0.0.1:`port`, persisting to `workdir`."""

    def __init__(self, max_inflight: int = 1000, shipped: str | None = None) -> None:
        """shipped: a broker configuration to run instead of the tests' own, with only
        where it listens, persists and logs changed (the rest exactly as written)."""
        # Under /tmp rather than pytest's tmp_path: started as root, mosquitto drops to its
        # own user, which must reach and write the persistence directory.
        workdir = Path(tempfile.mkdtemp(prefix="zombie-mosquitto-"))
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o777)
        self.conf = workdir / "mosquitto.conf"
        self.max_inflight = max_inflight
        self.shipped = shipped
        self._write_conf()

    def _write_conf(self) -> None:
        if self.shipped is not None:
            local = {"listener": f"listener {self.port} 127.0.0.1",
                     "persistence_location": f"persistence_location {self.workdir}/",
                     "log_dest": "log_dest stderr"}  # fmt: skip
            lines = [local.get(ln.split(" ", 1)[0], ln) for ln in self.shipped.splitlines()]
            self.conf.write_text("\n".join(lines) + "\n")
            return
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            f"max_inflight_messages {self.max_inflight}\n"
            "max_queued_messages 0\n"  # no limit: a long outage must not drop records
            "log_dest stderr\n"
            "log_type error\n"
        )

    def start(self, deadline: float = 60.0) -> None:
        """Start and wait until the broker accepts connections.

        The port was free when picked but another process may take it before mosquitto
        binds it: on a first start a new port is tried; on a restart (the clients know
        the port) the same one is retried until the deadline. Deadlines are generous
        because a loaded CI machine can take seconds to start a process.
        """
        first = self.proc is None and not (self.workdir / "mosquitto.log").exists()
        end = time.monotonic() + deadline
        while True:
            if self._start_once(end):
                return
            if time.monotonic() > end:
                raise RuntimeError(f"mosquitto did not start on port {self.port}: {self._log()}")
            if first:
                self.port = free_port()
                self._write_conf()
            else:
                time.sleep(0.2)

    def _log(self, since: int = 0) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_bytes()[since:].decode(errors="replace")[-2000:] if path.exists() else ""

    def _start_once(self, end: float) -> bool:
        """True once listening; False if it exited because the port is taken."""
        with (self.workdir / "mosquitto.log").open("ab") as log:
            since = log.tell()
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.proc = None
                if "in use" in self._log(since):
                    return False
                raise RuntimeError(f"mosquitto exited: {self._log()}")
            if _answers_mqtt(self.port):
                return True
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        raise RuntimeError(f"mosquitto did not listen within the deadline: {self._log()}")

    def stop(self) -> None:
        """Stop cleanly (SIGTERM), so the broker writes its persistence file."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None
        shutil.rmtree(self.workdir, ignore_errors=True)
