"""Sign-in and sign-out routes, and the admin's view of the audit trail.

``GET /login`` shows a small form (with a login CSRF token in a cookie and the
form: double submit); ``POST /login`` checks the password with throttling,
starts a server-side session and sets the cookie naming it; ``POST /logout``
ends that session (a copy of the cookie stops working too);
``GET /api/audit-trail`` lists the audit trail (admins only: each route declares
who may call it with ``require_role``, ``signed_in`` or ``public``).

Signing in is server-wide (one form for every workspace), so sign-in events
(``login``, ``login_failed``, ``login_throttled``, ``logout``) are filed in
*every* workspace the user holds a role in: each of those workspaces' admins
sees them in their audit trail. ``after`` says which workspace the user landed
in (``signed_in_to``) and their role in the workspace the entry is filed in.
Attempts with a username nobody has are filed server-wide (no workspace).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from systemic.store import Store
from systemic.store.accounts import (
    InvalidCredentialsError,
    LoginThrottledError,
    Membership,
    UserAccount,
    audit_trail,
    authenticate,
    end_session,
    record_event,
    start_session,
)
from systemic.store.orm import Workspace
from systemic.store.repository import get_workspace
from systemic.web.deps import submitted_form
from systemic.web.security.identity import (
    AuthenticatedUser,
    current_user,
    public,
    require_role,
    signed_in,
)
from systemic.web.security.redirects import safe_next
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


def memberships(session: Session, username: str) -> list[tuple[str, str, str]]:
    """(workspace id, slug, role) of every workspace ``username`` holds a role in, by slug;
    empty for a username nobody has."""
    rows = session.execute(
        select(Workspace.id, Workspace.slug, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .join(UserAccount, UserAccount.id == Membership.user_id)
        .where(UserAccount.username == username.strip()[:100])
        .order_by(Workspace.slug)
    ).all()
    return [(str(r.id), str(r.slug), str(r.role)) for r in rows]


def landing_workspace(held: list[tuple[str, str, str]], wanted: str | None) -> str | None:
    """The slug of the workspace a user starts in: the app's when they hold a role there,
    else their first by slug (the rule of ``systemic.web.membership``).

    >>> landing_workspace([("1", "county", "viewer"), ("2", "trust", "admin")], "trust")
    'trust'
    >>> landing_workspace([("1", "county", "viewer")], "default")
    'county'
    """
    for workspace_id, slug, _ in held:
        if wanted in (workspace_id, slug):
            return slug
    return held[0][1] if held else None


def record_sign_in_event(
    session: Session,
    *,
    username: str,
    action: str,
    ip: str,
    wanted: str | None = None,
    after: dict[str, Any] | None = None,
) -> int:
    """File a sign-in event in every workspace ``username`` holds a role in (server-wide
    when none); returns how many entries were written."""
    held = memberships(session, username)
    landed = landing_workspace(held, wanted)
    extra = dict(after or {})
    if action == "login" and landed is not None:
        extra["signed_in_to"] = landed
    for workspace_id, _slug, role in held:
        record_event(
            session,
            actor=username[:100],
            action=action,
            workspace_id=workspace_id,
            after={**extra, "role": role},
            ip=ip,
        )
    if not held:
        record_event(session, actor=username[:100], action=action, after=extra or None, ip=ip)
    return max(len(held), 1)


def login_page(csrf: str, next_url: str, message: str = "") -> str:
    """The sign-in form, in the workspace's own look (every value escaped).

    It uses the shipped stylesheet (a public path) and no script.
    """
    alert = (
        f'<div class="error-summary" role="alert"><p>{escape(message)}</p></div>' if message else ""
    )
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · systemic</title>
<link rel="stylesheet" href="/static/systemic.css">
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header plain"><div class="wrap header-row">
<span class="brand"><span aria-hidden="true" class="brand-mark">◎</span> systemic
<span class="workspace-name">Workspace</span></span>
</div></header>
<main id="main" class="wrap" tabindex="-1">
<h1>Sign in</h1>
<p class="lead">Sign in with the name and password your workspace admin gave you.</p>
{alert}
<form method="post" action="/login" class="object-form">
<input type="hidden" name="csrf_token" value="{escape(csrf)}">
<input type="hidden" name="next" value="{escape(next_url)}">
<div class="field"><label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required></div>
<div class="field"><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
</div>
<button type="submit">Sign in</button>
</form>
</main></body></html>"""


#: Signing in is for anyone; everything else needs a signed-in user.
PUBLIC = [Depends(public)]


