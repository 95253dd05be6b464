"""The pages' shared frame: templates, navigation, static files.

>>> [label for _, label in NAV][:2]
['Dashboard', 'Purpose']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from systemic.framework.kinds import KINDS, object_path, title_of

WEB_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
#: Where the shipped CSS and htmx are served.
STATIC_URL = "/static"

#: The main navigation: the four levels, the cycle, the map and the audit.
NAV: tuple[tuple[str, str], ...] = (
    ("/", "Dashboard"),
    ("/mission", "Purpose"),
    ("/paradigm", "Principles & conditions"),
    ("/organisation", "Localities & teams"),
    ("/people", "People & communities"),
    ("/cycle", "Learning cycle"),
    ("/map", "System map"),
    ("/capture", "Capture demand"),
    ("/audit", "Audit"),
)


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """'1 measure', '2 measures', '3 localities' (give ``plural`` when not just +s).

    >>> counted(1, "measure"), counted(0, "locality", "localities")
    ('1 measure', '0 localities')
    """
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def can_edit(request: Request) -> bool:
    """Whether the request's user may add, change and delete objects (an editor or admin).

    Pages show "Add", "Edit" and "Delete" links and forms only when this holds. An
    open app (``create_app(..., secure=False)``) has no user and lets everyone edit.
    """
    user = getattr(request.state, "user", None)
    return user is None or bool(user.can("editor"))


def my_workspaces(request: Request) -> list[Any]:
    """The signed-in user's workspaces (``MemberOf``), when there is a choice (two or more).

    The membership middleware lists only workspaces the user holds a role in.
    """
    workspaces = getattr(request.state, "workspaces", None) or []
    return list(workspaces) if len(workspaces) > 1 else []


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["counted"] = counted
templates.env.globals.update(
    KINDS=KINDS,
    object_path=object_path,
    title_of=title_of,
    static=lambda name: f"{STATIC_URL}/{name}",
    signed_in=lambda request: getattr(request.state, "user", None),
    csrf=lambda request: getattr(getattr(request.state, "user", None), "csrf_token", "") or "",
    can_edit=lambda request: can_edit(request),
    my_workspaces=lambda request: my_workspaces(request),
)


#: Longest static file name looked up (the shipped names are short).
MAX_STATIC_NAME = 200


def static_file(path: str) -> FileResponse:
    """One shipped static file (CSS, htmx, scripts), refusing anything outside the folder.

    A name the file system cannot even look up (a NUL byte, an over-long name) is
    simply not found (404), never a server error.
    """
    missing = HTTPException(status_code=404, detail="No such static file.")
    if len(path) > MAX_STATIC_NAME or "\x00" in path:
        raise missing
    try:
        target = (STATIC_DIR / path).resolve()
        if not target.is_file() or STATIC_DIR not in target.parents:
            raise missing
    except (OSError, ValueError):
        raise missing from None
    return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})


def render(
    request: Request,
    template: str,
    *,
    title: str,
    active: str = "",
    workspace_name: str = "Workspace",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page inside the site frame."""
    saved = request.query_params.get("saved")
    flash = {"1": "Saved.", "deleted": "Deleted."}.get(saved or "", "")
    return templates.TemplateResponse(
        request,
        template,
        {
            "page_title": title,
            "active": active,
            "nav": NAV,
            "workspace_name": workspace_name,
            "flash": flash,
            **context,
        },
        status_code=status_code,
    )
