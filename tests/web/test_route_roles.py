"""Every route says who may call it, where it is declared.

The review found authorisation decided in a middleware from URL shapes, so a
new route was protected only if its path happened to match. Now each route (or
its router) declares ``require_role(...)``, ``signed_in`` or ``public``; these
tests walk the routes the app really serves and fail for any that declares
nothing, and check the declarations against what the app does.
"""

from __future__ import annotations

import inspect

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from systemic.web.app import create_app
from systemic.web.security.identity import declared_access, served_routes, strictest
from systemic.web.security.middleware import is_public
from tests.web.conftest import add_user, open_session, security_settings


@pytest.fixture(scope="module")
def routes() -> list:
    app = create_app("sqlite://", security=security_settings())
    found = served_routes(app)
    app.state.store.dispose()
    return found


def _name(route) -> str:  # type: ignore[no-untyped-def]
    return f"{sorted(route.methods or [])} {route.path}"


def test_every_route_declares_who_may_call_it(routes: list) -> None:
    undeclared = [_name(r) for r in routes if not declared_access(r)]
    assert len(routes) > 150
    assert undeclared == []


def test_the_check_finds_a_route_that_declares_nothing() -> None:
    """The test above would catch a new route added without a role."""
    app = create_app("sqlite://", security=security_settings())
    router = APIRouter()

    @router.post("/api/new-thing")
    def new_thing() -> None: ...

    app.include_router(router)
    undeclared = [_name(r) for r in served_routes(app) if not declared_access(r)]
    app.state.store.dispose()
    assert undeclared == ["['POST'] /api/new-thing"]


def test_public_routes_are_exactly_the_public_paths(routes: list) -> None:
    settings = security_settings()
    declared_public = {r.path for r in routes if strictest(declared_access(r)) == "public"}
    assert declared_public == {"/login", "/static/{path:path}"}
    for route in routes:
        if strictest(declared_access(route)) != "public":
            assert not is_public(route.path, settings), _name(route)


def test_changes_need_an_editor_and_admin_pages_an_admin(routes: list) -> None:
    for route in routes:
        role = strictest(declared_access(route))
        methods = route.methods or set()
        path = route.path
        if path.startswith("/admin") or path in ("/api/export", "/api/import"):
            assert role == "admin", _name(route)
        elif path.endswith(("/new", "/edit")) or (
            methods & {"PUT", "PATCH", "DELETE"} and not path.startswith("/api/audit/rules")
        ):
            assert role == "editor", _name(route)
        elif methods & {"POST"} and path not in (
            "/login",
            "/logout",
            "/workspace/switch",  # to another of one's own workspaces
            "/account/password",  # one's own
        ):
            assert role in ("editor", "admin"), _name(route)


def test_no_handler_blocks_the_event_loop(routes: list) -> None:
    """Handlers work with the database synchronously: plain def, run on worker threads."""
    asynchronous = [_name(r) for r in routes if inspect.iscoroutinefunction(r.endpoint)]
    assert asynchronous == []


def test_a_user_with_no_role_in_the_workspace_is_refused_everywhere(app: FastAPI) -> None:
    outsider = open_session(TestClient(app), add_user(app.state.store, "olu", None))
    for path in ("/", "/api/workspace", "/stories/new", "/openapi.json", "/account/password"):
        assert outsider.get(path).status_code == 403, path
    assert outsider.post("/api/principles", json={"name": "x"}).status_code == 403
