"""Sign-in, roles, CSRF, API tokens, throttling and the audit trail on the workspace app.

The app is the one ``systemic serve`` runs (``create_app(...)``, secure by default); users
are made with ``add_user`` and sign in through the real ``/login`` form.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.store.accounts import create_token, revoke_token, set_role
from systemic.store.repository import ensure_default_workspace
from tests.web.conftest import PASSWORD, add_user, open_session, session_csrf, sign_in


def _csrf_field(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def test_without_sign_in_pages_go_to_sign_in_and_the_api_answers_401(app: FastAPI) -> None:
    anonymous = TestClient(app)
    page = anonymous.get("/mission?x=1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/mission%3Fx%3D1"
    assert anonymous.get("/api/principles").status_code == 401
    assert anonymous.post("/api/principles", json={"name": "x"}).status_code == 401
    assert anonymous.post("/principles/new", data={"name": "x"}).status_code == 401
    assert anonymous.get("/api/export").status_code == 401
    # The sign-in page and the shipped CSS and script are served to anyone.
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/static/systemic.css").status_code == 200
    # A tampered session cookie is no session.
    anonymous.cookies.set("systemic_session", "forged.value.here")
    assert anonymous.get("/api/principles").status_code == 401


def test_signing_in_through_the_form_and_out(app: FastAPI) -> None:
    add_user(app.state.store, "ed", "editor")
    client = TestClient(app)
    page = client.get("/login?next=/mission")
    response = client.post(
        "/login",
        data={
            "username": "ed",
            "password": PASSWORD,
            "csrf_token": _csrf_field(page.text),
            "next": "/mission",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/mission"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    mission = client.get("/mission")
    assert mission.status_code == 200
    assert "Ed (editor)" in mission.text  # who is signed in, in the header
    # A wrong password is a message on the form, not a session.
    other = TestClient(app)
    wrong = other.post(
        "/login",
        data={
            "username": "ed",
            "password": "not the password at all",
            "csrf_token": _csrf_field(other.get("/login").text),
        },
    )
    assert wrong.status_code == 401 and "wrong password" in wrong.text
    # Signing out needs the CSRF token too, then the session is gone.
    token = _csrf_field(mission.text)
    assert client.post("/logout", data={}).status_code == 403
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/mission", follow_redirects=False).status_code == 303


def test_session_cookie_is_secure_over_https(app: FastAPI) -> None:
    add_user(app.state.store, "ed", "editor")
    client = TestClient(app, base_url="https://testserver")
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "ed", "password": PASSWORD, "csrf_token": _csrf_field(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_a_viewer_reads_but_cannot_change_anything(app: FastAPI, client: TestClient) -> None:
    made = client.post("/api/principles", json={"name": "Pull, not push"}).json()
    viewer = open_session(TestClient(app), add_user(app.state.store, "vera", "viewer"))
    assert viewer.get("/api/principles").status_code == 200
    shown = viewer.get(f"/principles/{made['id']}")
    assert shown.status_code == 200 and "Pull, not push" in shown.text
    # A viewer is not offered what they may not do.
    assert f"/principles/{made['id']}/edit" not in shown.text
    assert f"/principles/{made['id']}/delete" not in shown.text
    assert f"/principles/{made['id']}/edit" in client.get(f"/principles/{made['id']}").text
    assert viewer.post("/api/principles", json={"name": "x"}).status_code == 403
    assert viewer.patch(f"/api/principles/{made['id']}", json={"name": "y"}).status_code == 403
    assert viewer.delete(f"/api/principles/{made['id']}").status_code == 403
    assert viewer.post("/principles/new", data={"name": "x"}).status_code == 403
    assert viewer.post(f"/principles/{made['id']}/delete").status_code == 403
    assert viewer.get("/api/export").status_code == 403
    assert viewer.get("/admin/audit-trail").status_code == 403
    assert [p["name"] for p in client.get("/api/principles").json()] == ["Pull, not push"]


def test_an_editor_changes_objects_but_not_administration(app: FastAPI) -> None:
    editor = open_session(TestClient(app), add_user(app.state.store, "ed", "editor"))
    made = editor.post("/api/principles", json={"name": "Pull, not push"})
    assert made.status_code == 201
    assert editor.delete(f"/api/principles/{made.json()['id']}").status_code == 204
    assert editor.get("/api/export").status_code == 403
    assert editor.post("/api/import", json={}).status_code == 403
    assert editor.get("/api/audit-trail").status_code == 403
    assert editor.get("/admin/audit-trail").status_code == 403


def test_csrf_is_checked_on_every_change_made_with_a_session(app: FastAPI) -> None:
    editor = open_session(TestClient(app), add_user(app.state.store, "ed", "editor"))
    token = editor.headers.pop("X-CSRF-Token")
    assert editor.post("/api/principles", json={"name": "a"}).status_code == 403
    wrong = {"X-CSRF-Token": "not-the-token"}
    assert editor.post("/api/principles", json={"name": "a"}, headers=wrong).status_code == 403
    forged = editor.post("/principles/new", data={"name": "a", "csrf_token": "nope"})
    assert forged.status_code == 403
    ok = editor.post("/api/principles", json={"name": "a"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201
    # Every form carries the token in a hidden field, and htmx sends it from <body>.
    form = editor.get("/principles/new")
    assert _csrf_field(form.text) == token
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in form.text
    posted = editor.post(
        "/principles/new", data={"name": "From the form", "csrf_token": _csrf_field(form.text)}
    )
    assert posted.status_code == 200 and "From the form" in posted.text
    page = editor.get(f"/principles/{ok.json()['id']}")
    forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', page.text, re.S)
    assert forms and all(f'name="csrf_token" value="{token}"' in f for f in forms)


def test_api_tokens_work_without_csrf_and_stop_when_revoked(app: FastAPI) -> None:
    add_user(app.state.store, "bot", "editor")
    with app.state.store.session() as session:
        secret, row = create_token(session, "bot", "nightly import")
        session.commit()
        token_id = row.id
    script = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    made = script.post("/api/principles", json={"name": "Made by a script"})
    assert made.status_code == 201
    history = script.get("/api/history?kind=principle").json()
    assert [h["actor"] for h in history] == ["bot"]
    assert script.get("/api/export").status_code == 403  # an editor's token is an editor
    with app.state.store.session() as session:
        revoke_token(session, token_id)
        session.commit()
    assert script.get("/api/principles").status_code == 401
    bogus = TestClient(app, headers={"Authorization": "Bearer syst_not-a-real-token"})
    assert bogus.get("/api/principles").status_code == 401


def test_sign_in_is_throttled_after_repeated_failures(app: FastAPI) -> None:
    add_user(app.state.store, "ed", "editor")
    client = TestClient(app)

    def attempt(password: str) -> int:
        page = client.get("/login")
        data = {"username": "ed", "password": password, "csrf_token": _csrf_field(page.text)}
        return client.post("/login", data=data, follow_redirects=False).status_code

    assert [attempt("wrong guess number one") for _ in range(5)] == [401] * 5
    # Locked now: even the right password is refused for a while, with a message.
    assert attempt(PASSWORD) == 429
    page = client.get("/login")
    data = {"username": "ed", "password": PASSWORD, "csrf_token": _csrf_field(page.text)}
    locked = client.post("/login", data=data)
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert 'role="alert"' in locked.text
    # Another user is not locked out.
    add_user(app.state.store, "vera", "viewer")
    page = client.get("/login")
    vera = client.post(
        "/login",
        data={"username": "vera", "password": PASSWORD, "csrf_token": _csrf_field(page.text)},
        follow_redirects=False,
    )
    assert vera.status_code == 303


def test_audit_trail_records_changes_sign_ins_exports_and_roles(
    app: FastAPI, client: TestClient
) -> None:
    store = app.state.store
    made = client.post("/api/principles", json={"name": "Pull, not push"}).json()
    client.patch(f"/api/principles/{made['id']}", json={"name": "Pull, never push"})
    client.delete(f"/api/principles/{made['id']}")
    assert client.get("/api/export").status_code == 200
    add_user(store, "ed", "viewer")
    # A role change through the store, as `systemic user role` makes it.
    with store.session() as session:
        set_role(session, "ed", ensure_default_workspace(session).id, "editor")
        session.commit()
    sign_in(TestClient(app), "ed")
    trail = client.get("/api/audit-trail?limit=500").json()
    by_action: dict[str, list[dict]] = {}
    for event in trail:
        by_action.setdefault(event["action"], []).append(event)
    created = [e for e in by_action["create"] if e["object_id"] == made["id"]]
    assert created and created[0]["actor"] == "ada"
    assert created[0]["after"]["name"] == "Pull, not push"
    updated = [e for e in by_action["update"] if e["object_id"] == made["id"]]
    assert updated[0]["before"]["name"] == "Pull, not push"
    assert updated[0]["after"]["name"] == "Pull, never push"
    deleted = [e for e in by_action["delete"] if e["object_id"] == made["id"]]
    assert deleted[0]["before"]["name"] == "Pull, never push" and deleted[0]["after"] is None
    assert by_action["export"][0]["actor"] == "ada"
    assert [e["actor"] for e in by_action["login"]] == ["ed"]
    changed = by_action["change_role"][0]
    assert changed["before"]["role"] == "viewer" and changed["after"]["role"] == "editor"
    # The admin page lists the same trail, newest first.
    page = client.get("/admin/audit-trail")
    assert page.status_code == 200
    actions = re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", page.text)
    assert actions[: len(trail)] == [e["action"] for e in trail][: len(actions)]
    assert {"create", "update", "delete", "export", "login"} <= set(actions)
    only_exports = client.get("/admin/audit-trail?action=export").text
    assert set(re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", only_exports)) == {
        "export"
    }


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_see_the_audit_trail_link(app: FastAPI, role: str) -> None:
    user = open_session(TestClient(app), add_user(app.state.store, "someone", role))
    assert "/admin/audit-trail" not in user.get("/").text
    assert session_csrf(user)


def test_the_bare_factory_is_secure_unless_asked_to_be_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from systemic.web.app import create_app

    guarded = TestClient(create_app(tmp_path / "guarded.db"))
    assert guarded.get("/api/workspace").status_code == 401
    assert guarded.post("/api/principles", json={"name": "x"}).status_code == 401
    page = guarded.get("/mission", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    open_app = TestClient(create_app(tmp_path / "open.db", secure=False))
    assert open_app.get("/api/workspace").json()["slug"] == "default"
    assert open_app.post("/api/principles", json={"name": "x"}).status_code == 201
