"""The admin page of a workspace's members and roles (``/admin/members``).

Admins list members, change a role, remove a member and add an existing user;
each change is CSRF-checked and lands in the audit trail with the admin's
name, as a role change from ``systemic user role`` does. Nobody else reaches
the page.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.store.accounts import audit_trail, role_in
from systemic.store.repository import create_workspace, ensure_default_workspace
from tests.web.conftest import add_user, open_session


def _workspace_id(app: FastAPI) -> str:
    with app.state.store.session() as session:
        return ensure_default_workspace(session).id


def _role(app: FastAPI, user_id: str) -> str | None:
    with app.state.store.session() as session:
        return role_in(session, user_id, _workspace_id(app))


def _trail(app: FastAPI, action: str) -> list[dict]:
    with app.state.store.session() as session:
        return [
            {"actor": e.actor, "object_id": e.object_id, "before": e.before, "after": e.after}
            for e in audit_trail(session, _workspace_id(app), action=action)
        ]


def _listed(html: str) -> dict[str, str]:
    """Username -> the role selected for them on the page."""
    rows = re.findall(
        r'action="/admin/members/role".*?name="username" value="([^"]+)">.*?'
        r'<option value="(\w+)" selected>',
        html,
        re.S,
    )
    return dict(rows)


def test_an_admin_lists_changes_removes_and_adds_members(app: FastAPI, client: TestClient) -> None:
    ed = add_user(app.state.store, "ed", "editor")
    newcomer = add_user(app.state.store, "nadia", None)
    page = client.get("/admin/members")
    assert page.status_code == 200
    assert _listed(page.text) == {"ada": "admin", "ed": "editor"}
    assert "nadia" not in page.text  # not a member yet
    assert 'href="/admin/members"' in client.get("/").text

    changed = client.post("/admin/members/role", data={"username": "ed", "role": "viewer"})
    assert changed.status_code == 200 and "ed is now viewer." in changed.text
    assert _role(app, ed.id) == "viewer"
    [event] = _trail(app, "change_role")
    assert event["actor"] == "ada" and event["object_id"] == ed.id
    assert event["before"]["role"] == "editor" and event["after"]["role"] == "viewer"

    added = client.post("/admin/members/add", data={"username": "nadia", "role": "editor"})
    assert added.status_code == 200 and _role(app, newcomer.id) == "editor"
    [granted] = _trail(app, "grant_role")[:1]
    assert granted["actor"] == "ada" and granted["after"]["role"] == "editor"
    assert _listed(added.text) == {"ada": "admin", "ed": "viewer", "nadia": "editor"}

    removed = client.post("/admin/members/remove", data={"username": "ed"})
    assert removed.status_code == 200 and _role(app, ed.id) is None
    [revoked] = _trail(app, "revoke_role")
    assert revoked["actor"] == "ada" and revoked["before"]["role"] == "viewer"
    # The removed member is shut out at once.
    assert open_session(TestClient(app), ed).get("/api/principles").status_code == 403


def test_mistakes_are_refused_with_a_message(app: FastAPI, client: TestClient) -> None:
    add_user(app.state.store, "ed", "editor")
    unknown = client.post("/admin/members/add", data={"username": "nobody", "role": "viewer"})
    assert unknown.status_code == 422 and "There is no user &#39;nobody&#39;" in unknown.text
    twice = client.post("/admin/members/add", data={"username": "ed", "role": "viewer"})
    assert twice.status_code == 422 and "already a member" in twice.text
    bad_role = client.post("/admin/members/role", data={"username": "ed", "role": "owner"})
    assert bad_role.status_code == 422 and "Unknown role" in bad_role.text
    # The only admin cannot lock the workspace out of its own administration.
    demote = client.post("/admin/members/role", data={"username": "ada", "role": "editor"})
    assert demote.status_code == 422 and "only admin" in demote.text
    assert client.post("/admin/members/remove", data={"username": "ada"}).status_code == 422
    assert _role(app, app.state.admin.id) == "admin"
    assert _trail(app, "change_role") == [] and _trail(app, "revoke_role") == []


def test_every_change_needs_the_csrf_token(app: FastAPI, client: TestClient) -> None:
    ed = add_user(app.state.store, "ed", "editor")
    token = client.headers.pop("X-CSRF-Token")
    refused = client.post("/admin/members/role", data={"username": "ed", "role": "admin"})
    assert refused.status_code == 403 and _role(app, ed.id) == "editor"
    accepted = client.post(
        "/admin/members/role", data={"username": "ed", "role": "admin", "csrf_token": token}
    )
    assert accepted.status_code == 200 and _role(app, ed.id) == "admin"


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_reach_the_members_page(app: FastAPI, role: str) -> None:
    target = add_user(app.state.store, "ed", "viewer")
    user = open_session(TestClient(app), add_user(app.state.store, "someone", role))
    assert "/admin/members" not in user.get("/").text
    assert user.get("/admin/members").status_code == 403
    for path, data in (
        ("/admin/members/role", {"username": "ed", "role": "admin"}),
        ("/admin/members/add", {"username": "someone", "role": "admin"}),
        ("/admin/members/remove", {"username": "ed"}),
    ):
        assert user.post(path, data=data).status_code == 403, path
    assert _role(app, target.id) == "viewer"


def test_an_admin_of_another_workspace_cannot_manage_this_one(app: FastAPI) -> None:
    with app.state.store.session() as session:
        other = create_workspace(session, "NHS trust", "trust", seed=False)
        session.commit()
    ed = add_user(app.state.store, "ed", "editor")
    outsider = add_user(app.state.store, "olu", "admin", workspace_id=other.id)
    client = open_session(TestClient(app), outsider)
    page = client.get("/admin/members")
    # Olu manages their own workspace's members, never this one's.
    assert page.status_code == 200 and _listed(page.text) == {"olu": "admin"}
    refused = client.post("/admin/members/role", data={"username": "ed", "role": "viewer"})
    assert refused.status_code == 422 and "not a member" in refused.text
    assert _role(app, ed.id) == "editor"


def test_an_open_app_has_no_members_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from systemic.web.app import create_app

    open_app = TestClient(create_app(tmp_path / "open.db", secure=False))
    assert open_app.get("/admin/members").status_code == 404
    assert open_app.post("/admin/members/add", data={"username": "x"}).status_code == 404
