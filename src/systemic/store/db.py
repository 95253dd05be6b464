"""Database engines and sessions: SQLite by default, PostgreSQL by URL.

>>> engine = make_engine("sqlite://")
>>> engine.dialect.name
'sqlite'
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

#: The workspace file used when no ``--db`` is given.
DEFAULT_DB_FILE = "systemic-workspace.db"

#: PostgreSQL connections kept open, and how many more may be opened at a busy moment
#: (``systemic serve --db-pool-size/--db-max-overflow``, or these variables): together
#: as many as the server's worker threads (see :func:`make_engine`).
DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 40
POOL_SIZE_ENV = "SYSTEMIC_DB_POOL_SIZE"
MAX_OVERFLOW_ENV = "SYSTEMIC_DB_MAX_OVERFLOW"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored naive-UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"datetime {value} has no time zone; give an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def database_url(db: str | Path | None = None) -> str:
    """A SQLAlchemy URL from a URL, a file path, or None (the default file in cwd).

    >>> database_url("work.db")
    'sqlite:///work.db'
    >>> database_url("postgresql+psycopg://u:p@127.0.0.1/x")
    'postgresql+psycopg://u:p@127.0.0.1/x'
    """
    if db is None:
        return f"sqlite:///{DEFAULT_DB_FILE}"
    text = str(db)
    if "://" in text:
        if text.startswith("postgresql://"):
            text = "postgresql+psycopg://" + text.removeprefix("postgresql://")
        return text
    return f"sqlite:///{text}"


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Links and children are removed with their objects only when SQLite enforces keys.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Write-ahead logging lets pages read while a form writes; NORMAL sync keeps every
    # committed write through a crash of the server process (not of the machine).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Deleted rows (a story's text, its history) are overwritten with zeros, not left
    # readable in the file's free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def forget_deleted_pages(engine: Engine) -> None:
    """Clear a SQLite file's write-ahead log, so deleted text is not left in it.

    ``secure_delete`` zeroes deleted rows in the database file, but until a
    checkpoint the write-ahead log (``NAME.db-wal``) still holds the pages as they
    were, deleted text and all. A truncating checkpoint copies the log into the
    file and empties it; if readers hold the log it waits for them (up to the busy
    timeout), and what remains is cleared by the next checkpoint. Nothing to do on
    PostgreSQL or in-memory SQLite.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def make_engine(
    db: str | Path | None = None,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine for a URL or SQLite path; in-memory SQLite shares one connection.

    ``pool_size`` and ``max_overflow`` size the connection pool: on PostgreSQL by
    default :data:`DEFAULT_POOL_SIZE` and :data:`DEFAULT_MAX_OVERFLOW`; on a SQLite
    file SQLAlchemy's own (5 and 10) unless given; in-memory SQLite has one
    connection and takes neither.

    >>> make_engine("postgresql://u:p@127.0.0.1/x", pool_size=4, max_overflow=0).pool.size()
    4
    """
    url = database_url(db)
    for name, value, least in (("pool_size", pool_size, 1), ("max_overflow", max_overflow, 0)):
        if value is not None and value < least:
            raise ValueError(
                f"{name} must be {least} or more (got {value}); for systemic serve, set "
                f"{POOL_SIZE_ENV} to 1 or more and {MAX_OVERFLOW_ENV} to 0 or more"
            )
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        else:
            sizes = {"pool_size": pool_size, "max_overflow": max_overflow}
            kwargs.update({k: v for k, v in sizes.items() if v is not None})
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        # A server runs requests on up to 40 worker threads (anyio's default), each
        # taking a connection in turn for the sign-in check, the workspace and the
        # page. SQLAlchemy's default pool (5 + 10 overflow) made 50 concurrent users
        # queue for connections past the 30 s timeout (500s in `make soak`); a pool
        # as large as the threads never makes a request wait for one. A server with
        # fewer connections to spare (several servers sharing PostgreSQL's
        # max_connections) sets a smaller pool.
        kwargs["pool_size"] = DEFAULT_POOL_SIZE if pool_size is None else pool_size
        kwargs["max_overflow"] = DEFAULT_MAX_OVERFLOW if max_overflow is None else max_overflow
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine`` that keep loaded values after commit."""
    return sessionmaker(engine, expire_on_commit=False)
