"""Which workspace a signed-in user works in: one they hold a role in.

Several workspaces (a council, an NHS trust) share one server. This ASGI
middleware runs before the security middleware and, for a request carrying a
session cookie or an API token, chooses the request's workspace
(``scope["state"]["workspace"]``): the workspace the user switched to (the
``systemic_workspace`` cookie, see ``systemic.web.pages.switcher``) when they
hold a role there, else the app's own workspace when they hold a role there,
otherwise the first workspace (by slug) they hold a role in. The cookie only
names a choice: it is checked against the user's memberships on every
request, so naming a workspace one has no role in changes nothing.
Every route then reads and writes that workspace only, so an object of
another workspace is not found (404): its existence is not even confirmed.

A script with an API token names its workspace (slug or id) in the
``X-Systemic-Workspace`` header. When the user holds no role there (or it does
not exist) the request is pinned to that name all the same, so the security
middleware refuses it (403) rather than quietly working in another workspace.

The user's workspaces (id, slug, name, role) go on ``scope["state"]["workspaces"]``
for the switcher in the page header.

A user with no role anywhere stays on the app's workspace and is refused
there by the security middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import select
from starlette.requests import Request

from systemic.store.accounts import InvalidCredentialsError, Membership, user_for_token
from systemic.store.orm import Workspace
from systemic.web.security import SecuritySettings
from systemic.web.security.session import SessionCodec

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: The cookie naming the workspace a user switched to (checked against their roles).
WORKSPACE_COOKIE = "systemic_workspace"
#: The header a script names its workspace in (slug or id).
WORKSPACE_HEADER = "x-systemic-workspace"


@dataclass(frozen=True)
class MemberOf:
    """A workspace the signed-in user holds a role in."""

    id: str
    slug: str
    name: str
    role: str


class MembershipWorkspace:
    """Put the workspace the user holds a role in on the request (see the module)."""

    def __init__(self, app: Any, *, app_store: Any, settings: SecuritySettings) -> None:
        self.app = app
        self.store = app_store
        self.settings = settings
        self.codec = SessionCodec(settings.secret_key, max_age=settings.session_max_age)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            chosen, workspaces = await anyio.to_thread.run_sync(self._choose, scope)
            state = scope.setdefault("state", {})
            state["workspaces"] = workspaces
            if chosen:
                state["workspace"] = chosen
        await self.app(scope, receive, send)

    def _choose(self, scope: Scope) -> tuple[str | None, list[MemberOf]]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        authorization = headers.get("authorization", "")
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        data = None
        if token is None:
            data = self.codec.load(Request(scope).cookies.get(self.settings.cookie_name))
            if data is None:
                return None, []
        switched = Request(scope).cookies.get(WORKSPACE_COOKIE)
        named = headers.get(WORKSPACE_HEADER, "").strip()[:64] or None
        app = scope.get("app")
        wanted = getattr(getattr(app, "state", None), "workspace", None)
        with self.store.session() as session:
            if token is not None:
                try:
                    user_id = user_for_token(session, token).id
                except InvalidCredentialsError:
                    return None, []
                session.rollback()  # the security middleware records the token's use
            else:
                user_id = str(data["uid"]) if data else ""
            rows = session.execute(
                select(Workspace.id, Workspace.slug, Workspace.name, Membership.role)
                .join(Membership, Membership.workspace_id == Workspace.id)
                .where(Membership.user_id == user_id)
                .order_by(Workspace.slug)
            ).all()
        workspaces = [MemberOf(str(r.id), r.slug, r.name, r.role) for r in rows]
        if named is not None:
            mine = [w.id for w in workspaces if named in (w.id, w.slug)]
            # Not one of theirs: pinned anyway, so the request is refused, never redirected.
            return (mine[0] if mine else named), workspaces
        if not workspaces:
            return None, []
        for workspace in workspaces:
            if switched and switched == workspace.id:
                return workspace.id, workspaces
        if any(wanted in (w.id, w.slug) for w in workspaces):
            return None, workspaces
        return workspaces[0].id, workspaces
