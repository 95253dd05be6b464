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
from contextvars import ContextVar
from dataclasses import dataclass

from fastapi import HTTPException, Request

from systemic.store.accounts import ROLES, role_allows

#: The name of whoever makes the current request (read by the audit trail listener).
current_actor_name: ContextVar[str | None] = ContextVar("systemic_actor", default=None)
#: The address the current request came from.
current_ip: ContextVar[str] = ContextVar("systemic_ip", default="")


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


def require_role(role: str) -> Callable[[Request], AuthenticatedUser]:
    """A dependency that lets a request through only with ``role`` (or a higher one).

    ``@router.post("/x", dependencies=[Depends(require_role("editor"))])``
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {ROLES}")

    def _check(request: Request) -> AuthenticatedUser:
        user = current_user(request)
        if not user.can(role):
            raise HTTPException(
                status_code=403,
                detail=f"this needs the {role} role in this workspace; ask a workspace admin",
            )
        return user

    _check.__name__ = f"require_{role}"
    return _check


def csrf_token(request: Request) -> str:
    """The CSRF token to put in forms (``<input type=hidden name=csrf_token>``) or htmx
    headers; empty when nobody is signed in."""
    user = optional_user(request)
    return user.csrf_token if user else ""
