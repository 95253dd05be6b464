"""Test databases for the workspace: SQLite files, and PostgreSQL when configured.

- ``database_url(backend, tmp_path)``: an *empty* database (for migration tests);
  on PostgreSQL a fresh schema, dropped afterwards.
- the ``migrated_url`` fixture: a database already at the newest revision and
  empty of data. Migrating takes a second or two, so SQLite copies a file
  migrated once per test session, and PostgreSQL keeps one migrated schema per
  test worker and truncates it before each test.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from systemic.store.db import make_engine
from systemic.store.migrate import upgrade
from tests.conftest import pg_url

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


def _pg_base() -> str:
    base = pg_url()
    if not base:
        pytest.skip("SYSTEMIC_TEST_PG_URL is not set (see .ci/run)")
    return base


def _with_schema(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL whose connections use a new, empty schema (dropped afterwards)."""
    base = _pg_base()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_schema(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database on ``backend`` (skips when PostgreSQL is not set up)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'workspace.db'}"
    else:
        with pg_schema() as url:
            yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    engine = make_engine(path)
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_migrated() -> Iterator[str]:
    with pg_schema() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at the newest revision, with no workspace, on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "workspace.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("_pg_migrated")
    engine = make_engine(url)
    with engine.begin() as conn:
        names = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"
            )
        ).scalars()
        tables = ", ".join(f'"{name}"' for name in names)
        # The audit trail refuses TRUNCATE by trigger; the tests own the schema, so lift it.
        for name in tables.split(", "):
            conn.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))
        for name in tables.split(", "):
            conn.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))
    engine.dispose()
    yield url
