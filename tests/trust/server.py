"""Start ``systemic serve`` as a child process on loopback, for the soak tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SYSTEMIC = Path(sys.executable).with_name("systemic")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A ``systemic serve`` process on 127.0.0.1; ``kill()`` is SIGKILL, no clean-up."""

    def __init__(self, db: str, log: Path) -> None:
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.headers: dict[str, str] = {}

    def _sign_in(self) -> None:
        """Make the admin `serve` requires (once per database) and a token for the clients."""
        password = self.log.parent / "soak-password"
        password.write_text("soak-password-not-secret\n")
        subprocess.run(
            [
                str(SYSTEMIC),
                "user",
                "add",
                "soak",
                "--role",
                "admin",
                "--db",
                self.db,
                "--password-file",
                str(password),
            ],
            capture_output=True,
            check=False,  # already there after a restart
        )
        made = subprocess.run(
            [str(SYSTEMIC), "token", "create", "soak", "--db", self.db],
            capture_output=True,
            text=True,
            check=True,
        )
        self.headers = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}

    def start(self, timeout: float = 60.0) -> Server:
        self._sign_in()
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                str(SYSTEMIC),
                "serve",
                "--db",
                self.db,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"systemic serve exited: {self.log.read_text()[-2000:]}")
            try:
                answer = httpx.get(self.url + "/api/workspace", headers=self.headers, timeout=2)
                if answer.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("systemic serve did not answer in time")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
