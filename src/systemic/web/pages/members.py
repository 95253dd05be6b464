"""The admin page of a workspace's members: who holds which role, and changing it.

``GET /admin/members`` lists the workspace's members with their roles and
offers, for each, a role change and removal, and a form to add an existing
user (users themselves are made with ``systemic user add``). Every change goes
through ``systemic.store.accounts.set_role`` in a session the audit trail
watches, exactly as ``systemic user role`` does on the command line, so it
lands in the trail as ``grant_role``, ``change_role`` or ``revoke_role`` with
the admin's name. The security middleware lets only the workspace's admins
reach ``/admin/...`` and checks every form's CSRF token; on an open app
(``create_app(..., secure=False)``) the page does not exist (404).

The last admin of a workspace cannot be removed or demoted from here: the
workspace would be left with nobody able to administer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from systemic.store.accounts import ROLES, AccountError, Membership, UserAccount, set_role
from systemic.web.deps import submitted_form
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.site import render
from systemic.web.security.identity import require_role

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_role("admin"))])

MEMBERS_PATH = "/admin/members"
#: What each role may do, shown next to the role choices.
ROLE_HELP = {
    "viewer": "reads every page",
    "editor": "also adds, changes and deletes objects",
    "admin": "also manages members, import, export and the audit trail",
}


@dataclass(frozen=True)
class Member:
    """One member of the workspace, as the page lists them."""

    username: str
    display_name: str
    role: str


def workspace_members(session: Session, workspace_id: str) -> list[Member]:
    """The workspace's members with their roles, by username."""
    rows = session.execute(
        select(UserAccount.username, UserAccount.display_name, Membership.role)
        .join(Membership, Membership.user_id == UserAccount.id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(UserAccount.username)
    )
    return [Member(username, name or username, role) for username, name, role in rows]


def _admins(session: Session, workspace_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.workspace_id == workspace_id, Membership.role == "admin")
        )
        or 0
    )


def change_membership(
    session: Session, workspace_id: str, username: str, role: str | None, *, adding: bool = False
) -> str:
    """Give ``username`` ``role`` in the workspace (None removes them); the message to show.

    Raises :class:`AccountError` for an unknown user or role, for adding someone who
    is already a member, for changing someone who is not, and for removing or
    demoting the workspace's last admin.
    """
    user = session.scalar(select(UserAccount).where(UserAccount.username == username.strip()))
    if user is None:
        raise AccountError(
            f"there is no user {username.strip()!r}; create users with `systemic user add`"
        )
    current = session.get(Membership, (user.id, workspace_id))
    if adding and current is not None:
        raise AccountError(f"{user.username} is already a member ({current.role})")
    if not adding and current is None:
        raise AccountError(f"{user.username} is not a member of this workspace")
    if role is not None and role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    demoting = current is not None and current.role == "admin" and role != "admin"
    if demoting and _admins(session, workspace_id) <= 1:
        raise AccountError(
            f"{user.username} is the workspace's only admin; make someone else admin first"
        )
    set_role(session, user.username, workspace_id, role)
    if role is None:
        return f"Removed {user.username} from the workspace."
    if adding:
        return f"Added {user.username} as {role}."
    return f"{user.username} is now {role}."


def _page(
    request: Request, ctx: PageContext, *, message: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "members.html",
        title="Members and roles",
        workspace_name=ctx.name,
        status_code=status,
        members=workspace_members(ctx.session, ctx.workspace_id),
        roles=ROLES,
        role_help=ROLE_HELP,
        message=message,
        error=error,
    )


def _secured(request: Request) -> bool:
    return getattr(request.state, "user", None) is not None


@router.get(MEMBERS_PATH, response_class=HTMLResponse)
def members_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """The workspace's members and their roles (admins only)."""
    if not _secured(request):
        return HTMLResponse("Not found", status_code=404)
    done = request.query_params.get("done", "")
    return _page(request, ctx, message=done[:200])


def _change(request: Request, ctx: PageContext, form: FormData, *, action: str) -> Response:
    if not _secured(request):
        return HTMLResponse("Not found", status_code=404)
    username = str(form.get("username", ""))[:100]
    role: str | None = str(form.get("role", ""))
    if action == "remove":
        role = None
    try:
        message = change_membership(
            ctx.session, ctx.workspace_id, username, role, adding=action == "add"
        )
    except AccountError as exc:
        ctx.session.rollback()
        text = str(exc)
        return _page(request, ctx, error=text[:1].upper() + text[1:] + ".", status=422)
    ctx.session.commit()

    return RedirectResponse(f"{MEMBERS_PATH}?done={quote(message)}", status_code=303)


@router.post(f"{MEMBERS_PATH}/add")
def add_member(
    request: Request,
    ctx: PageContext = Depends(page_context),
    form: FormData = Depends(submitted_form),
) -> Response:
    """Give an existing user a role in this workspace."""
    return _change(request, ctx, form, action="add")


@router.post(f"{MEMBERS_PATH}/role")
def change_role(
    request: Request,
    ctx: PageContext = Depends(page_context),
    form: FormData = Depends(submitted_form),
) -> Response:
    """Change a member's role."""
    return _change(request, ctx, form, action="role")


@router.post(f"{MEMBERS_PATH}/remove")
def remove_member(
    request: Request,
    ctx: PageContext = Depends(page_context),
    form: FormData = Depends(submitted_form),
) -> Response:
    """Take a member's access to this workspace away (the user account stays)."""
    return _change(request, ctx, form, action="remove")
