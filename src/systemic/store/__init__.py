"""Persistence of the workspace: SQLAlchemy 2 models, Alembic migrations, repository.

SQLite by default, PostgreSQL by URL. ``open_store`` creates and migrates the
database; the repository functions take a session and a workspace id.

>>> from systemic.store import open_store, repository
>>> store = open_store("sqlite://")
>>> with store.session() as session:
...     ws = repository.ensure_default_workspace(session)
...     loc = repository.create(session, ws.id, "locality", {"name": "Northgate"})
...     session.commit()
...     [x.name for x in repository.list_objects(session, ws.id, "locality")]
['Northgate']
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from systemic.store import queries, repository
from systemic.store.audit import audit_workspace, set_rule, workspace_rules
from systemic.store.audit_trail import acting_as, watch_sessions
from systemic.store.db import DEFAULT_DB_FILE, database_url, make_engine, session_factory
from systemic.store.errors import (
    DatabaseUnavailableError,
    ImportFormatError,
    InvalidObjectError,
    NotFoundError,
    StoreError,
    WorkspaceConflictError,
)
from systemic.store.migrate import current_revision, head_revision, upgrade
from systemic.store.personal import forget_deleted_text
from systemic.store.snapshot import load_snapshot
from systemic.store.transfer import export_workspace, import_workspace


@dataclass
class Store:
    """An engine on a migrated database and a way to open sessions."""

    engine: Engine
    sessions: sessionmaker[Session]

    def __post_init__(self) -> None:
        # Every writer is audited, whichever command or app made the store.
        watch_sessions(self.sessions)
        # Personal text deleted is not left in SQLite's write-ahead log.
        forget_deleted_text(self.sessions)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session, rolled back on error and closed afterwards (the caller commits)."""
        with self.sessions() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_store(
    db: str | Path | None = None,
    *,
    migrate: bool = True,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> Store:
    """Open (and by default create and migrate) the workspace database.

    ``db`` is a SQLAlchemy URL, a SQLite file path, or None for
    ``systemic-workspace.db`` in the current folder; ``pool_size`` and
    ``max_overflow`` size a PostgreSQL connection pool (:func:`make_engine`).
    """
    engine = make_engine(db, pool_size=pool_size, max_overflow=max_overflow)
    if migrate:
        try:
            upgrade(engine)
        except OperationalError as exc:
            where = engine.url.render_as_string(hide_password=True)
            engine.dispose()
            raise DatabaseUnavailableError(
                f"cannot open the workspace database {where}: {exc.orig}. Check that the "
                "folder exists and is writable, or that the PostgreSQL server, user and "
                "database in the URL are right."
            ) from exc
    return Store(engine, session_factory(engine))


__all__ = [
    "DEFAULT_DB_FILE",
    "DatabaseUnavailableError",
    "ImportFormatError",
    "InvalidObjectError",
    "NotFoundError",
    "Store",
    "StoreError",
    "WorkspaceConflictError",
    "acting_as",
    "audit_workspace",
    "current_revision",
    "database_url",
    "export_workspace",
    "head_revision",
    "import_workspace",
    "load_snapshot",
    "make_engine",
    "open_store",
    "queries",
    "repository",
    "set_rule",
    "upgrade",
    "watch_sessions",
    "workspace_rules",
]
