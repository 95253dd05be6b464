"""Security headers on every response: pages, API answers, redirects, errors, files.

The outermost of the app's own middlewares adds them, so nothing the app sends
goes without (the review found none on the redirect to ``/login``):

- ``Content-Security-Policy``: scripts only from this site's own files (no inline
  script, no ``eval``), nothing loaded from elsewhere, no framing, forms post only
  here. Inline ``style`` attributes stay allowed (a few layouts use them; a style
  cannot run code);
- no MIME sniffing, no framing, no referrer leaving the site;
- ``Cache-Control: no-store`` unless the response chose its own caching (the
  shipped CSS and script are cacheable; everything a signed-in user sees holds
  workspace data).

>>> dict(SECURITY_HEADERS)[b"x-frame-options"]
b'DENY'
>>> b"'unsafe-inline'" in CONTENT_SECURITY_POLICY.split(b"script-src")[1].split(b";")[0]
False
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Sent with every response.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
#: Sent unless the response set its own caching.
NO_STORE = (b"cache-control", b"no-store")


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with every security header it lacks added."""
    present = {k.lower() for k, _ in headers}
    return headers + [(k, v) for k, v in (*SECURITY_HEADERS, NO_STORE) if k not in present]


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = with_security_headers(list(message.get("headers", [])))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
