"""``POST /api/import`` tells a workspace admin nothing about other workspaces, and
only a site admin may create a workspace.

The review's admin of one workspace learnt whether a workspace existed (404 when
it did, 201 and a new workspace when it did not) and any workspace admin could
create workspaces.
"""

from __future__ import annotations

import json
import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from systemic.store.accounts import UserAccount
from systemic.store.repository import create_workspace
from tests.web.conftest import add_user, open_session


def _trust_admin(app: FastAPI, *, site_admin: bool = False) -> TestClient:
    with app.state.store.session() as session:
        trust_id = create_workspace(session, "Health trust", "trust", seed=False).id
        session.commit()
    user = add_user(app.state.store, "bea", "admin", trust_id)
    if site_admin:
        with app.state.store.session() as session:
            session.execute(
                update(UserAccount).where(UserAccount.id == user.id).values(site_admin=True)
            )
            session.commit()
    return open_session(TestClient(app), user)


def _named(document: dict, workspace_id: str, slug: str) -> dict:
    """The document as the export of another workspace (its id everywhere, its slug)."""
    other = json.loads(json.dumps(document).replace(document["workspace"]["id"], workspace_id))
    other["workspace"]["slug"] = slug
    return other


def test_naming_another_workspace_gets_one_answer_whether_or_not_it_exists(
    app: FastAPI, client: TestClient
) -> None:
    trust = _trust_admin(app)
    council = client.get("/api/export").json()  # an existing workspace
    missing = _named(council, uuid.uuid4().hex, "nowhere")  # one that does not exist
    answers = []
    for document in (council, missing):
        for replace in ("false", "true"):
            response = trust.post(f"/api/import?replace={replace}", json=document)
            answers.append((response.status_code, response.json()))
    assert answers == [answers[0]] * 4
    assert answers[0][0] == 403 and "only a site admin" in answers[0][1]["detail"]
    slugs = {w.slug for w in _workspaces(app)}
    assert slugs == {"default", "trust"}  # nothing created, nothing replaced


def _workspaces(app: FastAPI) -> list:
    from systemic.store.repository import list_workspaces

    with app.state.store.session() as session:
        return list(list_workspaces(session))


def test_object_ids_used_elsewhere_are_treated_like_any_new_id(
    app: FastAPI, client: TestClient
) -> None:
    taken = client.post("/api/principles", json={"name": "Council principle"}).json()["id"]
    trust = _trust_admin(app)
    kept = trust.post("/api/principles", json={"name": "Trust principle"}).json()["id"]
    document = trust.get("/api/export").json()
    template = next(p for p in document["objects"]["principle"] if p["id"] == kept)
    fresh = uuid.uuid4().hex
    for new_id, name in ((taken, "Copy of an id used elsewhere"), (fresh, "A new id")):
        document["objects"]["principle"].append({**template, "id": new_id, "name": name})
    response = trust.post("/api/import?replace=true", json=document)
    assert response.status_code == 201, response.text
    principles = {p["name"]: p["id"] for p in trust.get("/api/principles").json()}
    assert principles["Trust principle"] == kept  # the workspace's own ids stay
    # Both imported objects got new ids: which ids exist elsewhere makes no difference.
    assert principles["Copy of an id used elsewhere"] not in (taken, fresh)
    assert principles["A new id"] not in (taken, fresh)
    assert client.get(f"/api/principles/{taken}").json()["name"] == "Council principle"


def test_only_a_site_admin_creates_a_workspace(app: FastAPI, client: TestClient) -> None:
    site_admin = _trust_admin(app, site_admin=True)
    document = _named(site_admin.get("/api/export").json(), uuid.uuid4().hex, "new-trust")
    refused = client.post("/api/import", json=document)  # ada: a workspace admin only
    assert refused.status_code == 403
    made = site_admin.post("/api/import", json=document)
    assert made.status_code == 201, made.text
    assert made.json()["slug"] == "new-trust"
    council = client.get("/api/export").json()
    # A site admin still replaces only the workspace they work in.
    assert site_admin.post("/api/import?replace=true", json=council).status_code == 403


def test_an_admin_still_replaces_their_own_workspace(client: TestClient) -> None:
    client.post("/api/principles", json={"name": "Pull, not push"})
    document = client.get("/api/export").json()
    assert client.post("/api/import?replace=true", json=document).status_code == 201
    assert client.get("/api/export").json() == document
