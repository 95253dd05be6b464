"""SQLAlchemy 2 models of the workspace: one table per kind, one per link.

Every object belongs to a workspace (``workspace_id``), so several workspaces
can share one database. Column names are the field names of the kinds in
``systemic.framework.model``. A field with no column written below gets one made
from the field itself (:func:`column_for`: its type, whether it may be empty, a
foreign key for a reference), so adding a field to a kind is one edit to its
fields model plus a migration; tests check every kind's fields against these
tables, and these tables against the migrated schema. Link tables are named
``<kind>_<relation>`` (e.g. ``measure_purpose_statements``) with
``source_id``/``target_id``.

>>> column_for(KINDS["story"], "told_on").column.type
Date()
>>> col = column_for(KINDS["causal_link"], "confidence").column
>>> col.type, col.nullable, col.server_default.arg
(String(length=32), False, 'medium')
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from systemic.framework.kinds import KINDS, Kind, choices_of
from systemic.store.db import UTCDateTime

ID = String(32)
ENUM = String(32)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of the workspace tables (with stable constraint names for migrations)."""

    metadata = MetaData(naming_convention=NAMING)


def _text() -> Any:
    return mapped_column(Text, nullable=False, default="")


def _ref(table: str, *, required: bool = False) -> Any:
    return mapped_column(
        ID,
        ForeignKey(f"{table}.id", ondelete="CASCADE" if required else "SET NULL"),
        nullable=not required,
        index=True,
    )


def column_for(kind: Kind, name: str) -> Any:
    """The column a kind's field is stored in, made from the field's definition.

    A reference is a foreign key (required references cascade on delete, others are
    set empty); a choice is a short string; ``bool``, ``int``, ``float``, ``date`` and
    ``str`` are their SQL types; lists and nested models are JSON. ``X | None`` may be
    NULL; anything else may not, and carries its default as a server default so a
    migration can add it to a table that already has rows.
    """
    info = kind.fields.model_fields[name]
    if name in kind.references:
        return _ref(kind.references[name], required=name in kind.required_references)
    annotation, optional = info.annotation, False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation, optional = (args[0] if len(args) == 1 else annotation), True
    default = info.get_default(call_default_factory=True)
    choices = choices_of(info)
    server: Any = None
    if choices is not None:
        sql: Any = String(max(32, *(len(c) for c in choices)))
        server = default if isinstance(default, str) else None
    elif annotation is bool:
        sql, server = Boolean, text("true") if default else text("false")
    elif annotation is int:
        sql = Integer
    elif annotation is float:
        sql = Float
    elif annotation is date:
        sql = Date
    elif annotation is str:
        sql, server = Text, default if isinstance(default, str) else None
    elif typing.get_origin(annotation) is list or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    ):
        sql, server = JSON, "[]" if typing.get_origin(annotation) is list else None
    else:
        raise TypeError(
            f"{kind.name}.{name}: no column type for {info.annotation!r}; "
            "write its column in systemic/store/orm.py"
        )
    return mapped_column(sql, nullable=optional, server_default=None if optional else server)


class Workspace(Base):
    """One workspace (a council, a trust, a programme) holding its own objects."""

    __tablename__ = "workspace"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Stored(Base):
    """Columns every object has."""

    __abstract__ = True

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before the class is mapped: a field of its kind with no column written in
        # the class gets the column its definition implies.
        kind = KINDS.get(cls.__dict__.get("__tablename__", ""))
        if kind is not None:
            for name in kind.scalar_fields:
                if name not in cls.__dict__:
                    setattr(cls, name, column_for(kind, name))
        super().__init_subclass__(**kwargs)


class Locality(Stored):
    __tablename__ = "locality"
    name: Mapped[str] = mapped_column(Text, nullable=False)
    population: Mapped[int | None] = mapped_column(Integer)
    boundary: Mapped[str] = _text()


class PurposeStatement(Stored):
    __tablename__ = "purpose_statement"
    text: Mapped[str] = mapped_column(Text, nullable=False)
    voice: Mapped[str] = mapped_column(ENUM, nullable=False)
    said_by: Mapped[str] = _text()
    said_where: Mapped[str] = _text()
    consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    level: Mapped[str] = mapped_column(ENUM, nullable=False)
    locality_id: Mapped[str | None] = _ref("locality")
    parent_id: Mapped[str | None] = _ref("purpose_statement")
    status: Mapped[str] = mapped_column(ENUM, nullable=False)


