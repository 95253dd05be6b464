"""Sign-in events reach the admins of the workspaces the user belongs to.

Signing in is server-wide, so ``login``, ``login_failed``, ``login_throttled``
and ``logout`` are filed in every workspace the user holds a role in, and an
admin of each reads them in their own audit trail; an admin of a workspace
the user does not belong to never sees them.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from systemic.store.accounts import set_role
from systemic.store.repository import create_workspace
from tests.web.conftest import add_user, open_session, sign_in


@pytest.fixture
def trust_and_county(app: FastAPI) -> dict[str, TestClient]:
    """Admins' clients of three workspaces: the council's (ada), the trust's, the county's;
    ``tess`` works only in the trust, ``multi`` in the council and the trust."""
    store = app.state.store
    with store.session() as session:
        trust = create_workspace(session, "NHS trust", "trust", seed=False)
        county = create_workspace(session, "County council", "county", seed=False)
        session.commit()
    add_user(store, "tess", "editor", workspace_id=trust.id)
    add_user(store, "multi", "viewer")
    with store.session() as session:
        set_role(session, "multi", trust.id, "editor")
        session.commit()
    return {
        "council": open_session(TestClient(app), app.state.admin),
        "trust": open_session(
            TestClient(app), add_user(store, "trust_admin", "admin", workspace_id=trust.id)
        ),
        "county": open_session(
            TestClient(app), add_user(store, "county_admin", "admin", workspace_id=county.id)
        ),
    }


def _try(client: TestClient, username: str, password: str) -> Response:
    """One attempt through the sign-in form."""
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    form = {"username": username, "password": password, "csrf_token": found.group(1)}
    return client.post("/login", data=form, follow_redirects=False)


def _events(admin: TestClient, actor: str) -> list[tuple[str, dict | None]]:
    trail = admin.get(f"/api/audit-trail?actor={actor}")
    assert trail.status_code == 200
    return [(e["action"], e["after"]) for e in reversed(trail.json())]


def test_a_sign_in_to_another_workspace_is_seen_by_that_workspace_s_admin(
    app: FastAPI, trust_and_county: dict[str, TestClient]
) -> None:
    admins = trust_and_county
    tess = TestClient(app)
    assert _try(TestClient(app), "tess", "wrong password").status_code == 401
    sign_in(tess, "tess")
    assert tess.post("/logout", follow_redirects=False).status_code == 303

    seen = _events(admins["trust"], "tess")
    assert [action for action, _ in seen] == ["login_failed", "login", "logout"]
    assert seen[1][1] == {"signed_in_to": "trust", "role": "editor"}
    # Neither the council's admin (the app's own workspace) nor the county's sees them.
    assert _events(admins["council"], "tess") == []
    assert _events(admins["county"], "tess") == []


def test_a_member_of_two_workspaces_is_seen_by_both_admins(
    app: FastAPI, trust_and_county: dict[str, TestClient]
) -> None:
    admins = trust_and_county
    multi = sign_in(TestClient(app), "multi")
    multi.post("/logout")
    council = _events(admins["council"], "multi")
    trust = _events(admins["trust"], "multi")
    assert [a for a, _ in council] == [a for a, _ in trust] == ["login", "logout"]
    # Both say where multi landed (the app's workspace) and the role held in each.
    assert council[0][1] == {"signed_in_to": "default", "role": "viewer"}
    assert trust[0][1] == {"signed_in_to": "default", "role": "editor"}
    assert _events(admins["county"], "multi") == []


def test_throttled_sign_ins_are_filed_for_the_user_s_admins(
    app: FastAPI, trust_and_county: dict[str, TestClient]
) -> None:
    admins = trust_and_county
    security = app.state.security
    original = security.throttle
    security.throttle = replace(original, max_failures_per_user=2)
    try:
        client = TestClient(app)
        for _ in range(2):
            assert _try(client, "tess", "bad password").status_code == 401
        assert _try(client, "tess", "any password").status_code == 429
    finally:
        security.throttle = original
    seen = _events(admins["trust"], "tess")
    assert [a for a, _ in seen] == ["login_failed", "login_failed", "login_throttled"]
    assert seen[2][1]["retry_after"] > 0
    assert _events(admins["council"], "tess") == []


def test_an_unknown_username_is_filed_server_wide(
    app: FastAPI, trust_and_county: dict[str, TestClient]
) -> None:
    from systemic.store.accounts import audit_trail

    assert _try(TestClient(app), "nobody", "a guess at a password").status_code == 401
    for admin in trust_and_county.values():
        assert _events(admin, "nobody") == []
    with app.state.store.session() as session:
        [event] = audit_trail(session, actor="nobody")
        assert (event.action, event.workspace_id) == ("login_failed", None)
