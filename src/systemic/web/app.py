"""The FastAPI application factory: pages, the JSON API, the database and sign-in.

``create_app(url)`` is secure by default, and is the app ``systemic serve``
runs: every page and API route needs a signed-in user (or an API token) with a
role in the workspace, forms carry CSRF tokens and every change lands in the
audit trail (``systemic.web.security``). Each user works in a workspace they
hold a role in, so another workspace's objects are simply not found (404).

``secure=False`` must be asked for explicitly (tests and tools that drive the
app in-process): it serves the workspace to anyone who can reach it, so never
expose such an app beyond a single-user machine.

>>> from fastapi.testclient import TestClient
>>> from systemic.web.security import SecuritySettings
>>> guarded = create_app("sqlite://", security=SecuritySettings(secret_key="k" * 32))
>>> TestClient(guarded).get("/api/workspace").status_code
401
>>> open_app = TestClient(create_app("sqlite://", secure=False))
>>> open_app.get("/api/workspace").json()["slug"]
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
from sqlalchemy.exc import OperationalError

from systemic.store import (
    ImportFormatError,
    InvalidObjectError,
    NotFoundError,
    Store,
    WorkspaceConflictError,
    open_store,
)
from systemic.store.repository import default_workspace
from systemic.web import api, pages
from systemic.web.limits import BodyLimit, RequestLimits
from systemic.web.membership import MembershipWorkspace
from systemic.web.security import SecuritySettings, install_security
from systemic.web.security.headers import SECURITY_HEADERS, SecurityHeaders
from systemic.web.security.openapi_roles import add_schema_route, describe_roles


def create_app(
    database_url: str | Path | None = None,
    *,
    store: Store | None = None,
    workspace: str | None = None,
    secure: bool = True,
    security: SecuritySettings | None = None,
    limits: RequestLimits | None = None,
) -> FastAPI:
    """Build the workspace app on a database (a URL, a SQLite path, or the default file).

    The database is created and migrated if needed. The app serves ``workspace``
    (a slug or id); by default the ``default`` workspace, created and seeded
    with the failure-demand spiral when the database holds no workspace.

    By default the app requires sign-in, roles and CSRF (with ``security``, or
    ``SecuritySettings()`` whose signing key comes from the environment).
    ``secure=False`` (and no ``security``) builds an open app with no sign-in,
    for tests and in-process tools only. ``limits``: the largest request body and
    text field accepted (``RequestLimits()`` by default).
    """
    store = store or open_store(database_url)
    if workspace is None:
        with store.session() as session:
            workspace = default_workspace(session).slug
            session.commit()  # made now if the database had none
    app = FastAPI(
        # Swagger UI and ReDoc load their scripts from a CDN; the app ships everything it
        # serves, so only the schema itself is offered (/openapi.json, a route of our own
        # so that it declares its role like every other).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        title="systemic workspace",
        description=(
            "Purpose, system conditions, localities and teams, people and communities, "
            "measures, experiments and redesign decisions, held together in one workspace."
        ),
    )
    app.state.store = store
    app.state.workspace = workspace
    app.state.limits = limits or RequestLimits()
    _add_error_handlers(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    add_schema_route(app)
    if secure or security is not None:
        settings = security or SecuritySettings()
        install_security(app, _AppStore(app), settings)  # type: ignore[arg-type]
        describe_roles(app)
        # Added last, so it runs first: it picks the workspace the user holds a role in.
        app.add_middleware(MembershipWorkspace, app_store=_AppStore(app), settings=settings)
    else:
        app.add_middleware(SecurityHeaders)  # install_security adds them on a secured app
    # Added last, so it runs first: an oversized body is refused before anyone reads it.
    app.add_middleware(BodyLimit, limits=app.state.limits)
    app.state.secure = secure or security is not None
    return app


class _AppStore:
    """The app's current store (``app.state.store``), looked up on every use."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app.state.store, name)


def _json_safe(value: Any) -> Any:
    """Replace values JSON cannot carry (NaN, infinity) so an error can always be sent."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite giving up on a lock (its busy timeout ran out)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def _busy_response() -> JSONResponse:
    return JSONResponse(
        status_code=503,
        content={"detail": "the database is busy with other changes; try again in a moment"},
        headers={"Retry-After": "1"},
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises after this answer (the server logs the traceback) and the
        # server then closes the connection: say so, so clients do not reuse it.
        response = (
            _busy_response()
            if _database_busy(exc)
            else JSONResponse(
                status_code=500,
                content={"detail": "something went wrong on the server; the error is logged"},
            )
        )
        response.headers["Connection"] = "close"
        response.raw_headers.extend(
            (k, v) for k, v in SECURITY_HEADERS if k not in dict(response.raw_headers)
        )
        return response

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        if _database_busy(exc):
            return _busy_response()
        raise exc

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
