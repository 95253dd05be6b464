"""``/openapi.json`` states the role every API operation needs, and it is the truth.

Each operation carries ``x-required-role`` and a sentence in its description;
the declared roles are then checked against what the app really does for a
viewer, an editor and an admin.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.store.accounts import ROLES
from tests.web.conftest import add_user, open_session

METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(schema: dict) -> dict[tuple[str, str], dict]:
    return {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_api_operation_states_its_role(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = _operations(schema)
    assert len(operations) > 40
    for (method, path), operation in operations.items():
        role = operation.get("x-required-role")
        assert role in ROLES, (method, path)
        assert f"Requires the **{role}** role" in operation["description"], (method, path)
        assert operation["security"] == [{"apiToken": []}, {"session": []}]
    # Hand-checked against the access rules in docs/security.md.
    expected = {
        ("get", "/api/principles"): "viewer",
        ("get", "/api/principles/{object_id}"): "viewer",
        ("post", "/api/principles"): "editor",
        ("patch", "/api/principles/{object_id}"): "editor",
        ("delete", "/api/principles/{object_id}"): "editor",
        ("get", "/api/audit"): "viewer",
        ("get", "/api/audit/rules"): "admin",
        ("patch", "/api/audit/rules/{rule_id}"): "admin",
        ("get", "/api/export"): "admin",
        ("post", "/api/import"): "admin",
        ("get", "/api/audit-trail"): "admin",
    }
    assert {key: operations[key]["x-required-role"] for key in expected} == expected
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"]["scheme"] == "bearer"
    assert schemes["session"]["name"] == "systemic_session"


def test_the_declared_roles_are_the_roles_enforced(app: FastAPI, client: TestClient) -> None:
    operations = _operations(client.get("/openapi.json").json())
    users = {
        "viewer": open_session(TestClient(app), add_user(app.state.store, "vera", "viewer")),
        "editor": open_session(TestClient(app), add_user(app.state.store, "ed", "editor")),
        "admin": client,
    }
    checked = 0
    for (method, path), operation in sorted(operations.items()):
        if method != "get" or "{" in path:
            continue  # reads without ids: safe to call as everyone
        declared = operation["x-required-role"]
        for role, user in users.items():
            allowed = ROLES.index(role) >= ROLES.index(declared)
            status = user.get(path).status_code
            assert (status != 403) == allowed, (path, role, declared, status)
        checked += 1
    for path in ("/api/principles", "/api/import"):
        declared = operations[("post", path)]["x-required-role"]
        for role, user in users.items():
            allowed = ROLES.index(role) >= ROLES.index(declared)
            status = user.post(path, json={}).status_code
            assert (status != 403) == allowed, (path, role, declared, status)
    assert checked > 15


def test_an_open_app_claims_no_roles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from systemic.web.app import create_app

    schema = TestClient(create_app(tmp_path / "open.db", secure=False)).get("/openapi.json")
    assert "x-required-role" not in schema.text
    assert not re.search(r"Requires the \*\*\w+\*\* role", schema.text)
