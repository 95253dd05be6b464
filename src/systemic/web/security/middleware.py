"""The security middleware: who is asking, and is the request genuine.

For every HTTP request it

1. identifies the user from an API token (``Authorization: Bearer syst_...``) or
   the session cookie (a server-side session), and their role in the request's
   workspace;
2. lets public paths through (sign-in page, static files), sends anyone else
   who is not signed in to the sign-in page (pages) or answers 401 (API);
3. checks the CSRF token on every state-changing request made with a session
   cookie (header ``X-CSRF-Token`` or form field ``csrf_token``); requests
   authenticated by API token are exempt, since a browser never sends one by itself;
4. replaces any ``X-Systemic-Actor`` header with the signed-in user's name, so
   the workspace's history records who really made the change.

What role a route needs is not decided here from the shape of its URL: each
route declares it where it is defined (``Depends(require_role("editor"))`` on
the route or its router, see ``systemic.web.security.identity``), and a test
fails for any route that declares nothing. The security headers are added by
``systemic.web.security.headers``.

It is a pure ASGI middleware so it can read a form body and hand it on intact.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote

import anyio
from sqlalchemy.exc import OperationalError
from starlette.requests import Request

from systemic.store import Store
from systemic.store.accounts import (
    InvalidCredentialsError,
    UserAccount,
    note_token_use,
    record_event,
    role_in,
    session_user,
    user_for_token,
)
from systemic.store.repository import get_workspace
from systemic.web.security.identity import AuthenticatedUser, current_actor_name, current_ip
from systemic.web.security.session import SessionCodec, tokens_match
from systemic.web.security.settings import SecuritySettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACTOR_HEADER = b"x-systemic-actor"
#: Largest form body read for a CSRF token (larger forms must send the header).
MAX_FORM_BYTES = 2 * 1024 * 1024


def client_ip(scope: Scope, headers: dict[str, str], settings: SecuritySettings) -> str:
    """The client's address, counting ``settings.proxy_hops`` trusted proxies back.

    Each proxy appends the address it was reached from to ``X-Forwarded-For``, so
    only the last ``proxy_hops`` entries were written by proxies we trust; anything
    to their left came from the client and may be made up (rotating it must not
    escape sign-in throttling). With fewer entries than hops the request did not
    come through the proxies, and the connection's own address is used.

    >>> s = SecuritySettings(secret_key="k" * 32, trust_proxy_headers=True, proxy_hops=1)
    >>> peer = {"client": ("10.0.0.2", 5000)}
    >>> client_ip(peer, {"x-forwarded-for": "6.6.6.6, 203.0.113.7"}, s)
    '203.0.113.7'
    >>> client_ip(peer, {}, s)
    '10.0.0.2'
    """
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    forwarded = headers.get("x-forwarded-for", "")
    if not settings.trust_proxy_headers or not forwarded or settings.proxy_hops < 1:
        return peer
    hops = [part.strip() for part in forwarded.split(",")]
    if len(hops) < settings.proxy_hops:
        return peer
    return hops[-settings.proxy_hops][:64] or peer


def is_https(scope: Scope, headers: dict[str, str], settings: SecuritySettings) -> bool:
    """Whether the browser reached us over HTTPS (directly, or via a trusted proxy)."""
    if scope.get("scheme") == "https":
        return True
    return settings.trust_proxy_headers and headers.get("x-forwarded-proto", "") == "https"


def is_public(path: str, settings: SecuritySettings) -> bool:
    """Whether ``path`` is served without signing in."""
    return any(path == p.rstrip("/") or path.startswith(p) for p in settings.public_paths)


def note_use(store: Store, token: str) -> None:
    """Record when a token was used, in its own short transaction, and never fail the
    request over it.

    Under many concurrent writers SQLite may stay locked longer than its busy
    timeout; the note of when a token was last used is not worth a 500, so it is
    dropped (and logged) instead.
    """
    with store.session() as session:
        try:
            if note_token_use(session, token):
                session.commit()
        except OperationalError as exc:
            session.rollback()
            logger.warning("token use not recorded (the database was busy): %s", exc.orig)


class SecurityMiddleware:
    """ASGI middleware enforcing sign-in, roles and CSRF (see the module docstring)."""

    def __init__(self, app: ASGIApp, store: Store, settings: SecuritySettings) -> None:
        self.app = app
        self.store = store
        self.settings = settings
        self.codec = SessionCodec(settings.secret_key, max_age=settings.session_max_age)

    # -- identification (database work, run on a worker thread)

    def _identify(
        self, token: str | None, session_data: dict[str, Any] | None, workspace: str | None
    ) -> AuthenticatedUser | None:
        with self.store.session() as session:
            user: UserAccount | None = None
            via = "token"
            csrf = ""
            if token is not None:
                try:
                    user = user_for_token(session, token)
                except InvalidCredentialsError:
                    return None
            elif session_data is not None:
                via = "session"
                csrf = session_data["csrf"]
                try:
                    user = session_user(session, session_data["sid"])
                except InvalidCredentialsError:
                    return None  # signed out, password changed, expired or disabled
                if user.id != session_data["uid"]:
                    return None
            if user is None:
                return None
            workspace_id = None
            role = None
            if workspace is not None:
                try:
                    workspace_id = get_workspace(session, workspace).id
                except Exception:
                    workspace_id = None
                if workspace_id is not None:
                    role = role_in(session, user.id, workspace_id)
            identified = AuthenticatedUser(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name or user.username,
                workspace_id=workspace_id,
                role=role,
                via=via,
                csrf_token=csrf,
                site_admin=bool(user.site_admin),
            )
        if token is not None:
            note_use(self.store, token)
        return identified

    def _record(self, user: AuthenticatedUser, action: str, path: str, ip: str) -> None:
        with self.store.session() as session:
            record_event(
                session,
                actor=user.username,
                action=action,
                workspace_id=user.workspace_id,
                object_kind="workspace",
                object_id=user.workspace_id or "",
                after={"path": path},
                ip=ip,
            )
            session.commit()

    # -- the request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        method: str = scope["method"].upper()
        ip = client_ip(scope, headers, settings)
        scope.setdefault("state", {})
        scope["state"]["https"] = is_https(scope, headers, settings)
        scope["state"]["client_ip"] = ip

        token = None
        authorization = headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        session_data = None
        if token is None:
            session_data = self.codec.load(Request(scope).cookies.get(settings.cookie_name))
        user = None
        workspace = settings.workspace_of(scope)
        if token is not None or session_data is not None:
            user = await anyio.to_thread.run_sync(self._identify, token, session_data, workspace)
        scope["state"]["user"] = user
        if workspace:
            # The routes work in the very workspace the role was checked against.
            scope["state"]["workspace"] = workspace

        if is_public(path, settings):
            await self.app(scope, receive, send)
            return
        if user is None:
            if token is not None:
                await _respond(send, 401, "the API token is unknown or revoked")
            elif method in SAFE_METHODS and not path.startswith("/api"):
                await _redirect(send, "/login?next=" + quote(_with_query(scope), safe="/"))
            else:
                await _respond(send, 401, "sign in first, or send 'Authorization: Bearer <token>'")
            return
        if method not in SAFE_METHODS and user.via == "session":
            body, receive = await _buffer(receive)
            given = headers.get(settings.csrf_header.lower()) or _form_token(
                headers.get("content-type", ""), body, settings.csrf_field
            )
            if not tokens_match(user.csrf_token, given):
                await _respond(
                    send,
                    403,
                    "the form's security token is missing or out of date; reload the page "
                    "and try again",
                )
                return

        scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != ACTOR_HEADER]
        scope["headers"].append((ACTOR_HEADER, user.username.encode("utf-8")))
        actor_token = current_actor_name.set(user.username)
        ip_token = current_ip.set(ip)
        try:
            await self.app(scope, receive, send)
        finally:
            current_actor_name.reset(actor_token)
            current_ip.reset(ip_token)
        if method == "GET" and path.rstrip("/") == "/api/export":
            await anyio.to_thread.run_sync(self._record, user, "export", path, ip)


def _with_query(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + ("?" + query if query else "")


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body, and a ``receive`` that hands it on unchanged."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _form_token(content_type: str, body: bytes, field: str) -> str | None:
    """The CSRF field of a url-encoded or multipart form body."""
    if len(body) > MAX_FORM_BYTES:
        return None
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(field)
        return values[0] if values else None
    if kind == "multipart/form-data" and "boundary=" in content_type:
        boundary = content_type.split("boundary=", 1)[1].split(";")[0].strip().strip('"')
        marker = f'name="{field}"'.encode()
        for part in body.split(b"--" + boundary.encode("latin-1")):
            head, _, value = part.partition(b"\r\n\r\n")
            if marker in head:
                return value.rstrip(b"\r\n").decode("utf-8", "replace")
    return None


async def _respond(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})
