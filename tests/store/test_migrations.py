"""Migrations: from empty to head, and from the previous revision with data kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import systemic.store.accounts  # noqa: F401  (its tables are part of the schema)
from systemic.store import open_store
from systemic.store.db import make_engine
from systemic.store.migrate import current_revision, downgrade, head_revision, revisions, upgrade
from systemic.store.orm import LINK_TABLES, TABLES, Base
from systemic.store.repository import get, history, list_objects

WORKSPACE_TABLES = (
    {"workspace", "history", "audit_rule_setting"}
    | {cls.__tablename__ for cls in TABLES.values()}
    | {table.name for table in LINK_TABLES.values()}
)


def _table_of(difference: object) -> str | None:
    entry = difference[0] if isinstance(difference, list) else difference
    for part in entry:  # type: ignore[union-attr]
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return table.name
        if name and hasattr(part, "columns"):
            return name
    return entry[2] if len(entry) > 2 and isinstance(entry[2], str) else None  # type: ignore[index]


def test_revisions_are_a_chain() -> None:
    chain = revisions()
    assert chain[:2] == ["0001", "0002"]
    assert chain == sorted(chain) and head_revision() == chain[-1]


def test_upgrade_from_empty_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # The workspace's own tables must match the models exactly (other capabilities'
    # tables on the same Base are checked by their own tests).
    assert [d for d in diff if _table_of(d) in WORKSPACE_TABLES] == []
    upgrade(engine)  # a second run does nothing
    assert current_revision(engine) == head_revision()
    downgrade(engine, "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    engine.dispose()


@pytest.mark.parametrize("start", revisions()[:-1])
def test_upgrade_from_an_earlier_revision_keeps_data(db_url: str, start: str) -> None:
    """From 0001 (before history) and from the revision just before head."""
    engine = make_engine(db_url)
    upgrade(engine, start)
    tables = set(inspect(engine).get_table_names())
    assert "measure" in tables and ("history" in tables) == (start != "0001")
    stamp = datetime(2026, 1, 2, 3, 4, 5, 678000)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO workspace (id, slug, name, created_at) VALUES (:i, :s, :n, :c)"),
            {"i": "w" * 32, "s": "old", "n": "Old council", "c": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO purpose_statement (id, workspace_id, created_at, updated_at, text, "
                "voice, said_by, said_where, consent, level, status) VALUES "
                "(:i, :w, :c, :c, :t, 'I', '', '', :y, 'person', 'adopted')"
            ),
            {"i": "p" * 32, "w": "w" * 32, "c": stamp, "t": "Help me stay at home", "y": True},
        )
        # learn_output became learn_result in 0006_h15measure: write whichever is there.
        learn = next(
            c["name"] for c in inspect(conn).get_columns("measure") if "learn_" in c["name"]
        )
        conn.execute(
            text(
                "INSERT INTO measure (id, workspace_id, created_at, updated_at, name, kind, "
                f"definition, data_source, {learn}, series, target) VALUES "
                "(:i, :w, :c, :c, 'Days at home', 'outcome', '', 'series', '', :s, NULL)"
            ),
            {
                "i": "m" * 32,
                "w": "w" * 32,
                "c": stamp,
                "s": '[{"period": "2026-01-01", "value": 3.0}]',
            },
        )
        conn.execute(
            text("INSERT INTO measure_purpose_statements (source_id, target_id) VALUES (:m, :p)"),
            {"m": "m" * 32, "p": "p" * 32},
        )
    engine.dispose()

    store = open_store(db_url)  # migrates to head
    assert current_revision(store.engine) == head_revision()
    with store.session() as session:
        measure = get(session, "w" * 32, "measure", "m" * 32)
        assert measure.purpose_statement_ids == ["p" * 32]
        assert measure.series[0].value == 3.0
        assert measure.created_at == stamp.replace(tzinfo=UTC)
        (statement,) = list_objects(session, "w" * 32, "purpose_statement")
        assert statement.text == "Help me stay at home" and statement.consent is True
        assert history(session, "w" * 32) == []  # nothing was recorded before
    store.dispose()
