"""Switching workspace: for a user who holds a role in several workspaces.

The page header lists the signed-in user's own workspaces (only those they hold
a role in, from ``request.state.workspaces``) when there is more than one.
``POST /workspace/switch`` (CSRF-checked like every form) remembers the choice
in the ``systemic_workspace`` cookie and goes to the dashboard: the old page's
objects belong to the old workspace. The membership middleware checks the
cookie against the user's roles on every request, so it can never open a
workspace the user has no role in; asking to switch to one is refused (403)
and changes nothing. A switch is filed in the audit trail of the workspace
switched to (``switch_workspace``, with the workspace left), where its admins
see who came in.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from systemic.store.accounts import record_event
from systemic.web.deps import submitted_form
from systemic.web.membership import WORKSPACE_COOKIE
from systemic.web.security.identity import require_role
from systemic.web.security.session import cookie_options

# Any member may switch to another workspace they hold a role in.
router = APIRouter(include_in_schema=False, dependencies=[Depends(require_role("viewer"))])

SWITCH_PATH = "/workspace/switch"


@router.post(SWITCH_PATH)
def switch_workspace(request: Request, form: FormData = Depends(submitted_form)) -> Response:
    """Work in another of the user's workspaces from the next page on."""
    user = getattr(request.state, "user", None)
    if user is None:  # an open app serves one workspace: nothing to switch
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    wanted = str(form.get("workspace", ""))
    mine = {w.id: w for w in getattr(request.state, "workspaces", None) or []}
    if wanted not in mine:
        return JSONResponse(
            {"detail": "you hold no role in that workspace; ask one of its admins"},
            status_code=403,
        )
    with request.app.state.store.session() as session:
        record_event(
            session,
            actor=user.username,
            action="switch_workspace",
            workspace_id=wanted,
            object_kind="workspace",
            object_id=wanted,
            before={"workspace_id": user.workspace_id},
            after={"workspace_id": wanted, "role": mine[wanted].role},
            ip=str(getattr(request.state, "client_ip", "")),
        )
        session.commit()
    response = RedirectResponse("/", status_code=303)
    secure = bool(getattr(request.state, "https", False))
    response.set_cookie(WORKSPACE_COOKIE, wanted, **cookie_options(secure=secure, max_age=None))
    return response
