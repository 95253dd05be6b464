"""Who is making a request: the :class:`AuthenticatedUser` and FastAPI dependencies.

The security middleware puts an ``AuthenticatedUser`` on ``request.state.user``;
routes ask for it with ``Depends(current_user)`` or guard themselves with
``Depends(require_role("editor"))``.

>>> user = AuthenticatedUser("u1", "amira", "Amira", "w1", "editor", "session", "t")
>>> user.can("viewer"), user.can("admin")
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from systemic.store.accounts import ROLES, role_allows
from systemic.store.audit_trail import current_actor_name, current_ip  # noqa: F401 - re-exported

# Who makes the current request and from where: the store's audit trail reads these.


@dataclass(frozen=True)
class AuthenticatedUser:
    """A signed-in user and their role in the workspace the request works in.

    ``role`` is None when the user has no access to that workspace; ``via`` is
    ``"session"`` (browser, CSRF-checked) or ``"token"`` (scripts, CSRF-exempt).
    ``site_admin``: may create workspaces (``systemic user add --site-admin``).
    """

    user_id: str
    username: str
    display_name: str
    workspace_id: str | None
    role: str | None
    via: str
    csrf_token: str
    site_admin: bool = False

    def can(self, role: str) -> bool:
        """Whether this user's role in the workspace includes ``role``."""
        return role_allows(self.role, role)


def optional_user(request: Request) -> AuthenticatedUser | None:
    """The signed-in user, or None (for pages that also show something to visitors)."""
    user = getattr(request.state, "user", None)
    return user if isinstance(user, AuthenticatedUser) else None


def current_user(request: Request) -> AuthenticatedUser:
    """The signed-in user; 401 when nobody is signed in."""
    user = optional_user(request)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="sign in first, or send an API token as 'Authorization: Bearer ...'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


#: What a route may declare (:func:`declared_access`): a workspace role, any signed-in
#: user, or anyone.
ACCESS = (*ROLES, "signed_in", "public")


def _is_open(request: Request) -> bool:
    """Whether the app is an open one (``create_app(..., secure=False)``: no sign-in)."""
    return getattr(request.app.state, "security", None) is None


def require_role(role: str) -> Callable[[Request], AuthenticatedUser | None]:
    """A dependency that lets a request through only with ``role`` (or a higher one)
    in the request's workspace: 401 when nobody is signed in, 403 otherwise.

    Every route declares one, on its router or itself, so whoever reads the route
    sees who may call it (a test fails for any route that does not):
    ``APIRouter(dependencies=[Depends(require_role("viewer"))])`` or
    ``@router.post("/x", dependencies=[Depends(require_role("editor"))])``.
    On an open app (no security installed) it lets everything through.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {ROLES}")

    def _check(request: Request) -> AuthenticatedUser | None:
        if _is_open(request):
            return None
        user = current_user(request)
        if user.role is None:
            raise HTTPException(status_code=403, detail="you have no access to this workspace")
        if not user.can(role):
            raise HTTPException(
                status_code=403,
                detail=f"this needs the {role} role in this workspace; you are {user.role}: "
                "ask a workspace admin",
            )
        return user

    _check.__name__ = f"require_{role}"
    _check.access = role  # type: ignore[attr-defined]
    return _check


def signed_in(request: Request) -> AuthenticatedUser | None:
    """A dependency for what any signed-in user may do whatever their roles (sign out)."""
    return None if _is_open(request) else current_user(request)


signed_in.access = "signed_in"  # type: ignore[attr-defined]


def public() -> None:
    """A dependency declaring a route open to anyone (the sign-in page, shipped files)."""


public.access = "public"  # type: ignore[attr-defined]


def declared_access(route: Any) -> list[str]:
    """The access a route declares through its dependencies (its router's included).

    >>> from fastapi import APIRouter, Depends, FastAPI
    >>> app = FastAPI()
    >>> router = APIRouter(dependencies=[Depends(require_role("viewer"))])
    >>> @router.get("/a")
    ... def a() -> None: ...
    >>> @router.post("/a", dependencies=[Depends(require_role("editor"))])
    ... def b() -> None: ...
    >>> app.include_router(router)
    >>> [declared_access(r) for r in served_routes(app) if r.path == "/a"]
    [['viewer'], ['viewer', 'editor']]
    """
    found: list[str] = []
    pending = list(getattr(getattr(route, "dependant", None), "dependencies", []))
    while pending:
        dependency = pending.pop(0)
        access = getattr(dependency.call, "access", None)
        if access in ACCESS:
            found.append(access)
        pending.extend(dependency.dependencies)
    return found


def served_routes(app: Any) -> list[Any]:
    """Every route the app serves, with its routers' settings applied (FastAPI may
    keep an included router as one entry and build its routes when first needed)."""
    found: list[Any] = []

    def walk(routes: Any) -> None:
        for route in routes:
            if hasattr(route, "effective_candidates"):
                walk(route.effective_candidates())
            elif getattr(route, "path", None) is not None:
                found.append(route)

    walk(app.routes)
    return found


def strictest(access: list[str]) -> str | None:
    """The strictest of several declarations (a route's and its router's): the role
    that is really needed.

    >>> strictest(["viewer", "editor"]), strictest(["public"]), strictest([])
    ('editor', 'public', None)
    """
    order = ("public", "signed_in", *ROLES)
    return max(access, key=order.index) if access else None


def csrf_token(request: Request) -> str:
    """The CSRF token to put in forms (``<input type=hidden name=csrf_token>``) or htmx
    headers; empty when nobody is signed in."""
    user = optional_user(request)
    return user.csrf_token if user else ""
