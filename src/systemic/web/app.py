"""The FastAPI application factory: pages, the JSON API and the database.

>>> from fastapi.testclient import TestClient
>>> client = TestClient(create_app("sqlite://"))
>>> client.get("/api/workspace").json()["slug"]
'default'
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from systemic.store import (
    ImportFormatError,
    InvalidObjectError,
    NotFoundError,
    Store,
    WorkspaceConflictError,
    open_store,
)
from systemic.store.repository import DEFAULT_SLUG, ensure_default_workspace, list_workspaces
from systemic.web import api, pages


def create_app(
    database_url: str | Path | None = None,
    *,
    store: Store | None = None,
    workspace: str | None = None,
) -> FastAPI:
    """Build the workspace app on a database (a URL, a SQLite path, or the default file).

    The database is created and migrated if needed. The app serves ``workspace``
    (a slug or id); by default the ``default`` workspace, created and seeded
    with the failure-demand spiral when the database holds no workspace.
    """
    store = store or open_store(database_url)
    with store.session() as session:
        known = list_workspaces(session)
        if workspace is None:
            slugs = [w.slug for w in known]
            if not known:
                ensure_default_workspace(session)
                session.commit()
                workspace = DEFAULT_SLUG
            else:
                workspace = DEFAULT_SLUG if DEFAULT_SLUG in slugs else slugs[0]
    app = FastAPI(
        # Swagger UI and ReDoc load their scripts from a CDN; the app ships everything it
        # serves, so only the schema itself is offered (/openapi.json).
        docs_url=None,
        redoc_url=None,
        title="systemic workspace",
        description=(
            "Purpose, system conditions, localities and teams, people and communities, "
            "measures, experiments and redesign decisions, held together in one workspace."
        ),
    )
    app.state.store = store
    app.state.workspace = workspace
    _add_error_handlers(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def _json_safe(value: Any) -> Any:
    """Replace values JSON cannot carry (NaN, infinity) so an error can always be sent."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _json_safe(jsonable_encoder(exc.errors()))
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(InvalidObjectError)
    async def _invalid(request: Request, exc: InvalidObjectError) -> JSONResponse:
        detail = [
            {**e, "loc": list(e["loc"]) if e["loc"][:1] == ("query",) else ["body", *e["loc"]]}
            for e in exc.errors
        ]
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(WorkspaceConflictError)
    async def _conflict(request: Request, exc: WorkspaceConflictError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(ImportFormatError)
    async def _bad_import(request: Request, exc: ImportFormatError) -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content={"detail": [{"loc": ["body"], "msg": str(exc), "type": "import_format"}]},
        )
