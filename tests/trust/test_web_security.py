"""Sign-in, session cookies, CSRF, API tokens, roles and the audit trail on real apps.

A tiny FastAPI app of our own checks the pieces one by one; the workspace app
(``create_app``) with ``install_security`` checks that one call protects every
route, including isolation between two workspaces on one server.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI, Form, Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from systemic.store import Store, open_store
from systemic.store.accounts import AuditEvent, ThrottlePolicy, create_token, create_user, set_role
from systemic.store.repository import create_workspace, ensure_default_workspace
from systemic.web.security import (
    AuthenticatedUser,
    SecuritySettings,
    current_user,
    install_security,
    require_role,
)
from tests.trust.routes import get_paths

PASSWORD = "four words make a phrase"
SECRET = "test-session-secret-0123456789-abcdefghij"


def _settings(**kw) -> SecuritySettings:  # type: ignore[no-untyped-def]
    return SecuritySettings(secret_key=SECRET, **kw)


def _users(store: Store, workspace_slug: str = "default") -> str:
    with store.session() as s:
        ws = ensure_default_workspace(s)
        for name, role in (("vera", "viewer"), ("ed", "editor"), ("ada", "admin")):
            create_user(s, name, PASSWORD)
            set_role(s, name, ws.id, role)
        create_user(s, "outsider", PASSWORD)
        s.commit()
        return ws.id


def tiny_app(store: Store, settings: SecuritySettings) -> FastAPI:
    app = FastAPI()
    app.state.workspace = "default"

    # Each route declares who may call it (the middleware no longer guesses from the URL).
    @app.get("/things", dependencies=[Depends(require_role("viewer"))])
    def things(user: AuthenticatedUser = Depends(current_user)) -> dict:
        return {"user": user.username, "role": user.role, "via": user.via}

    @app.post("/things", dependencies=[Depends(require_role("editor"))])
    def add_thing(request: Request, name: str = Form(...)) -> dict:
        return {"added": name, "actor": request.headers.get("x-systemic-actor")}

    @app.post("/api/things", dependencies=[Depends(require_role("editor"))])
    def add_thing_api(request: Request) -> dict:
        return {"actor": request.headers.get("x-systemic-actor")}

    @app.get("/admin/panel")
    def panel(user: AuthenticatedUser = Depends(require_role("admin"))) -> dict:
        return {"ok": True}

    install_security(app, store, settings)
    return app


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/"):  # type: ignore[no-untyped-def]
    page = client.get(f"/login?next={next_url}")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf, "next": next_url},
        follow_redirects=False,
    )


def session_csrf(client: TestClient) -> str:
    return client.get("/things").json() and client.app.state.last_csrf  # pragma: no cover


@pytest.fixture
def tiny(sqlite_store: Store) -> TestClient:
    _users(sqlite_store)
    return TestClient(tiny_app(sqlite_store, _settings()), base_url="http://testserver")


def _csrf_of(client: TestClient, store: Store) -> str:
    """The CSRF token of the client's session, as the page would embed it."""
    from systemic.web.security.session import SessionCodec

    codec = SessionCodec(SECRET, max_age=3600)
    return codec.load(client.cookies.get("systemic_session"))["csrf"]


