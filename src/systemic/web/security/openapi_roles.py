"""The role each API operation needs, written into the app's OpenAPI schema.

``describe_roles(app, settings)`` makes ``/openapi.json`` state, for every
operation, the role the security middleware will demand (``needed_role``, the
very function that enforces it): as an ``x-required-role`` extension, and as a
sentence in the operation's description for people reading the schema. It
also names the two ways to authenticate (an API token as a bearer token, or the
browser's session cookie) as security schemes.

>>> from fastapi import FastAPI
>>> app = FastAPI()
>>> @app.delete("/api/things/{thing_id}")
... def remove(thing_id: str) -> None: ...
>>> settings = SecuritySettings(secret_key="k" * 32)
>>> describe_roles(app, settings)
>>> app.openapi()["paths"]["/api/things/{thing_id}"]["delete"]["x-required-role"]
'editor'
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from systemic.web.security.middleware import needed_role
from systemic.web.security.settings import SecuritySettings

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


def add_roles(schema: dict[str, Any], settings: SecuritySettings) -> dict[str, Any]:
    """Write each operation's role into an OpenAPI ``schema`` (in place; returned)."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            role = needed_role(method.upper(), path, settings)
            operation["x-required-role"] = role
            description = operation.get("description", "").rstrip()
            operation["description"] = f"{description}\n\n{role_note(role)}".lstrip()
            operation["security"] = [{"apiToken": []}, {"session": []}]
    schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    return schema


def describe_roles(app: FastAPI, settings: SecuritySettings) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``) state each operation's role."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_roles(build(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
