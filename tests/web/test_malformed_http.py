"""uvicorn's own answer to a request that is not HTTP: what it holds and why it is safe.

uvicorn answers a request it cannot parse itself (``400 Bad Request``), before the
app, so the app's security headers are not on it, and uvicorn (with h11, the parser
installed here) has no option to add headers to that answer. It is harmless: a fixed
plain-text sentence, nothing of the request reflected, the connection closed. Behind
the reverse proxy docs/security.md requires, the proxy answers malformed requests
itself. This test holds uvicorn to that, so an upgrade that changed it would show.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from fastapi import FastAPI

from tests.web.live import live_server

HOSTILE = b"GET /<script>alert(1)</script> HTTP/1.1\r\nHost: x\r\nBad Header <b>\r\n\r\n"


def _raw(base: str, request: bytes) -> bytes:
    url = urlparse(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):  # the server closes the connection
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_malformed_request_gets_a_fixed_plain_text_400_and_a_closed_connection(
    app: FastAPI,
) -> None:
    with live_server(app) as base:
        answer = _raw(base, HOSTILE)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 400 Bad Request"
    headers = {k.lower(): v for k, v in (line.split(b": ", 1) for line in lines[1:])}
    assert headers[b"content-type"] == b"text/plain; charset=utf-8"
    assert headers[b"connection"] == b"close"
    assert b"server" not in headers
    assert body == b"Invalid HTTP request received."
    assert b"script" not in answer and b"<b>" not in answer
