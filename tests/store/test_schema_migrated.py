"""The models and the schema the migrations build agree, on SQLite and PostgreSQL.

Every table declared on ``Base.metadata`` (the workspace's kinds and links, the
history, accounts, sessions and the audit trail) is compared, column by column
(types, nullability, server defaults), index by index and key by key, with the
schema that running every Alembic migration from empty produces: the
autogenerate diff must be empty. A column added to a model without a migration
(or a migration that does not match its model) fails here, naming the table.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import systemic
from systemic.store.db import make_engine
from systemic.store.migrate import upgrade
from systemic.store.orm import Base


def _import_every_model() -> None:
    """Import every module of the package, so every table declared on ``Base`` is known."""
    for module in pkgutil.walk_packages(systemic.__path__, "systemic."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


def _plain_default(default: Any) -> str | None:
    """A server default as text without quotes, brackets (SQLite's after a table is
    rebuilt) or a PostgreSQL cast: ``'[]'::json`` -> ``[]``, ``('')`` -> ``''``."""
    if default is None:
        return None
    plain = re.sub(r"::[a-z ]+$", "", str(default)).strip()
    while plain.startswith("(") and plain.endswith(")"):
        plain = plain[1:-1].strip()
    return plain.strip("'\"")


def _defaults_differ(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: Any,
    metadata_default: Any,
    rendered_metadata_default: Any,
) -> bool:
    # Alembic's own comparison asks PostgreSQL whether '[]'::json = '[]', which json
    # cannot answer; compare the defaults as written instead.
    return _plain_default(inspected_default) != _plain_default(rendered_metadata_default)


def _schema_diff(url: str) -> list[object]:
    engine = make_engine(url)
    upgrade(engine)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": _defaults_differ}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_the_migrated_schema_is_the_models(db_url: str) -> None:
    _import_every_model()
    assert len(Base.metadata.tables) > 30  # the whole schema, not a part of it
    assert _schema_diff(db_url) == []
