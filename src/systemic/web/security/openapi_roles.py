"""The role each API operation needs, written into the app's OpenAPI schema.

``describe_roles(app)`` makes ``/openapi.json`` state, for every operation, the
role its route declares (``Depends(require_role(...))`` on the route or its
router, the very dependency that enforces it): as an ``x-required-role``
extension, and as a sentence in the operation's description for people
reading the schema. It also names the two ways to authenticate (an API token
as a bearer token, or the browser's session cookie) as security schemes.

>>> from fastapi import Depends, FastAPI
>>> from systemic.web.security.identity import require_role
>>> app = FastAPI()
>>> @app.delete("/api/things/{thing_id}", dependencies=[Depends(require_role("editor"))])
... def remove(thing_id: str) -> None: ...
>>> describe_roles(app)
>>> app.openapi()["paths"]["/api/things/{thing_id}"]["delete"]["x-required-role"]
'editor'
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from systemic.store.accounts import ROLES
from systemic.web.security.identity import (
    declared_access,
    require_role,
    served_routes,
    strictest,
)

#: The operations of an OpenAPI path item (its other keys are parameters, summary ...).
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
#: What each role means, for the sentence added to each operation's description.
ROLE_MEANING = {
    "viewer": "any member of the workspace may call it",
    "editor": "editors and admins of the workspace may call it",
    "admin": "only admins of the workspace may call it",
}
SECURITY_SCHEMES = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `systemic token create` (syst_...).",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "systemic_session",
        "description": "The browser's session after signing in at /login; changes also need "
        "the X-CSRF-Token header.",
    },
}


def role_note(role: str) -> str:
    """The sentence added to an operation's description.

    >>> role_note("admin")
    'Requires the **admin** role: only admins of the workspace may call it.'
    """
    return f"Requires the **{role}** role: {ROLE_MEANING[role]}."


def declared_roles(app: FastAPI) -> dict[tuple[str, str], str]:
    """The role each (method, path) of the app declares (routes declaring a role)."""
    roles: dict[tuple[str, str], str] = {}
    for route in served_routes(app):
        role = strictest(declared_access(route))
        if role in ROLES:
            for method in getattr(route, "methods", None) or ():
                roles[(method.lower(), route.path)] = role
    return roles


def add_roles(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Write each operation's declared role into an OpenAPI ``schema`` (in place)."""
    roles = declared_roles(app)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            role = roles.get((method, path))
            if method not in HTTP_METHODS or role is None:
                continue
            operation["x-required-role"] = role
            description = operation.get("description", "").rstrip()
            operation["description"] = f"{description}\n\n{role_note(role)}".lstrip()
            operation["security"] = [{"apiToken": []}, {"session": []}]
    schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    return schema


def describe_roles(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``) state each operation's role."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_roles(build(), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_schema_route(app: FastAPI) -> None:
    """Serve the schema at ``/openapi.json`` to the workspace's members (a declared
    role, like every route), in place of FastAPI's own undeclared route."""

    def schema(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    app.add_api_route(
        "/openapi.json",
        schema,
        methods=["GET"],
        include_in_schema=False,
        dependencies=[Depends(require_role("viewer"))],
    )