class Principle(Stored):
    __tablename__ = "principle"
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = _text()


class Team(Stored):
    __tablename__ = "team"
    name: Mapped[str] = mapped_column(Text, nullable=False)
    locality_id: Mapped[str | None] = _ref("locality")
    members: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    services: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)


class DecisionRight(Stored):
    __tablename__ = "decision_right"
    locality_id: Mapped[str] = _ref("locality", required=True)
    decision_kind: Mapped[str] = mapped_column(Text, nullable=False)
    made: Mapped[str] = mapped_column(ENUM, nullable=False)
    reason: Mapped[str] = _text()


class Story(Stored):
    __tablename__ = "story"
    title: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = _text()
    told_by: Mapped[str] = _text()
    told_on: Mapped[date | None] = mapped_column(Date)
    consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    locality_id: Mapped[str | None] = _ref("locality")
    retain_until: Mapped[date | None] = mapped_column(Date)  # added by revision 0003


class SystemCondition(Stored):
    __tablename__ = "system_condition"
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = _text()
    kind: Mapped[str] = mapped_column(ENUM, nullable=False)
    owner: Mapped[str] = mapped_column(ENUM, nullable=False)
    changeable_locally: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    judgement: Mapped[str] = mapped_column(ENUM, nullable=False)
    effect: Mapped[str] = _text()
    evidence: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    proposal: Mapped[str] = _text()
    status: Mapped[str] = mapped_column(ENUM, nullable=False)


class Conversation(Stored):
    __tablename__ = "conversation"
    what_matters: Mapped[str] = mapped_column(Text, nullable=False)
    strengths: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    agreed_actions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    person_holds_record: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    held_on: Mapped[date | None] = mapped_column(Date)
    consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    locality_id: Mapped[str | None] = _ref("locality")
    retain_until: Mapped[date | None] = mapped_column(Date)  # added by revision 0003


class CommunityAsset(Stored):
    __tablename__ = "community_asset"
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = _text()
    kind: Mapped[str] = _text()
    locality_id: Mapped[str | None] = _ref("locality")


class Relationship(Stored):
    __tablename__ = "relationship"
    party_a: Mapped[str] = mapped_column(Text, nullable=False)
    party_b: Mapped[str] = mapped_column(Text, nullable=False)
    locality_id: Mapped[str | None] = _ref("locality")
    observations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)


class Measure(Stored):
    __tablename__ = "measure"
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(ENUM, nullable=False)
    definition: Mapped[str] = _text()
    data_source: Mapped[str] = mapped_column(ENUM, nullable=False)
    series: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    owner_team_id: Mapped[str | None] = _ref("team")
    target: Mapped[float | None] = mapped_column(Float)
    # added by revision 0006_h15measure (which dropped the free-text learn_output)
    learn_result: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    series_name: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(ENUM, nullable=False, default="week", server_default="week")
    locality: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    chart: Mapped[str] = mapped_column(ENUM, nullable=False, default="xmr", server_default="xmr")
    improvement: Mapped[str] = mapped_column(
        ENUM, nullable=False, default="neutral", server_default="neutral"
    )
    baseline_start: Mapped[date | None] = mapped_column(Date)
    baseline_end: Mapped[date | None] = mapped_column(Date)
    rebases: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, nullable=False, default=list, server_default="[]"
    )
    annotations: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, nullable=False, default=list, server_default="[]"
    )


class Experiment(Stored):
    __tablename__ = "experiment"
    title: Mapped[str] = mapped_column(Text, nullable=False)
    question: Mapped[str] = _text()
    prediction: Mapped[str] = _text()
    change_idea: Mapped[str] = _text()
    locality_id: Mapped[str | None] = _ref("locality")
    team_id: Mapped[str | None] = _ref("team")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str] = _text()
    decision: Mapped[str | None] = mapped_column(ENUM)
    # added by revision 0007_h15evidence
    pdsa_cycles: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, nullable=False, default=list, server_default="[]"
    )
    analyses: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, nullable=False, default=list, server_default="[]"
    )