def test_anonymous_is_sent_to_sign_in_or_refused(tiny: TestClient) -> None:
    page = tiny.get("/things?x=1", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/things%3Fx%3D1"
    assert tiny.post("/api/things").status_code == 401
    assert tiny.post("/things", data={"name": "x"}).status_code == 401


def test_session_cookie_flags_and_sign_in(tiny: TestClient, sqlite_store: Store) -> None:
    response = sign_in(tiny, "vera", next_url="/things")
    assert response.status_code == 303 and response.headers["location"] == "/things"
    cookie = response.headers["set-cookie"]
    assert "systemic_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in this test
    assert tiny.get("/things").json() == {"user": "vera", "role": "viewer", "via": "session"}
    # A tampered cookie is no session at all.
    # Replace the cookie where it is kept (same domain), so the tampered value is the
    # only one sent: a second cookie of the same name would leave the genuine one in
    # the jar, and the request would still carry it.
    (kept,) = [c for c in tiny.cookies.jar if c.name == "systemic_session"]
    value = kept.value
    tiny.cookies.delete("systemic_session")
    tiny.cookies.set(
        "systemic_session",
        value[:-2] + ("AA" if value[-2:] != "AA" else "BB"),
        domain=kept.domain,
        path=kept.path,
    )
    assert tiny.get("/things", follow_redirects=False).status_code == 303


def test_secure_cookie_over_https_and_behind_a_trusted_proxy(sqlite_store: Store) -> None:
    _users(sqlite_store)
    https = TestClient(tiny_app(sqlite_store, _settings()), base_url="https://testserver")
    assert "Secure" in sign_in(https, "vera").headers["set-cookie"]
    proxied = TestClient(
        tiny_app(sqlite_store, _settings(trust_proxy_headers=True)),
        base_url="http://testserver",
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in sign_in(proxied, "vera").headers["set-cookie"]
    untrusted = TestClient(
        tiny_app(sqlite_store, _settings()),
        base_url="http://testserver",
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" not in sign_in(untrusted, "vera").headers["set-cookie"]


def test_wrong_password_open_redirect_and_login_csrf(tiny: TestClient) -> None:
    assert sign_in(tiny, "vera", "not the password!").status_code == 401
    assert sign_in(tiny, "vera", next_url="//evil.example/").headers["location"] == "/"
    tiny.cookies.clear()
    forged = tiny.post(
        "/login", data={"username": "vera", "password": PASSWORD, "csrf_token": "guess"}
    )
    assert forged.status_code == 403


def test_a_second_sign_in_page_does_not_expire_the_first(tiny: TestClient) -> None:
    """Browsers ask for /favicon.ico, which lands on the sign-in page; so may another tab."""
    first = tiny.get("/login?next=/things")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', first.text).group(1)
    icon = tiny.get("/favicon.ico")  # follows the redirect to /login?next=/favicon.ico
    assert icon.status_code == 200 and "Sign in" in icon.text
    signed_in = tiny.post(
        "/login",
        data={"username": "vera", "password": PASSWORD, "csrf_token": csrf, "next": "/things"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/things"
    # A stranger's cookie value is still no use without the matching form field.
    tiny.cookies.clear()
    tiny.cookies.set("systemic_login_csrf", "x" * 40)
    page = tiny.get("/login")
    assert 'value="' + "x" * 40 + '"' in page.text  # reused: it is this browser's own cookie
    forged = tiny.post("/login", data={"username": "vera", "password": PASSWORD})
    assert forged.status_code == 403


def test_csrf_checked_on_every_state_change_by_session(
    tiny: TestClient, sqlite_store: Store
) -> None:
    sign_in(tiny, "ed")
    token = _csrf_of(tiny, sqlite_store)
    assert tiny.post("/things", data={"name": "a"}).status_code == 403
    assert tiny.post("/things", data={"name": "a", "csrf_token": "wrong"}).status_code == 403
    ok = tiny.post("/things", data={"name": "a", "csrf_token": token})
    assert ok.status_code == 200 and ok.json() == {"added": "a", "actor": "ed"}
    multipart = tiny.post("/things", files={"name": (None, "b"), "csrf_token": (None, token)})
    assert multipart.status_code == 200 and multipart.json()["added"] == "b"
    by_header = tiny.post("/api/things", headers={"X-CSRF-Token": token})
    assert by_header.status_code == 200
    assert tiny.post("/api/things").status_code == 403
    # The actor cannot be spoofed: the header is replaced by the signed-in user.
    spoof = tiny.post("/api/things", headers={"X-CSRF-Token": token, "X-Systemic-Actor": "ada"})
    assert spoof.json() == {"actor": "ed"}


def test_roles_declared_on_the_routes(tiny: TestClient, sqlite_store: Store) -> None:
    sign_in(tiny, "vera")
    token = _csrf_of(tiny, sqlite_store)
    assert tiny.get("/things").status_code == 200
    refused = tiny.post("/api/things", headers={"X-CSRF-Token": token})
    assert refused.status_code == 403 and "editor" in refused.json()["detail"]
    assert tiny.get("/admin/panel").status_code == 403
    tiny.cookies.clear()
    sign_in(tiny, "ada")
    assert tiny.get("/admin/panel").json() == {"ok": True}
    tiny.cookies.clear()
    sign_in(tiny, "outsider")  # a user with no role in this workspace
    assert tiny.get("/things").status_code == 403


def test_api_tokens_are_csrf_exempt_and_revocable(tiny: TestClient, sqlite_store: Store) -> None:
    with sqlite_store.session() as s:
        secret, row = create_token(s, "ed", "script")
        s.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert tiny.post("/api/things", headers=bearer).json() == {"actor": "ed"}
    assert tiny.get("/things", headers=bearer).json()["via"] == "token"
    assert tiny.get("/things", headers={"Authorization": "Bearer syst_forged"}).status_code == 401
    from systemic.store.accounts import revoke_token

    with sqlite_store.session() as s:
        revoke_token(s, row.id)
        s.commit()
    assert tiny.post("/api/things", headers=bearer).status_code == 401


def test_throttling_through_the_form(sqlite_store: Store) -> None:
    _users(sqlite_store)
    client = TestClient(
        tiny_app(sqlite_store, _settings(throttle=ThrottlePolicy(max_failures_per_user=3)))
    )
    for _ in range(3):
        assert sign_in(client, "ed", "wrong password!").status_code == 401
    locked = sign_in(client, "ed")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    with sqlite_store.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("login_failed") == 3 and "login" not in actions


def test_logout_ends_the_session(tiny: TestClient, sqlite_store: Store) -> None:
    sign_in(tiny, "vera")
    token = _csrf_of(tiny, sqlite_store)
    assert (
        tiny.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False).status_code
        == 303
    )
    assert tiny.get("/things", follow_redirects=False).status_code == 303


# ------------------------------------------------------------ the workspace app


@pytest.fixture
def workspace_app(tmp_path: Path) -> tuple[TestClient, Store]:
    from systemic.web.app import create_app

    store = open_store(tmp_path / "ws.db")
    _users(store)
    app = create_app(store=store, secure=False)
    install_security(app, store, _settings())
    return TestClient(app), store


def test_workspace_app_every_route_needs_sign_in(workspace_app) -> None:  # type: ignore[no-untyped-def]
    client, _ = workspace_app
    schema_paths = [p for p in get_paths(client.app) if "{" not in p]
    assert "/api/purpose_statements" in schema_paths and "/mission" in schema_paths
    for path in schema_paths:
        response = client.get(path, follow_redirects=False)
        if path == "/login":
            assert response.status_code == 200
        else:
            assert response.status_code in (303, 401), path


def test_workspace_app_roles_history_and_audit_trail(workspace_app) -> None:  # type: ignore[no-untyped-def]
    client, store = workspace_app
    body = {"text": "Help me stay at home", "voice": "I", "level": "person", "status": "draft"}
    sign_in(client, "vera")
    assert client.get("/api/purpose_statements").status_code == 200
    csrf = _csrf_of(client, store)
    assert (
        client.post(
            "/api/purpose_statements", json=body, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )
    client.cookies.clear()
    sign_in(client, "ed")
    csrf = _csrf_of(client, store)
    created = client.post(
        "/api/purpose_statements",
        json=body,
        headers={"X-CSRF-Token": csrf, "X-Systemic-Actor": "someone-else"},
    )
    assert created.status_code in (200, 201), created.text
    object_id = created.json()["id"]
    changed = client.patch(
        f"/api/purpose_statements/{object_id}",
        json={"status": "tested"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200
    history = client.get(f"/api/purpose_statements/{object_id}/history").json()
    assert {h["actor"] for h in history} == {"ed"}
    story = client.post(
        "/api/stories",
        json={"title": "Mrs K", "text": "my private words"},
        headers={"X-CSRF-Token": csrf},
    )
    assert story.status_code in (200, 201), story.text
    measure = client.post(
        "/api/measures", json={"name": "Days at home"}, headers={"X-CSRF-Token": csrf}
    ).json()
    linked = client.put(
        f"/api/measures/{measure['id']}/purpose_statements/{object_id}",
        headers={"X-CSRF-Token": csrf},
    )
    assert linked.status_code in (200, 201, 204), linked.text
    assert client.get("/api/audit-trail").status_code == 403
    # Export carries the whole workspace out: the route declares admin, however the
    # app was secured (here install_security on an app built open).
    assert client.get("/api/export").status_code == 403
    client.cookies.clear()
    sign_in(client, "ada")
    trail = client.get("/api/audit-trail").json()
    mine = [e for e in trail if e["object_id"] == object_id]
    assert [(e["action"], e["actor"]) for e in reversed(mine)] == [
        ("create", "ed"),
        ("update", "ed"),
    ]
    update = mine[0]
    assert update["before"]["status"] == "draft" and update["after"]["status"] == "tested"
    assert mine[1]["after"]["text"] == "Help me stay at home"
    (story_event,) = [e for e in trail if e["object_id"] == story.json()["id"]]
    assert "my private words" not in str(story_event) and "Mrs K" not in str(story_event)
    assert story_event["after"]["text"] == "(personal text withheld)"
    (link,) = [e for e in trail if e["action"] == "link"]
    assert (link["actor"], link["object_kind"], link["object_id"]) == (
        "ed",
        "measure",
        measure["id"],
    )
    assert object_id in str(link["after"])
    actions = {e["action"] for e in trail}
    assert {"login", "export"} <= actions


def test_workspaces_are_isolated(tmp_path: Path) -> None:
    from systemic.web.app import create_app

    store = open_store(tmp_path / "two.db")
    with store.session() as s:
        council = ensure_default_workspace(s)
        trust = create_workspace(s, name="NHS trust", slug="trust")
        create_user(s, "council_ed", PASSWORD)
        set_role(s, "council_ed", council.id, "editor")
        create_user(s, "trust_ed", PASSWORD)
        set_role(s, "trust_ed", trust.id, "editor")
        s.commit()
    council_app = create_app(store=store, workspace="default", secure=False)
    install_security(council_app, store, _settings())
    client = TestClient(council_app)
    sign_in(client, "trust_ed")
    paths = get_paths(council_app)
    assert len(paths) > 30
    for path in paths:
        concrete = re.sub(r"\{[^}]+\}", "x" * 32, path)
        response = client.get(concrete, follow_redirects=False)
        if path.startswith(("/login", "/static/")):  # public: the form and the CSS
            continue
        assert response.status_code == 403, (path, response.status_code)


def test_workspace_chosen_per_request_is_the_one_checked(tmp_path: Path) -> None:
    """With ``workspace_of`` choosing per request, routes serve the workspace the role was
    checked against (F's deps read ``request.state.workspace``)."""
    from systemic.web.app import create_app

    store = open_store(tmp_path / "per_request.db")
    with store.session() as s:
        ensure_default_workspace(s)
        trust = create_workspace(s, name="NHS trust", slug="trust")
        create_user(s, "trust_ed", PASSWORD)
        set_role(s, "trust_ed", trust.id, "editor")
        s.commit()

    def from_header(scope: dict) -> str | None:
        for key, value in scope["headers"]:
            if key == b"x-workspace":
                return value.decode()
        return "default"

    app = create_app(store=store, secure=False)
    install_security(app, store, _settings(workspace_of=from_header))
    client = TestClient(app)
    sign_in(client, "trust_ed")
    mine = client.get("/api/workspace", headers={"X-Workspace": "trust"})
    assert mine.status_code == 200 and mine.json()["slug"] == "trust"
    assert client.get("/api/workspace").status_code == 403
    assert client.get("/api/stories", headers={"X-Workspace": "default"}).status_code == 403


def test_security_headers_and_no_caching_of_personal_pages(tiny: TestClient) -> None:
    login = tiny.get("/login")
    assert login.headers["x-frame-options"] == "DENY"
    assert login.headers["x-content-type-options"] == "nosniff"
    assert tiny.get("/api/things").headers["x-frame-options"] == "DENY"  # a refusal too
    sign_in(tiny, "vera")
    page = tiny.get("/things")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "same-origin"
