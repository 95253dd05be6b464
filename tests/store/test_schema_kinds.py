"""The ORM tables are checked against the kinds' definitions (``systemic.framework``).

For every kind in ``KINDS``: every scalar field has a column of a compatible type
and nullability; every column (besides ``id``, ``workspace_id`` and the
timestamps) is a field; references are foreign keys to the kind they name; and
every relation has its link table. So a field added to a kind's model and
forgotten in ``store/orm.py`` (or the other way round) fails here, naming both.
"""

from __future__ import annotations

import types
import typing
from datetime import date
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import JSON, Boolean, Column, Date, Float, Integer, String, Text

from systemic.framework.kinds import KINDS, Kind
from systemic.store.orm import LINK_TABLES, TABLES

STORED = {"id", "workspace_id", "created_at", "updated_at"}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (annotation, False)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def column_problem(kind: Kind, name: str, info: FieldInfo, column: Column) -> str | None:
    """Why ``column`` cannot hold the field ``name`` of ``kind``, or None when it can."""
    annotation, optional = _unwrap(info.annotation)
    if column.nullable != optional:
        want = "NULL allowed" if optional else "NOT NULL"
        return f"{kind.name}.{name}: the field says {want}, the column nullable={column.nullable}"
    sql = column.type
    if name in kind.references:
        target = kind.references[name]
        keys = {fk.target_fullname for fk in column.foreign_keys}
        if keys != {f"{target}.id"}:
            return f"{kind.name}.{name}: should be a foreign key to {target}.id, is {keys}"
        ondelete = {fk.ondelete for fk in column.foreign_keys}
        want = {"CASCADE"} if name in kind.required_references else {"SET NULL"}
        if ondelete != want:
            return f"{kind.name}.{name}: ON DELETE {ondelete}, expected {want}"
        return None
    if typing.get_origin(annotation) is Literal:
        longest = max(len(str(v)) for v in typing.get_args(annotation))
        if not isinstance(sql, String) or (sql.length is not None and sql.length < longest):
            return f"{kind.name}.{name}: a choice of up to {longest} characters in {sql!r}"
        return None
    expected: dict[Any, type] = {bool: Boolean, int: Integer, float: Float, date: Date, str: String}
    if typing.get_origin(annotation) is list:
        wanted: type = JSON
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        wanted = JSON
    else:
        wanted = expected.get(annotation, object)
    if wanted is String and isinstance(sql, Text | String):
        return None
    if wanted is Integer and isinstance(sql, Float):
        return f"{kind.name}.{name}: an int field in a {sql!r} column"
    if not isinstance(sql, wanted):
        return f"{kind.name}.{name}: a {annotation!r} field in a {sql!r} column"
    return None


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_every_field_has_a_column_and_every_column_a_field(kind: Kind) -> None:
    assert kind.name in TABLES, f"no ORM class with __tablename__ = {kind.name!r} in store/orm.py"
    table = TABLES[kind.name].__table__
    columns = {c.name: c for c in table.columns}
    scalar = set(kind.scalar_fields)
    assert scalar - set(columns) == set(), f"fields of {kind.name} with no column"
    assert set(columns) - STORED - scalar == set(), f"columns of {kind.name} that are no field"
    problems = [
        column_problem(kind, name, kind.fields.model_fields[name], columns[name])
        for name in kind.scalar_fields
    ]
    assert [p for p in problems if p] == []


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_every_relation_has_its_link_table(kind: Kind) -> None:
    for relation, target in kind.relations.items():
        table = LINK_TABLES.get((kind.name, relation))
        assert table is not None, f"no link table for {kind.name}.{relation}"
        assert table.name == f"{kind.name}_{relation}"
        keys = {c.name: {fk.target_fullname for fk in c.foreign_keys} for c in table.columns}
        assert keys == {"source_id": {f"{kind.name}.id"}, "target_id": {f"{target}.id"}}
    links = {relation for (name, relation) in LINK_TABLES if name == kind.name}
    assert links == set(kind.relations)


def test_every_table_of_a_kind_is_a_kind() -> None:
    assert set(TABLES) == set(KINDS)


def test_the_check_finds_a_column_of_the_wrong_type_or_nullability() -> None:
    """The check itself can fail: a text column for a date, a nullable required choice."""
    kind = KINDS["story"]
    told_on = kind.fields.model_fields["told_on"]
    assert column_problem(kind, "told_on", told_on, Column("told_on", Text, nullable=True))
    assert column_problem(kind, "told_on", told_on, Column("told_on", Date, nullable=False))
    assert column_problem(kind, "told_on", told_on, Column("told_on", Date, nullable=True)) is None
    voice = KINDS["purpose_statement"].fields.model_fields["voice"]
    short = Column("voice", String(3), nullable=False)
    assert "choice" in column_problem(KINDS["purpose_statement"], "voice", voice, short)
