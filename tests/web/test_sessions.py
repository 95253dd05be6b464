"""Sessions end when their user signs out or changes password (the review kept using a
saved cookie, with its CSRF token, for hours after signing out).

The cookie names a server-side session: signing out deletes it, changing a
password (on the page or with ``systemic user password``) deletes all of the
user's sessions, so a copy of the cookie stops working at once.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from systemic.cli import app as cli
from systemic.web.app import create_app
from tests.web.conftest import PASSWORD, add_user, security_settings, sign_in

NEW_PASSWORD = "another long pass phrase entirely"


def _copy(client: TestClient, app: FastAPI) -> TestClient:
    """Another browser holding a copy of ``client``'s cookie and CSRF token."""
    thief = TestClient(app)
    thief.cookies.set("systemic_session", client.cookies["systemic_session"])
    thief.headers["X-CSRF-Token"] = client.headers["X-CSRF-Token"]
    return thief


def _csrf_field(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_saved_cookie_stops_working_after_signing_out(app: FastAPI) -> None:
    add_user(app.state.store, "ed", "editor")
    browser = sign_in(TestClient(app), "ed")
    saved = _copy(browser, app)
    assert saved.get("/api/workspace").status_code == 200
    assert browser.post("/logout", follow_redirects=False).status_code == 303
    assert saved.get("/api/workspace").status_code == 401
    assert saved.post("/api/principles", json={"name": "after logout"}).status_code == 401
    assert saved.get("/mission", follow_redirects=False).headers["location"].startswith("/login")


def test_signing_out_one_browser_leaves_the_others_signed_in(app: FastAPI) -> None:
    add_user(app.state.store, "ed", "editor")
    laptop = sign_in(TestClient(app), "ed")
    phone = sign_in(TestClient(app), "ed")
    laptop.post("/logout")
    assert phone.get("/api/workspace").status_code == 200


def test_changing_the_password_on_the_page_ends_every_other_session(app: FastAPI) -> None:
    add_user(app.state.store, "ed", "editor")
    browser = sign_in(TestClient(app), "ed")
    elsewhere = sign_in(TestClient(app), "ed")
    stolen = _copy(browser, app)
    form = browser.get("/account/password")
    assert form.status_code == 200 and "Current password" in form.text
    response = browser.post(
        "/account/password",
        data={
            "csrf_token": _csrf_field(form.text),
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:400]
    assert elsewhere.get("/api/workspace").status_code == 401
    assert stolen.get("/api/workspace").status_code == 401
    # This browser carries on with a fresh session (and a fresh CSRF token).
    browser.headers.pop("X-CSRF-Token")
    assert "signed out" in browser.get("/account/password?changed=1").text
    sign_in(TestClient(app), "ed", NEW_PASSWORD)
    old = TestClient(app)
    page = old.get("/login")
    refused = old.post(
        "/login",
        data={"username": "ed", "password": PASSWORD, "csrf_token": _csrf_field(page.text)},
    )
    assert refused.status_code == 401


def test_the_page_refuses_a_wrong_current_password_and_a_mismatch(app: FastAPI) -> None:
    add_user(app.state.store, "ed", "editor")
    browser = sign_in(TestClient(app), "ed")
    base = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    wrong = browser.post(
        "/account/password",
        data={**base, "current_password": "not it at all, no", "confirm_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and "current password is not right" in wrong.text
    mismatch = browser.post("/account/password", data={**base, "confirm_password": "other"})
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    short = browser.post(
        "/account/password", data={**base, "new_password": "short", "confirm_password": "short"}
    )
    assert short.status_code == 422 and "at least 12 characters" in short.text
    assert browser.get("/api/workspace").status_code == 200  # still signed in


def test_systemic_user_password_ends_the_users_sessions(tmp_path: Path) -> None:
    db = str(tmp_path / "ws.db")
    app = create_app(db, security=security_settings())
    add_user(app.state.store, "ed", "admin")
    browser = sign_in(TestClient(app), "ed")
    assert browser.get("/api/workspace").status_code == 200
    secret = tmp_path / "new-password"
    secret.write_text(NEW_PASSWORD + "\n")
    result = CliRunner().invoke(
        cli, ["user", "password", "ed", "--password-file", str(secret), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "1 signed-in session(s) ended" in result.output
    assert browser.get("/api/workspace").status_code == 401
    sign_in(TestClient(app), "ed", NEW_PASSWORD)
    app.state.store.dispose()
