"""Sign-in and sign-out routes, and the admin's view of the audit trail.

``GET /login`` shows a small form (with a login CSRF token in a cookie and the
form: double submit); ``POST /login`` checks the password with throttling and
sets the session cookie; ``POST /logout`` ends the session;
``GET /api/audit-trail`` lists the audit trail (admins only, enforced by the
middleware's admin paths and by ``require_role``).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from systemic.store import Store
from systemic.store.accounts import (
    InvalidCredentialsError,
    LoginThrottledError,
    audit_trail,
    authenticate,
    record_event,
    role_in,
)
from systemic.store.repository import get_workspace
from systemic.web.security.identity import AuthenticatedUser, current_user, require_role
from systemic.web.security.session import (
    SessionCodec,
    cookie_options,
    new_csrf_token,
    new_session,
    tokens_match,
)
from systemic.web.security.settings import SecuritySettings


class AuditEventOut(BaseModel):
    """One entry of the audit trail."""

    id: int
    at: datetime
    actor: str
    workspace_id: str | None
    action: str
    object_kind: str
    object_id: str
    before: Any
    after: Any
    ip: str


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: only a path on this site (no open redirect).

    >>> safe_next("/mission?x=1"), safe_next("//evil.example/"), safe_next("https://x")
    ('/mission?x=1', '/', '/')
    """
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw


def login_page(csrf: str, next_url: str, message: str = "") -> str:
    """The sign-in form (self-contained HTML; every value escaped)."""
    alert = f'<p role="alert" class="error">{escape(message)}</p>' if message else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - systemic</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem;
color:#1a1a1a}}label{{display:block;margin-top:1rem}}input{{width:100%;padding:.5rem;
font-size:1rem}}button{{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}}
.error{{color:#a30000;font-weight:bold}}</style></head>
<body><main><h1>Sign in</h1>{alert}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{escape(csrf)}">
<input type="hidden" name="next" value="{escape(next_url)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></main></body></html>"""


def build_router(store: Store, settings: SecuritySettings) -> APIRouter:
    """The sign-in, sign-out and audit-trail routes for an app on ``store``."""
    router = APIRouter()
    codec = SessionCodec(settings.secret_key, max_age=settings.session_max_age)

    def _secure(request: Request) -> bool:
        return bool(getattr(request.state, "https", False))

    @router.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def show_login(request: Request, next: str = "/") -> Response:
        csrf = new_csrf_token()
        response = HTMLResponse(login_page(csrf, safe_next(next)))
        response.set_cookie(
            settings.csrf_cookie_name, csrf, **cookie_options(secure=_secure(request), max_age=3600)
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.post("/login", include_in_schema=False)
    async def do_login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username", ""))
        password = str(form.get("password", ""))
        next_url = safe_next(str(form.get("next", "/")))
        ip = str(getattr(request.state, "client_ip", ""))
        if not tokens_match(
            request.cookies.get(settings.csrf_cookie_name), str(form.get("csrf_token", ""))
        ):
            return _again(request, 403, next_url, "The form expired; please sign in again.")
        with store.session() as session:
            try:
                user = authenticate(session, username, password, ip=ip, policy=settings.throttle)
            except LoginThrottledError as exc:
                session.commit()
                response = _again(request, 429, next_url, str(exc).capitalize() + ".")
                response.headers["Retry-After"] = str(exc.retry_after)
                return response
            except InvalidCredentialsError:
                record_event(session, actor=username[:100], action="login_failed", ip=ip)
                session.commit()
                return _again(request, 401, next_url, "Unknown username or wrong password.")
            workspace = settings.workspace_of(request.scope)
            workspace_id = None
            if workspace is not None:
                try:
                    workspace_id = get_workspace(session, workspace).id
                except Exception:
                    workspace_id = None
            record_event(
                session,
                actor=user.username,
                action="login",
                workspace_id=workspace_id,
                after={"role": role_in(session, user.id, workspace_id) if workspace_id else None},
                ip=ip,
            )
            session.commit()
            cookie = codec.dump(new_session(user.id, user.password_hash))
        response = RedirectResponse(next_url, status_code=303)
        response.set_cookie(
            settings.cookie_name,
            cookie,
            **cookie_options(secure=_secure(request), max_age=settings.session_max_age),
        )
        response.delete_cookie(settings.csrf_cookie_name, path="/")
        return response

    def _again(request: Request, status: int, next_url: str, message: str) -> Response:
        csrf = new_csrf_token()
        response = HTMLResponse(login_page(csrf, next_url, message), status_code=status)
        response.set_cookie(
            settings.csrf_cookie_name, csrf, **cookie_options(secure=_secure(request), max_age=3600)
        )
        return response

    @router.post("/logout", include_in_schema=False)
    def do_logout(request: Request, user: AuthenticatedUser = Depends(current_user)) -> Response:
        with store.session() as session:
            record_event(
                session,
                actor=user.username,
                action="logout",
                workspace_id=user.workspace_id,
                ip=str(getattr(request.state, "client_ip", "")),
            )
            session.commit()
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(settings.cookie_name, path="/")
        # The next person to sign in on this browser starts in their own workspace.
        response.delete_cookie("systemic_workspace", path="/")
        return response

    @router.get("/api/audit-trail", response_model=list[AuditEventOut], tags=["Audit trail"])
    def read_audit_trail(
        user: AuthenticatedUser = Depends(require_role("admin")),
        actor: str | None = None,
        action: str | None = None,
        limit: int = Query(200, ge=1, le=5000),
    ) -> Any:
        """The audit trail of this workspace, newest first (admins only)."""
        with store.session() as session:
            return audit_trail(session, user.workspace_id, actor=actor, action=action, limit=limit)

    return router
