"""Shared fixtures for the web tests (API and pages): an app on each database backend.

- ``migrated_url``: a migrated, empty database: SQLite, and PostgreSQL when
  SYSTEMIC_TEST_PG_URL is set (tests using it run once per backend);
- ``app``: the secured workspace app (``create_app(..., secure=True)``) on it,
  serving the seeded ``default`` workspace, whose admin is ``ada``;
- ``client``: a ``TestClient`` for ``app``, signed in as ``ada``, sending the
  session's CSRF token with every request (as htmx does from ``hx-headers`` on
  ``<body>``);
- ``add_user(store, username, role)``: a user with a role (in the default workspace
  unless ``workspace_id`` is given);
- ``sign_in(client, username)``: sign a client in through the ``/login`` form.

Argon2 costs about half a second a hash on this machine, so the fixtures hash
the test password once and the ``client`` fixture opens its session the way a
successful sign-in does (``new_session`` signed with the app's key) instead of
checking the password again; the sign-in form itself is tested in
``test_auth_*.py`` and by the browser test.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from systemic.store import Store, open_store
from systemic.store.accounts import UserAccount, hash_password, set_role, start_session
from systemic.store.repository import ensure_default_workspace
from systemic.web.app import create_app
from systemic.web.security import SecuritySettings
from systemic.web.security.audit_log import watch_sessions
from systemic.web.security.session import SessionCodec, new_session
from tests.store.databases import (  # noqa: F401  (fixtures shared with the store tests)
    _pg_migrated,
    _sqlite_template,
    migrated_url,
)

SECRET = "web-tests-session-secret-0123456789abcdef"
PASSWORD = "a long pass phrase for tests"
ADMIN = "ada"


def security_settings() -> SecuritySettings:
    """The settings of the test apps (a fixed signing key, so tests can read sessions)."""
    return SecuritySettings(secret_key=SECRET)


def session_csrf(client: TestClient) -> str:
    """The CSRF token of the client's session (what the pages embed)."""
    data = SessionCodec(SECRET, max_age=3600).load(client.cookies.get("systemic_session"))
    assert data is not None, "the client is not signed in"
    return str(data["csrf"])


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost takes about a second here; these tests are not about
    the hash, so they use the same algorithm at a low cost (as tests/trust does)."""
    from argon2 import PasswordHasher

    from systemic.store import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=1024)
    monkeypatch.setattr(accounts, "_HASHER", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("dummy"))


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def add_user(
    store: Store, username: str, role: str | None, workspace_id: str | None = None
) -> UserAccount:
    """A user whose password is ``PASSWORD`` with ``role`` in a workspace (default one).

    Made in a session the audit trail does not watch: its listener writes a
    membership's id as 65 characters into a 64-character column, which PostgreSQL
    refuses (reported to the trust engineer).
    """
    with Session(store.engine, expire_on_commit=False) as session:
        user = UserAccount(
            id=uuid.uuid4().hex,
            username=username,
            display_name=username.capitalize(),
            password_hash=_password_hash(),
            disabled=False,
            created_at=datetime.now(UTC),
        )
        session.add(user)
        session.flush()
        if role is not None:
            workspace_id = workspace_id or ensure_default_workspace(session).id
            set_role(session, username, workspace_id, role)
        session.commit()
        session.expunge(user)
        return user


def open_session(client: TestClient, user: UserAccount) -> TestClient:
    """Give ``client`` the session (a server-side row and the cookie naming it) that a
    successful sign-in of ``user`` gives."""
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.session() as session:
        secret = start_session(session, user.id, max_age=timedelta(hours=1))
        session.commit()
    cookie = SessionCodec(SECRET, max_age=3600).dump(new_session(user.id, secret))
    client.cookies.set("systemic_session", cookie)
    client.headers["X-CSRF-Token"] = session_csrf(client)
    return client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Sign ``client`` in through the sign-in form and send its CSRF token from now on."""
    client.headers.pop("X-CSRF-Token", None)
    client.cookies.clear()
    page = client.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": found.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = session_csrf(client)
    return client


def sign_in_browser(  # type: ignore[no-untyped-def]
    page, url: str, username: str, password: str, shown_as: str, *, path: str = "/"
) -> None:
    """Sign in through the sign-in page in Chromium, as a person would: open ``path``,
    which asks to sign in first, and wait until the header shows who is signed in."""
    from playwright.sync_api import expect

    page.goto(url + path)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".signed-in")).to_contain_text(shown_as)


def add_learn_folder(database: Path, learn_dir: Path, name: str = "town") -> None:
    """Bring a learn output folder into the workspace at ``database`` (as amira)."""
    from systemic.store import open_store
    from systemic.store.learn_results import add_learn_result
    from systemic.store.repository import pick_workspace

    store = open_store(database)
    with store.session() as session:
        add_learn_result(session, pick_workspace(session).id, name, learn_dir, actor="amira")
        session.commit()
    store.dispose()


def fill_live_measure(page, *, locality: str = "North") -> None:  # type: ignore[no-untyped-def]
    """On an open measure form: the failure-demand share in ``locality`` from the learn
    result ``town``'s series, drawn as a p-chart, lower is better (the browser tests'
    live measure)."""
    page.locator("[name=name]").fill(f"Failure-demand share in {locality}")
    page.locator("[name=kind]").select_option("demand")
    page.locator("[name=data_source]").select_option("learn")
    page.locator("[name=learn_result]").select_option("town")
    page.locator("[name=series_name]").select_option("failure_demand_share")
    page.locator("[name=locality]").fill(locality)
    page.locator("[name=chart]").select_option("p")
    page.locator("[name=improvement]").select_option("decrease")


@pytest.fixture(scope="session")
def _shared_app() -> Iterator[FastAPI]:
    # Building the app's routes takes a noticeable part of a second; tests share one
    # app and each gets its own database (see ``app``).
    store = open_store("sqlite://")
    yield create_app(store=store, security=security_settings())
    store.dispose()


@pytest.fixture
def app(_shared_app: FastAPI, migrated_url: str) -> Iterator[FastAPI]:  # noqa: F811
    """The secured workspace app on a fresh database (the default workspace, seeded;
    ``ada`` is its admin)."""
    store = open_store(migrated_url, migrate=False)
    watch_sessions(store.sessions)  # the audit trail of this database
    with store.session() as session:
        _shared_app.state.workspace = ensure_default_workspace(session).slug
        session.commit()
    _shared_app.state.admin = add_user(store, ADMIN, "admin")
    previous = _shared_app.state.store
    _shared_app.state.store = store
    yield _shared_app
    _shared_app.state.store = previous
    store.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A test client of ``app``, signed in as the workspace's admin."""
    with TestClient(app) as test_client:
        yield open_session(test_client, app.state.admin)
