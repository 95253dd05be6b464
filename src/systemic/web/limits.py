"""How much a request may carry: the body as a whole, and each text field in it.

The review posted 1, 10 and 100 MB descriptions; each was accepted, copied into
history and the audit trail, and one page grew to 113 MB. Two limits stop that,
each with a message that says what to do:

- :class:`BodyLimit` (ASGI middleware): a request body over ``max_body_bytes``
  (``max_import_bytes`` for ``POST /api/import``, which carries a whole
  workspace) is refused with **413** before it is read into memory, whether the
  client announced its length or streams it: for a browser a page saying the
  limit and what to do (for htmx, the pages' boosted forms, a notice above the
  form, which keeps the text), JSON ``{"detail": ...}`` for any other client;
- :func:`check_field_sizes`: a text value over ``max_field_chars`` (or a list of
  texts longer than that together) is refused with **422** naming the field, on
  the JSON API and the forms alike.

>>> limits = RequestLimits(max_field_chars=5)
>>> check_field_sizes({"name": "short", "tags": ["ok"]}, limits)
>>> try:
...     check_field_sizes({"name": "too long"}, limits)
... except InvalidObjectError as exc:
...     print(exc.errors[0]["loc"], exc.errors[0]["msg"][:40])
('name',) text is 8 characters; the most a field m
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

from systemic.store.errors import InvalidObjectError
from systemic.web.security.headers import with_security_headers

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The route whose body is a whole workspace (an export document).
IMPORT_PATH = "/api/import"


@dataclass(frozen=True)
class RequestLimits:
    """Largest request body, import document and text field the workspace accepts.

    The defaults leave room for the longest real text (a conversation's notes run to
    a few thousand words; 100,000 characters is about 40 pages) and for a workspace
    export of tens of thousands of objects; ``systemic serve --max-body-bytes``,
    ``--max-import-bytes`` and ``--max-field-chars`` change them.
    """

    max_body_bytes: int = 2 * 1024 * 1024
    max_import_bytes: int = 64 * 1024 * 1024
    max_field_chars: int = 100_000

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_import_bytes", "max_field_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive number, not {getattr(self, name)}")

    def body_limit(self, method: str, path: str) -> int:
        """The largest body accepted for a request."""
        if method == "POST" and path.rstrip("/") == IMPORT_PATH:
            return self.max_import_bytes
        return self.max_body_bytes


def _too_large(limit: int, path: str) -> str:
    what = "workspace document" if path.rstrip("/") == IMPORT_PATH else "request"
    return (
        f"the {what} is larger than this server accepts ({limit:,} bytes); send less text "
        "at a time, or ask the server's operator to raise the limit (docs/security.md)"
    )


class RequestTooLarge(HTTPException):
    """Raised while reading a body that outgrows its limit (answered with 413)."""

    def __init__(self, limit: int, path: str) -> None:
        super().__init__(status_code=413, detail=_too_large(limit, path))


class BodyLimit:
    """ASGI middleware refusing request bodies over the limits (see the module)."""

    def __init__(self, app: ASGIApp, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.limits.body_limit(str(scope.get("method", "")).upper(), path)
        declared = _content_length(scope)
        refuse = _refusal(scope, self.limits, limit, path)
        if declared is not None and declared > limit:
            await refuse(send, declared)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit, path)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except RequestTooLarge:
            if started:
                raise
            await refuse(send, None)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _refusal(
    scope: Scope, limits: RequestLimits, limit: int, path: str
) -> Callable[[Send, int | None], Awaitable[None]]:
    """How to answer a body over ``limit``: a page or JSON (see the module)."""

    async def refuse(send: Send, size: int | None) -> None:
        htmx = _header(scope, b"hx-request") is not None
        if htmx or b"text/html" in (_header(scope, b"accept") or b"").lower():
            from systemic.web.pages.site import templates  # the pages import this module

            what = "workspace document" if path.rstrip("/") == IMPORT_PATH else "request"
            # htmx (the pages' boosted forms) shows a notice above the form, which
            # keeps the text; a browser without script gets a page of its own.
            page = templates.get_template("_too_large_notice.html" if htmx else "too_large.html")
            text = page.render(
                limit=limit, size=size, what=what, field_limit=limits.max_field_chars
            )
            extra = [(b"hx-retarget", b"#request-notice"), (b"hx-reswap", b"innerHTML")]
            await _refuse(
                send, text.encode("utf-8"), b"text/html; charset=utf-8", extra if htmx else []
            )
        else:
            detail = json.dumps({"detail": _too_large(limit, path)}).encode("utf-8")
            await _refuse(send, detail, b"application/json")

    return refuse


async def _refuse(
    send: Send, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        *(extra or []),
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        # The rest of the body is not read: the connection cannot be reused.
        (b"connection", b"close"),
    ]
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": with_security_headers(headers),
        }
    )
    await send({"type": "http.response.body", "body": body})


def _oversized(value: Any, limit: int, loc: tuple[Any, ...]) -> list[dict[str, Any]]:
    if isinstance(value, str):
        if len(value) <= limit:
            return []
        return [
            {
                "loc": loc,
                "msg": f"text is {len(value):,} characters; the most a field may hold is "
                f"{limit:,}: shorten it, or split it over several objects",
                "type": "string_too_long",
            }
        ]
    if isinstance(value, Mapping):
        return [e for k, v in value.items() for e in _oversized(v, limit, (*loc, k))]
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, str) for v in value):
            # A list of texts (a conversation's strengths) is one field: 20 items
            # just under the limit each would otherwise hold 20 times as much.
            total = sum(len(v) for v in value)
            if total > limit:
                return [
                    {
                        "loc": loc,
                        "msg": f"the texts are {total:,} characters together; the most a field "
                        f"may hold is {limit:,}: shorten them, or split them over several objects",
                        "type": "string_too_long",
                    }
                ]
            return []
        return [e for i, v in enumerate(value) for e in _oversized(v, limit, (*loc, i))]
    return []


def check_field_sizes(values: Mapping[str, Any], limits: RequestLimits) -> None:
    """Raise :class:`InvalidObjectError` (422, one message per field) for any text
    longer than ``limits.max_field_chars``, however deeply it is nested."""
    errors = [e for k, v in values.items() for e in _oversized(v, limits.max_field_chars, (k,))]
    if errors:
        raise InvalidObjectError(errors)


def request_limits(app_state: Any) -> RequestLimits:
    """The app's limits (``app.state.limits``), or the defaults."""
    limits = getattr(app_state, "limits", None)
    return limits if isinstance(limits, RequestLimits) else RequestLimits()
