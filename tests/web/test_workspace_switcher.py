"""Switching between one's own workspaces, and never into anyone else's.

``multi`` is an editor in the council's workspace (the default) and a viewer
in the NHS trust's; ``solo`` belongs only to a third workspace, the county's.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.store.repository import create_workspace, ensure_default_workspace
from tests.web.conftest import add_user, open_session


@pytest.fixture
def three(app: FastAPI) -> dict[str, str]:
    """Workspace ids by slug: the default (council), trust and county."""
    with app.state.store.session() as session:
        ids = {
            "default": ensure_default_workspace(session).id,
            "trust": create_workspace(session, "NHS trust", "trust", seed=False).id,
            "county": create_workspace(session, "County council", "county", seed=False).id,
        }
        session.commit()
    return ids


def _switcher(html: str) -> dict[str, str]:
    """Workspace id -> option text of the header's switcher ({} when there is none)."""
    form = re.search(r'<form[^>]*action="/workspace/switch".*?</form>', html, re.S)
    if form is None:
        return {}
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', form.group(0)))


def test_a_member_of_several_workspaces_switches_between_them(
    app: FastAPI, three: dict[str, str]
) -> None:
    multi_user = add_user(app.state.store, "multi", "editor")
    add_user(app.state.store, "solo", "admin", workspace_id=three["county"])
    with app.state.store.session() as session:
        from systemic.store.accounts import set_role

        set_role(session, "multi", three["trust"], "viewer")
        session.commit()
    multi = open_session(TestClient(app), multi_user)

    # Only multi's own workspaces are offered; the county's is not even named.
    offered = _switcher(multi.get("/").text)
    assert set(offered) == {three["default"], three["trust"]}
    assert "County council" not in multi.get("/").text
    made = multi.post("/api/principles", json={"name": "Council's own principle"}).json()

    switched = multi.post("/workspace/switch", data={"workspace": three["trust"]})
    assert switched.status_code == 200  # followed to the trust's dashboard
    assert multi.get("/api/workspace").json()["slug"] == "trust"
    # In the trust, multi is a viewer and sees none of the council's objects.
    assert multi.get("/api/principles").json() == []
    assert multi.get(f"/api/principles/{made['id']}").status_code == 404
    assert multi.get(f"/principles/{made['id']}").status_code == 404
    assert multi.post("/api/principles", json={"name": "x"}).status_code == 403
    export = multi.get("/api/history").json()
    assert made["id"] not in str(export)

    back = multi.post("/workspace/switch", data={"workspace": three["default"]})
    assert back.status_code == 200
    assert multi.get("/api/workspace").json()["slug"] == "default"
    assert [p["name"] for p in multi.get("/api/principles").json()] == ["Council's own principle"]

    # Each switch is filed in the audit trail of the workspace switched to.
    from sqlalchemy import select

    from systemic.store.accounts import AuditEvent

    with app.state.store.session() as session:
        switches = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "switch_workspace")
        ).all()
        filed = [(e.actor, e.workspace_id, e.after["role"]) for e in switches]
    assert sorted(filed) == sorted(
        [("multi", three["trust"], "viewer"), ("multi", three["default"], "editor")]
    )


def test_switching_into_a_workspace_one_has_no_role_in_changes_nothing(
    app: FastAPI, three: dict[str, str]
) -> None:
    multi_user = add_user(app.state.store, "multi", "editor")
    solo = open_session(
        TestClient(app), add_user(app.state.store, "solo", "admin", workspace_id=three["county"])
    )
    solo.post("/api/principles", json={"name": "County's principle"})
    multi = open_session(TestClient(app), multi_user)
    refused = multi.post("/workspace/switch", data={"workspace": three["county"]})
    assert refused.status_code == 403
    assert multi.get("/api/workspace").json()["slug"] == "default"
    # A hand-made cookie naming the county's workspace is ignored too.
    multi.cookies.set("systemic_workspace", three["county"])
    assert multi.get("/api/workspace").json()["slug"] == "default"
    assert "County's principle" not in multi.get("/api/principles").text
    # Someone with one workspace is offered no switcher at all.
    assert _switcher(solo.get("/").text) == {}
    assert solo.get("/api/workspace").json()["slug"] == "county"


def test_switching_needs_the_csrf_token(app: FastAPI, three: dict[str, str]) -> None:
    multi_user = add_user(app.state.store, "multi", "editor")
    with app.state.store.session() as session:
        from systemic.store.accounts import set_role

        set_role(session, "multi", three["trust"], "viewer")
        session.commit()
    multi = open_session(TestClient(app), multi_user)
    token = multi.headers.pop("X-CSRF-Token")
    assert multi.post("/workspace/switch", data={"workspace": three["trust"]}).status_code == 403
    assert multi.get("/api/workspace").json()["slug"] == "default"
    done = multi.post("/workspace/switch", data={"workspace": three["trust"], "csrf_token": token})
    assert done.status_code == 200
    assert multi.get("/api/workspace").json()["slug"] == "trust"


def test_a_script_names_its_workspace_and_is_refused_anywhere_else(
    app: FastAPI, three: dict[str, str]
) -> None:
    from systemic.store.accounts import create_token, set_role

    add_user(app.state.store, "multi", "editor")
    with app.state.store.session() as session:
        set_role(session, "multi", three["trust"], "editor")
        secret, _ = create_token(session, "multi", "nightly")
        session.commit()
    script = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    assert script.get("/api/workspace").json()["slug"] == "default"
    trust = {"X-Systemic-Workspace": "trust"}
    made = script.post("/api/principles", json={"name": "Trust's own"}, headers=trust)
    assert made.status_code == 201 and made.json()["workspace_id"] == three["trust"]
    by_id = {"X-Systemic-Workspace": three["trust"]}
    assert [p["name"] for p in script.get("/api/principles", headers=by_id).json()] == [
        "Trust's own"
    ]
    assert script.get("/api/principles").json() == []  # the default workspace's
    # A workspace the user has no role in, or none at all: refused, not redirected.
    for name in ("county", three["county"], "no-such-workspace"):
        refused = script.post(
            "/api/principles", json={"name": "x"}, headers={"X-Systemic-Workspace": name}
        )
        assert refused.status_code == 403, name
        assert (
            script.get("/api/principles", headers={"X-Systemic-Workspace": name}).status_code == 403
        )
