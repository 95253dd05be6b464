"""Server-rendered pages of the workspace (Jinja2 + htmx, assets shipped in the package).

``router`` holds every page: the dashboard, one page per level, the learning
cycle, the system map, the audit, and view/create/edit/delete pages for every
kind of object. Static files (CSS, htmx) are served by the same router under
``/static``, so an app that includes the router needs nothing else.

>>> from systemic.web.pages import NAV
>>> [path for path, _ in NAV][:3]
['/', '/mission', '/paradigm']
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from systemic.web.pages import (
    account,
    admin,
    capture,
    experiment_evidence,
    levels,
    measure_chart,
    members,
    objects,
    switcher,
    system_map,
)
from systemic.web.pages.site import NAV, STATIC_URL, static_file
from systemic.web.security.identity import public

router = APIRouter()
# The shipped CSS and scripts: the sign-in page needs them before anyone signs in.
router.add_api_route(
    f"{STATIC_URL}/{{path:path}}",
    static_file,
    methods=["GET"],
    dependencies=[Depends(public)],
    include_in_schema=False,
)
router.include_router(account.router)
router.include_router(admin.router)
router.include_router(members.router)
router.include_router(switcher.router)
router.include_router(levels.router)
router.include_router(system_map.router)
router.include_router(measure_chart.router)
router.include_router(capture.router)
router.include_router(experiment_evidence.router)
router.include_router(objects.build_router())

__all__ = ["NAV", "STATIC_URL", "router"]
