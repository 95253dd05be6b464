"""Request dependencies: the database session, the current workspace, the actor.

On a secured app (``create_app(...)``, the default) the workspace is the one the
signed-in user holds a role in and the actor is that user; on an open app every
request acts on the app's workspace as ``anonymous`` (or the name in the
``X-Systemic-Actor`` header, for scripts).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from systemic.store import Store
from systemic.store.orm import Workspace
from systemic.store.repository import ANONYMOUS, get_workspace

ACTOR_HEADER = "X-Systemic-Actor"


def get_store(request: Request) -> Store:
    """The app's store (engine and session factory)."""
    return request.app.state.store


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request; routes commit what they change."""
    with get_store(request).session() as session:
        yield session


def workspace_slug(request: Request) -> str:
    """The slug or id of the request's workspace.

    A middleware may choose it per request by setting ``request.state.workspace``
    (``scope["state"]["workspace"]``), e.g. from the signed-in user's membership;
    otherwise it is the app's workspace (``app.state.workspace``).
    """
    chosen = getattr(request.state, "workspace", None)
    return chosen if chosen else request.app.state.workspace


def current_workspace(request: Request, session: Session = Depends(get_session)) -> Workspace:
    """The workspace the request works in (404 when it does not exist)."""
    return get_workspace(session, workspace_slug(request))


def current_actor(request: Request) -> str:
    """Who is making the change, as recorded in history: the signed-in user if any."""
    user = getattr(request.state, "user", None)
    if user is not None:
        return str(user.username)
    name = request.headers.get(ACTOR_HEADER, "").strip()
    return name[:200] if name else ANONYMOUS


async def submitted_form(request: Request) -> FormData:
    """The posted form, read before the handler runs.

    Handlers that work with the database synchronously are plain ``def`` (FastAPI
    runs them on a worker thread, so a slow page never holds up the others); reading
    the body is the one step that must be awaited, so it happens here.

    Starlette refuses any form value over 1 MiB with its own JSON 400, which a
    browser shows as a bare error. The body as a whole is already bounded (the
    :class:`~systemic.web.limits.BodyLimit` middleware answers 413 past it), so a
    value may be as long as the body: the page then checks it against the field
    limit like any other value and shows the form again (422) naming the field.
    """
    # Imported here: the limits module imports the security package, which imports this.
    from systemic.web.limits import request_limits

    limit = request_limits(request.app.state).body_limit(request.method, request.url.path)
    return await request.form(max_part_size=limit)
