"""Shared fixtures for the web tests (API and pages): an app on each database backend.

- ``migrated_url``: a migrated, empty database: SQLite, and PostgreSQL when
  SYSTEMIC_TEST_PG_URL is set (tests using it run once per backend);
- ``app``: the workspace app on it, serving the seeded ``default`` workspace;
- ``client``: a ``TestClient`` for ``app``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.store import open_store
from systemic.store.repository import ensure_default_workspace
from systemic.web.app import create_app
from tests.store.databases import (  # noqa: F401  (fixtures shared with the store tests)
    _pg_migrated,
    _sqlite_template,
    migrated_url,
)


@pytest.fixture(scope="session")
def _shared_app() -> Iterator[FastAPI]:
    # Building the app's routes takes a noticeable part of a second; tests share one
    # app and each gets its own database (see ``app``).
    store = open_store("sqlite://")
    yield create_app(store=store)
    store.dispose()


@pytest.fixture
def app(_shared_app: FastAPI, migrated_url: str) -> Iterator[FastAPI]:  # noqa: F811
    """The workspace app on a fresh database (the default workspace, seeded)."""
    store = open_store(migrated_url, migrate=False)
    with store.session() as session:
        _shared_app.state.workspace = ensure_default_workspace(session).slug
        session.commit()
    previous = _shared_app.state.store
    _shared_app.state.store = store
    yield _shared_app
    _shared_app.state.store = previous
    store.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A test client of ``app``."""
    with TestClient(app) as test_client:
        yield test_client
