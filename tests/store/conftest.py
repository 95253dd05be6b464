"""Fixtures of the store tests: empty and migrated databases on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from systemic.store import Store, open_store
from tests.store.databases import (  # noqa: F401  (fixtures used by the tests)
    BACKENDS,
    _pg_migrated,
    _sqlite_template,
    database_url,
    migrated_url,
)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on SQLite, and on PostgreSQL when SYSTEMIC_TEST_PG_URL is set."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(migrated_url: str) -> Iterator[Store]:  # noqa: F811
    """A migrated store with no workspace yet."""
    opened = open_store(migrated_url, migrate=False)
    yield opened
    opened.dispose()
