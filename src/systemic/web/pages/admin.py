"""The admin page of the audit trail: who did what, when, with before and after.

The trail is append-only (the database refuses to change it); this page only
reads it. The security middleware lets only admins of the workspace reach
``/admin/...``; on an open app (``create_app(secure=False)``) it lists nothing.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from systemic.store.accounts import audit_trail
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.site import render
from systemic.web.security.identity import require_role

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_role("admin"))])


def _shown(value: Any) -> str:
    """A before/after value as compact JSON for the table ('' when absent)."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@router.get("/admin/audit-trail", response_class=HTMLResponse)
def audit_trail_page(
    request: Request,
    ctx: PageContext = Depends(page_context),
    action: str | None = Query(None, max_length=40),
    actor: str | None = Query(None, max_length=200),
) -> HTMLResponse:
    """The newest 500 events of this workspace's audit trail."""
    secured = getattr(request.state, "user", None) is not None
    events = (
        audit_trail(ctx.session, ctx.workspace_id, actor=actor or None, action=action or None)
        if secured
        else []
    )
    rows = [
        {
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S"),
            "actor": e.actor,
            "action": e.action,
            "object": f"{e.object_kind} {e.object_id}".strip(),
            "before": _shown(e.before),
            "after": _shown(e.after),
            "ip": e.ip,
        }
        for e in events
    ]
    return render(
        request,
        "audit_trail.html",
        title="Audit trail",
        workspace_name=ctx.name,
        rows=rows,
        action=action or "",
        actor=actor or "",
    )
