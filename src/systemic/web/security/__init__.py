"""Access control for the workspace app: sign-in, roles, CSRF, API tokens, audit trail.

One call protects an app built by ``systemic.web.app.create_app``::

    app = create_app(db)
    install_security(app, app.state.store)

after which every page and API route needs a signed-in user with the role its
route declares (``Depends(require_role(...))``: viewer reads, editor changes,
admin administers), every form and
state-changing request made from a browser carries a CSRF token, scripts use
API tokens (``Authorization: Bearer syst_...``), and every change is appended
to the audit trail.

>>> from fastapi import FastAPI
>>> from systemic.store import open_store
>>> app = FastAPI()
>>> _ = install_security(app, open_store("sqlite://"), SecuritySettings(secret_key="k" * 32))
>>> sorted(r.path for r in app.routes if r.path in ("/login", "/logout"))
['/login', '/login', '/logout']
"""

from __future__ import annotations

from fastapi import FastAPI

from systemic.store import Store
from systemic.web.security.audit_log import watch_sessions
from systemic.web.security.headers import SecurityHeaders
from systemic.web.security.identity import (
    AuthenticatedUser,
    csrf_token,
    current_user,
    optional_user,
    public,
    require_role,
    signed_in,
)
from systemic.web.security.login import build_router
from systemic.web.security.middleware import SecurityMiddleware
from systemic.web.security.settings import SecurityConfigError, SecuritySettings, load_secret_key


def install_security(
    app: FastAPI, store: Store, settings: SecuritySettings | None = None
) -> SecuritySettings:
    """Protect ``app``: add the middleware, the sign-in routes and the audit listener.

    Call it once, after the app's routers are included (routes added later are
    protected too: the middleware sees every request). Returns the settings used.
    """
    settings = settings or SecuritySettings()
    watch_sessions(store.sessions)
    # Sign-in routes go first so a catch-all page route can never shadow them.
    router = build_router(store, settings)
    app.router.routes[:0] = router.routes
    app.add_middleware(SecurityMiddleware, store=store, settings=settings)
    # Outside the security middleware: its refusals and redirects get the headers too.
    app.add_middleware(SecurityHeaders)
    app.state.security = settings
    return settings


__all__ = [
    "AuthenticatedUser",
    "SecurityConfigError",
    "SecurityMiddleware",
    "SecuritySettings",
    "csrf_token",
    "current_user",
    "install_security",
    "load_secret_key",
    "optional_user",
    "public",
    "require_role",
    "signed_in",
]