class RedesignDecision(Stored):
    __tablename__ = "redesign_decision"
    title: Mapped[str] = mapped_column(Text, nullable=False)
    level: Mapped[str] = mapped_column(ENUM, nullable=False)
    object_changed: Mapped[str] = _text()
    change: Mapped[str] = _text()
    decided_by: Mapped[str] = _text()
    decided_on: Mapped[date | None] = mapped_column(Date)
    review_date: Mapped[date | None] = mapped_column(Date)


class SystemMap(Stored):
    __tablename__ = "system_map"
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = _text()
    # added by revision 0005
    loop_names: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, nullable=False, default=list, server_default="[]"
    )


class Factor(Stored):
    __tablename__ = "factor"
    system_map_id: Mapped[str] = _ref("system_map", required=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = _text()
    # added by revision 0005
    kind: Mapped[str | None] = mapped_column(ENUM)
    level: Mapped[str | None] = mapped_column(ENUM)
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list, server_default="[]")
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)


class CausalLink(Stored):
    __tablename__ = "causal_link"
    __table_args__ = (UniqueConstraint("cause_id", "effect_id"),)
    system_map_id: Mapped[str] = _ref("system_map", required=True)
    cause_id: Mapped[str] = _ref("factor", required=True)
    effect_id: Mapped[str] = _ref("factor", required=True)
    polarity: Mapped[str] = mapped_column(String(1), nullable=False)
    delay: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    evidence: Mapped[str] = _text()
    confidence: Mapped[str] = mapped_column(ENUM, nullable=False)


class Demand(Stored):
    """A demand captured at the point of contact (what the person said is masked)."""

    __tablename__ = "demand"
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    channel: Mapped[str] = mapped_column(ENUM, nullable=False)
    service: Mapped[str] = _text()
    locality_id: Mapped[str | None] = _ref("locality")
    verbatim: Mapped[str] = mapped_column(Text, nullable=False)
    what_matters: Mapped[str] = _text()
    demand_class: Mapped[str | None] = mapped_column(ENUM)
    demand_type: Mapped[str] = _text()
    what_failed: Mapped[str | None] = mapped_column(ENUM)
    resolved_first_contact: Mapped[bool | None] = mapped_column(Boolean)
    retain_until: Mapped[date | None] = mapped_column(Date)


class MaskedName(Stored):
    """A name the team lists, masked in what people said."""

    __tablename__ = "masked_name"
    name: Mapped[str] = mapped_column(Text, nullable=False)


class LearnResultVersion(Base):
    """One extract of a learn result brought into a workspace: its published series.

    Only the published (suppressed) series tables are kept, as their rows (a
    suppressed cell keeps its mark, ``<5`` or ``*``, and is read as a gap); the
    row-level tables stay in the learn folder with the team. Each import under
    the same name adds a version; earlier versions stay readable.
    """

    __tablename__ = "learn_result_version"
    __table_args__ = (UniqueConstraint("workspace_id", "name", "version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    imported_by: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    threshold: Mapped[int | None] = mapped_column(Integer)
    weekly: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    monthly: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)


class HistoryEntry(Base):
    """Who changed what, when: one row per create, update, delete, link or unlink."""

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    object_id: Mapped[str] = mapped_column(ID, nullable=False, index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


class AuditRuleSetting(Base):
    """A workspace's own setting of one audit rule (overrides the shipped rule)."""

    __tablename__ = "audit_rule_setting"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


#: kind name -> ORM class.
TABLES: dict[str, type[Stored]] = {
    cls.__tablename__: cls
    for cls in (
        Locality,
        PurposeStatement,
        Principle,
        Team,
        DecisionRight,
        Story,
        SystemCondition,
        Conversation,
        CommunityAsset,
        Relationship,
        Measure,
        Experiment,
        RedesignDecision,
        SystemMap,
        Factor,
        CausalLink,
        Demand,
        MaskedName,
    )
}


def _link_table(kind: str, relation: str, target: str) -> Table:
    return Table(
        f"{kind}_{relation}",
        Base.metadata,
        Column("source_id", ID, ForeignKey(f"{kind}.id", ondelete="CASCADE"), primary_key=True),
        Column(
            "target_id",
            ID,
            ForeignKey(f"{target}.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )


#: (kind, relation) -> link table.
LINK_TABLES: dict[tuple[str, str], Table] = {
    (kind.name, relation): _link_table(kind.name, relation, target)
    for kind in KINDS.values()
    for relation, target in kind.relations.items()
}