def build_router(store: Store, settings: SecuritySettings) -> APIRouter:
    """The sign-in, sign-out and audit-trail routes for an app on ``store``."""
    router = APIRouter()
    codec = SessionCodec(settings.secret_key, max_age=settings.session_max_age)
    max_age = timedelta(seconds=settings.session_max_age)

    def _secure(request: Request) -> bool:
        return bool(getattr(request.state, "https", False))

    def _login_csrf(request: Request) -> str:
        """The browser's sign-in token if it has one, else a new one.

        Reused, not replaced: a second sign-in page (another tab, or the
        browser's own request for /favicon.ico, which lands here) must not
        expire the form the person is filling in.
        """
        held = request.cookies.get(settings.csrf_cookie_name, "")
        return held if 32 <= len(held) <= 128 and held.isascii() else new_csrf_token()

    @router.get("/login", response_class=HTMLResponse, include_in_schema=False, dependencies=PUBLIC)
    def show_login(request: Request, next: str = "/") -> Response:
        csrf = _login_csrf(request)
        response = HTMLResponse(login_page(csrf, safe_next(next)))
        response.set_cookie(
            settings.csrf_cookie_name, csrf, **cookie_options(secure=_secure(request), max_age=3600)
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.post("/login", include_in_schema=False, dependencies=PUBLIC)
    def do_login(request: Request, form: FormData = Depends(submitted_form)) -> Response:
        # Plain def: checking a password takes Argon2 a good part of a second, which
        # must not hold up everyone else's requests.
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
                record_sign_in_event(
                    session,
                    username=username,
                    action="login_throttled",
                    ip=ip,
                    after={"retry_after": exc.retry_after},
                )
                session.commit()
                response = _again(request, 429, next_url, str(exc).capitalize() + ".")
                response.headers["Retry-After"] = str(exc.retry_after)
                return response
            except InvalidCredentialsError:
                session.flush()  # the failed attempt counts towards throttling
                record_sign_in_event(session, username=username, action="login_failed", ip=ip)
                session.commit()
                return _again(request, 401, next_url, "Unknown username or wrong password.")
            record_sign_in_event(
                session,
                username=user.username,
                action="login",
                ip=ip,
                wanted=_wanted_slug(session, settings.workspace_of(request.scope)),
            )
            secret = start_session(session, user.id, max_age=max_age)
            session.commit()
            cookie = codec.dump(new_session(user.id, secret))
        response = RedirectResponse(next_url, status_code=303)
        response.set_cookie(
            settings.cookie_name,
            cookie,
            **cookie_options(secure=_secure(request), max_age=settings.session_max_age),
        )
        response.delete_cookie(settings.csrf_cookie_name, path="/")
        return response

    def _wanted_slug(session: Session, workspace: str | None) -> str | None:
        if workspace is None:
            return None
        try:
            return get_workspace(session, workspace).slug
        except Exception:
            return None

    def _again(request: Request, status: int, next_url: str, message: str) -> Response:
        csrf = new_csrf_token()
        response = HTMLResponse(login_page(csrf, next_url, message), status_code=status)
        response.set_cookie(
            settings.csrf_cookie_name, csrf, **cookie_options(secure=_secure(request), max_age=3600)
        )
        return response

    @router.post("/logout", include_in_schema=False, dependencies=[Depends(signed_in)])
    def do_logout(request: Request, user: AuthenticatedUser = Depends(current_user)) -> Response:
        held = codec.load(request.cookies.get(settings.cookie_name))
        with store.session() as session:
            if held is not None:
                # The cookie may have been copied: it must stop working, not just be deleted.
                end_session(session, held["sid"])
            record_sign_in_event(
                session,
                username=user.username,
                action="logout",
                ip=str(getattr(request.state, "client_ip", "")),
            )
            session.commit()
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(settings.cookie_name, path="/")
        # The next person to sign in on this browser starts in their own workspace.
        response.delete_cookie("systemic_workspace", path="/")
        return response

    @router.get(
        "/api/audit-trail",
        response_model=list[AuditEventOut],
        tags=["Audit trail"],
        dependencies=[Depends(require_role("admin"))],
    )
    def read_audit_trail(
        user: AuthenticatedUser = Depends(current_user),
        actor: str | None = None,
        action: str | None = None,
        limit: int = Query(200, ge=1, le=5000),
    ) -> Any:
        """The audit trail of this workspace, newest first (admins only)."""
        with store.session() as session:
            return audit_trail(session, user.workspace_id, actor=actor, action=action, limit=limit)

    return router
