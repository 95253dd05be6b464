"""The workspace app served by uvicorn on loopback, for tests that need real
connections: in a thread (concurrency, headers the server itself writes) or in a child
process (browser tests: Playwright's own event loop stays apart from the server's)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from systemic.web.server import server_config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` as ``systemic serve`` does; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


#: The child process: the secured app (``create_app``) on the database in argv[1].
_SERVE = (
    "import sys, uvicorn\n"
    "from systemic.web.app import create_app\n"
    "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1',"
    " port=int(sys.argv[2]), log_level='warning')\n"
)


@contextmanager
def workspace_process(database: Path, cwd: Path) -> Iterator[str]:
    """Serve the secured workspace app on ``database`` from a child process; yields its
    base URL once it listens (the test fails, with the server's output, if it stops on
    start or does not listen within 60 s), and stops it afterwards."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(database), str(port)],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"the workspace server stopped on start:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the workspace server did not start listening within 60 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
