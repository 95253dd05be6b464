"""Create, read, update, delete and link workspace objects, recording history.

Every function takes a SQLAlchemy ``Session`` and a ``workspace_id``; nothing
outside the workspace is ever read or changed. The caller commits.

>>> from systemic.store import open_store
>>> store = open_store("sqlite://")
>>> with store.session() as session:
...     ws = ensure_default_workspace(session)
...     p = create(session, ws.id, "purpose_statement", {"text": "Help me stay well at home"})
...     m = create(session, ws.id, "measure",
...                {"name": "Days at home", "purpose_statement_ids": [p.id]})
...     session.commit()
...     [h.action for h in history(session, ws.id, object_id=m.id)]
['create']
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import JSON, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from systemic.framework.kinds import KINDS, Kind
from systemic.framework.seed import (
    SPIRAL_FACTORS,
    SPIRAL_LINKS,
    SPIRAL_MAP_DESCRIPTION,
    SPIRAL_MAP_NAME,
)
from systemic.store.audit_trail import actor_name
from systemic.store.errors import (
    InvalidObjectError,
    NoSuchWorkspaceError,
    NotFoundError,
    WorkspaceConflictError,
)
from systemic.store.loop_names import remember_loop_names
from systemic.store.masking import mask_fields, remask_workspace
from systemic.store.orm import LINK_TABLES, TABLES, HistoryEntry, Stored, Workspace
from systemic.store.personal import (
    DELETED,
    DELETED_PERSONAL_TEXT,
    is_personal,
    withhold_changes,
)

#: What the web app records for a request that names nobody (kept for its callers).
ANONYMOUS = "anonymous"
DEFAULT_SLUG = "default"


def new_id() -> str:
    """A new random object id (32 hex digits)."""
    return uuid.uuid4().hex


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; known: {sorted(KINDS)}") from None


# --- workspaces -------------------------------------------------------------------


def create_workspace(
    session: Session,
    name: str,
    slug: str | None = None,
    *,
    seed: bool = True,
    actor: str | None = None,
) -> Workspace:
    """A new workspace, seeded with the failure-demand spiral map unless ``seed=False``."""
    slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workspace"
    if session.scalar(select(Workspace).where(Workspace.slug == slug)) is not None:
        raise WorkspaceConflictError(f"a workspace with slug {slug!r} already exists")
    workspace = Workspace(id=new_id(), slug=slug, name=name, created_at=now())
    session.add(workspace)
    session.flush()
    if seed:
        seed_failure_demand_spiral(session, workspace.id, actor=actor)
    return workspace


def get_workspace(session: Session, slug_or_id: str) -> Workspace:
    """A workspace by slug or id (NotFoundError when neither matches)."""
    found = session.scalar(
        select(Workspace).where((Workspace.slug == slug_or_id) | (Workspace.id == slug_or_id))
    )
    if found is None:
        raise NotFoundError("workspace", slug_or_id)
    return found


def list_workspaces(session: Session) -> list[Workspace]:
    """Every workspace, by name."""
    return list(session.scalars(select(Workspace).order_by(Workspace.name, Workspace.id)))


def ensure_default_workspace(session: Session, name: str = "Workspace") -> Workspace:
    """The ``default`` workspace, created (and seeded) when absent."""
    found = session.scalar(select(Workspace).where(Workspace.slug == DEFAULT_SLUG))
    return found or create_workspace(session, name, DEFAULT_SLUG)


def default_workspace(session: Session) -> Workspace:
    """The workspace used when none is named: ``default`` if there is one, else the
    first by name; on a database with none, the ``default`` workspace is created
    (and seeded). The caller commits."""
    known = list_workspaces(session)
    if not known:
        return ensure_default_workspace(session)
    return next((w for w in known if w.slug == DEFAULT_SLUG), known[0])


def pick_workspace(session: Session, slug_or_id: str | None = None) -> Workspace:
    """The workspace a reader means: the one named, else ``default``, else the only one.

    Never creates one (for reports and reads); :class:`NoSuchWorkspaceError` says which
    workspaces the database holds when none fits.

    >>> from systemic.store import open_store
    >>> store = open_store("sqlite://")
    >>> with store.session() as s:
    ...     _ = create_workspace(s, "Anytown council", seed=False)
    ...     pick_workspace(s).slug
    'anytown-council'
    """
    if slug_or_id:
        found = session.scalar(
            select(Workspace).where((Workspace.slug == slug_or_id) | (Workspace.id == slug_or_id))
        )
        if found is not None:
            return found
    known = list_workspaces(session)
    if not slug_or_id:
        default = next((w for w in known if w.slug == DEFAULT_SLUG), None)
        if default is not None or len(known) == 1:
            return default or known[0]
    held = ", ".join(repr(w.slug) for w in known) or "none"
    if not known:
        what = "create one with `systemic workspace create NAME`"
    elif slug_or_id:
        what = "give one of those"
    else:
        what = (
            "none is named 'default', so it is not clear which to use: name one (--workspace; "
            "for `systemic report`, --workspace-name), or move it into a database of its own "
            "with `systemic workspace export` and `systemic workspace import`"
        )
    wanted = f"no workspace {slug_or_id!r}" if slug_or_id else "several workspaces"
    if not known:
        wanted = "no workspace"
    raise NoSuchWorkspaceError(f"the database holds {wanted} (it holds: {held}); {what}")


def seed_failure_demand_spiral(
    session: Session, workspace_id: str, actor: str | None = None
) -> Any:
    """Add the failure-demand spiral map to a workspace; returns the map record."""
    the_map = create(
        session,
        workspace_id,
        "system_map",
        {"name": SPIRAL_MAP_NAME, "description": SPIRAL_MAP_DESCRIPTION},
        actor=actor,
    )
    ids = {}
    for name, description in SPIRAL_FACTORS:
        factor = create(
            session,
            workspace_id,
            "factor",
            {"system_map_id": the_map.id, "name": name, "description": description},
            actor=actor,
        )
        ids[name] = factor.id
    for cause, effect, polarity, delay in SPIRAL_LINKS:
        create(
            session,
            workspace_id,
            "causal_link",
            {
                "system_map_id": the_map.id,
                "cause_id": ids[cause],
                "effect_id": ids[effect],
                "polarity": polarity,
                "delay": delay,
                "evidence": "Seeded from the failure-demand spiral; replace with local evidence.",
            },
            actor=actor,
        )
    return the_map


# --- reading ----------------------------------------------------------------------


def _row(session: Session, workspace_id: str, kind: str, object_id: str) -> Stored:
    table = TABLES[kind]
    row = session.scalar(
        select(table).where(table.id == object_id, table.workspace_id == workspace_id)
    )
    if row is None:
        raise NotFoundError(kind, object_id)
    return row


def _links(session: Session, kind: str, source_ids: list[str] | None) -> dict[str, dict[str, list]]:
    """relation field -> source id -> sorted target ids."""
    spec = KINDS[kind]
    out: dict[str, dict[str, list]] = {}
    for relation in spec.relations:
        table = LINK_TABLES[(kind, relation)]
        query = select(table.c.source_id, table.c.target_id)
        if source_ids is not None:
            query = query.where(table.c.source_id.in_(source_ids))
        grouped: dict[str, list] = {}
        for source_id, target_id in session.execute(query):
            grouped.setdefault(source_id, []).append(target_id)
        out[spec.relation_field(relation)] = {k: sorted(v) for k, v in grouped.items()}
    return out


def _record(kind: str, row: Stored, links: dict[str, dict[str, list]]) -> Any:
    spec = KINDS[kind]
    data = {c.name: getattr(row, c.key) for c in row.__table__.columns}
    for field, by_source in links.items():
        data[field] = by_source.get(row.id, [])
    return spec.record.model_validate(data)


def get(session: Session, workspace_id: str, kind: str, object_id: str) -> Any:
    """One object as a record of its kind (NotFoundError when absent)."""
    _kind(kind)
    row = _row(session, workspace_id, kind, object_id)
    return _record(kind, row, _links(session, kind, [object_id]))


def list_objects(
    session: Session,
    workspace_id: str,
    kind: str,
    filters: dict[str, Any] | None = None,
) -> list[Any]:
    """Every object of a kind in a workspace, oldest first; ``filters`` match columns."""
    spec = _kind(kind)
    table = TABLES[kind]
    query = select(table).where(table.workspace_id == workspace_id)
    for field, value in (filters or {}).items():
        if field not in spec.scalar_fields:
            raise InvalidObjectError.field(field, f"cannot filter {kind} by {field!r}")
        query = query.where(getattr(table, field) == value)
    rows = list(session.scalars(query.order_by(table.created_at, table.id)))
    if not rows:
        return []
    if filters:
        links = _links(session, kind, [r.id for r in rows])
    else:
        links = _links_in_workspace(session, kind, workspace_id)
    return [_record(kind, row, links) for row in rows]


def _links_in_workspace(session: Session, kind: str, workspace_id: str) -> dict:
    spec = KINDS[kind]
    table = TABLES[kind]
    out: dict[str, dict[str, list]] = {}
    for relation in spec.relations:
        link = LINK_TABLES[(kind, relation)]
        query = (
            select(link.c.source_id, link.c.target_id)
            .join(table, table.id == link.c.source_id)
            .where(table.workspace_id == workspace_id)
        )
        grouped: dict[str, list] = {}
        for source_id, target_id in session.execute(query):
            grouped.setdefault(source_id, []).append(target_id)
        out[spec.relation_field(relation)] = {k: sorted(v) for k, v in grouped.items()}
    return out


# --- validation -------------------------------------------------------------------


def _validate(spec: Kind, data: dict[str, Any]) -> BaseModel:
    try:
        return spec.fields.model_validate(data)
    except ValidationError as exc:
        raise InvalidObjectError(
            [
                {"loc": tuple(e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False)
            ]
        ) from None


def _exists(session: Session, workspace_id: str, kind: str, object_id: str) -> Stored | None:
    table = TABLES[kind]
    return session.scalar(
        select(table).where(table.id == object_id, table.workspace_id == workspace_id)
    )


def _check_references(
    session: Session, workspace_id: str, spec: Kind, fields: BaseModel, object_id: str
) -> None:
    """Every id an object points to names an object of the right kind in the same workspace."""
    errors: list[dict[str, Any]] = []
    found: dict[str, Stored] = {}
    for field, target in spec.references.items():
        value = getattr(fields, field)
        if value is None:
            continue
        row = _exists(session, workspace_id, target, value)
        if row is None:
            errors.append(
                {
                    "loc": (field,),
                    "msg": f"no {target.replace('_', ' ')} with id {value!r}",
                    "type": "reference_error",
                }
            )
        else:
            found[field] = row
    for field, target in spec.relation_fields.items():
        for n, value in enumerate(getattr(fields, field)):
            if _exists(session, workspace_id, target, value) is None:
                errors.append(
                    {
                        "loc": (field, n),
                        "msg": f"no {target.replace('_', ' ')} with id {value!r}",
                        "type": "reference_error",
                    }
                )
    if errors:
        raise InvalidObjectError(errors)
    _check_kind_rules(session, workspace_id, spec.name, fields, object_id, found)


def _check_kind_rules(
    session: Session,
    workspace_id: str,
    kind: str,
    fields: Any,
    object_id: str,
    found: dict[str, Stored],
) -> None:
    if kind == "purpose_statement" and fields.parent_id is not None:
        # Walk up from the new parent: meeting this statement would close a cycle.
        seen, current = set(), fields.parent_id
        while current is not None and current not in seen:
            if current == object_id:
                raise InvalidObjectError.field(
                    "parent_id", "a statement cannot sit under itself or one of its own details"
                )
            seen.add(current)
            row = _exists(session, workspace_id, "purpose_statement", current)
            current = row.parent_id if row is not None else None  # type: ignore[attr-defined]
    if kind == "causal_link":
        if fields.cause_id == fields.effect_id:
            raise InvalidObjectError.field("effect_id", "a factor cannot cause itself")
        for field in ("cause_id", "effect_id"):
            if found[field].system_map_id != fields.system_map_id:  # type: ignore[attr-defined]
                raise InvalidObjectError.field(field, "the factor belongs to another system map")
        table: Any = TABLES["causal_link"]
        twin = session.scalar(
            select(table).where(
                table.cause_id == fields.cause_id,  # type: ignore[attr-defined]
                table.effect_id == fields.effect_id,  # type: ignore[attr-defined]
                table.id != object_id,
            )
        )
        if twin is not None:
            raise InvalidObjectError.field(
                "effect_id", f"these factors are already linked (causal link {twin.id})"
            )


# --- writing ----------------------------------------------------------------------


def _column_values(spec: Kind, fields: BaseModel) -> dict[str, Any]:
    python, as_json = fields.model_dump(), fields.model_dump(mode="json")
    table = TABLES[spec.name].__table__
    return {
        name: as_json[name] if isinstance(table.c[name].type, JSON) else python[name]
        for name in spec.scalar_fields
    }


def _set_links(
    session: Session, spec: Kind, object_id: str, fields: BaseModel, only: set[str] | None = None
) -> None:
    for relation in spec.relations:
        field = spec.relation_field(relation)
        if only is not None and field not in only:
            continue
        table = LINK_TABLES[(spec.name, relation)]
        session.execute(delete(table).where(table.c.source_id == object_id))
        targets = sorted(set(getattr(fields, field)))
        if targets:
            session.execute(
                insert(table), [{"source_id": object_id, "target_id": t} for t in targets]
            )


def record_history(
    session: Session,
    workspace_id: str,
    actor: str | None,
    action: str,
    kind: str,
    object_id: str,
    changes: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """Append one entry to the workspace's history (``actor`` None: the current actor,
    named as the audit trail names it)."""
    session.add(
        HistoryEntry(
            workspace_id=workspace_id,
            at=at or now(),
            actor=(actor or actor_name())[:200],
            action=action,
            kind=kind,
            object_id=object_id,
            changes=changes,
        )
    )


def create(
    session: Session,
    workspace_id: str,
    kind: str,
    fields: BaseModel | dict[str, Any],
    *,
    actor: str | None = None,
    object_id: str | None = None,
) -> Any:
    """Validate and store a new object; returns its record.

    Raises :class:`InvalidObjectError` naming each bad field (including ids that do
    not exist in this workspace).
    """
    spec = _kind(kind)
    data = fields.model_dump() if isinstance(fields, BaseModel) else dict(fields)
    valid = mask_fields(session, workspace_id, kind, _validate(spec, data))
    object_id = object_id or new_id()
    _check_references(session, workspace_id, spec, valid, object_id)
    stamp = now()
    row = TABLES[kind](
        id=object_id,
        workspace_id=workspace_id,
        created_at=stamp,
        updated_at=stamp,
        **_column_values(spec, valid),
    )
    session.add(row)
    session.flush()
    _set_links(session, spec, object_id, valid)
    record_history(
        session,
        workspace_id,
        actor,
        "create",
        kind,
        object_id,
        {"after": valid.model_dump(mode="json")},
        at=stamp,
    )
    session.flush()
    if kind == "causal_link":  # a new link may close new loops: name them now, for good
        remember_loop_names(session, workspace_id, valid.system_map_id)  # type: ignore[attr-defined]
    if kind == "masked_name":  # a name listed now is masked in what is already stored
        remask_workspace(session, workspace_id)
    return get(session, workspace_id, kind, object_id)


def update(
    session: Session,
    workspace_id: str,
    kind: str,
    object_id: str,
    changes: dict[str, Any],
    *,
    actor: str | None = None,
) -> Any:
    """Change some fields of an object (relation id lists are replaced when given)."""
    spec = _kind(kind)
    before = get(session, workspace_id, kind, object_id)
    unknown = [f for f in changes if f not in spec.fields.model_fields]
    if unknown:
        raise InvalidObjectError(
            [{"loc": (f,), "msg": "no such field", "type": "extra_forbidden"} for f in unknown]
        )
    old = before.model_dump(include=set(spec.fields.model_fields))
    valid = mask_fields(session, workspace_id, kind, _validate(spec, {**old, **changes}))
    _check_references(session, workspace_id, spec, valid, object_id)
    old_json = before.model_dump(mode="json", include=set(spec.fields.model_fields))
    new_json = valid.model_dump(mode="json")
    diff = {f: [old_json[f], new_json[f]] for f in new_json if old_json[f] != new_json[f]}
    if not diff:
        return before
    row = _row(session, workspace_id, kind, object_id)
    for name, value in _column_values(spec, valid).items():
        setattr(row, name, value)
    stamp = now()
    row.updated_at = stamp
    _set_links(session, spec, object_id, valid, only=set(diff))
    record_history(
        session, workspace_id, actor, "update", kind, object_id, {"changes": diff}, at=stamp
    )
    session.flush()
    if kind == "causal_link":  # a changed link may close new loops: name them now, for good
        remember_loop_names(session, workspace_id, valid.system_map_id)  # type: ignore[attr-defined]
    if kind == "masked_name":  # a name changed now is masked in what is already stored
        remask_workspace(session, workspace_id)
    return get(session, workspace_id, kind, object_id)


def delete_object(
    session: Session, workspace_id: str, kind: str, object_id: str, *, actor: str | None = None
) -> None:
    """Delete an object; its links go with it, objects that pointed to it keep no pointer.

    For a personal kind (a story, a conversation) the object's history, which holds
    its text, is removed too: one entry remains, saying it was deleted, when and by whom.
    """
    _kind(kind)
    before = get(session, workspace_id, kind, object_id)
    row = _row(session, workspace_id, kind, object_id)
    session.delete(row)
    if is_personal(kind):
        session.info[DELETED_PERSONAL_TEXT] = True  # the log is cleared after the commit
        session.execute(
            delete(HistoryEntry).where(
                HistoryEntry.workspace_id == workspace_id,
                HistoryEntry.kind == kind,
                HistoryEntry.object_id == object_id,
            )
        )
        changes: dict[str, Any] = dict(DELETED)
    else:
        changes = {"before": before.model_dump(mode="json")}
    record_history(session, workspace_id, actor, "delete", kind, object_id, changes)
    session.flush()
    # Rows the database changed (SET NULL, CASCADE) are stale in the identity map.
    session.expire_all()


def _relation(spec: Kind, relation: str) -> str:
    if relation not in spec.relations:
        raise InvalidObjectError.field(
            "relation",
            f"{spec.name} has no relation {relation!r}; known: {sorted(spec.relations)}",
        )
    return spec.relations[relation]


def link(
    session: Session,
    workspace_id: str,
    kind: str,
    object_id: str,
    relation: str,
    target_id: str,
    *,
    actor: str | None = None,
) -> Any:
    """Link an object to another (e.g. a measure to a purpose statement); idempotent."""
    spec = _kind(kind)
    target = _relation(spec, relation)
    record = get(session, workspace_id, kind, object_id)
    if _exists(session, workspace_id, target, target_id) is None:
        raise NotFoundError(target, target_id)
    field = spec.relation_field(relation)
    if target_id in getattr(record, field):
        return record
    if not _insert_link(session, LINK_TABLES[(kind, relation)], object_id, target_id):
        return get(session, workspace_id, kind, object_id)  # linked meanwhile by someone else
    _touch(session, workspace_id, kind, object_id)
    record_history(
        session,
        workspace_id,
        actor,
        "link",
        kind,
        object_id,
        {"relation": relation, "target_id": target_id},
    )
    session.flush()
    return get(session, workspace_id, kind, object_id)


def _insert_link(session: Session, table: Any, source_id: str, target_id: str) -> bool:
    """Insert a link row unless it is there already; whether it was inserted.

    Two requests making the same link at once both see it missing; the second
    insert then does nothing (``ON CONFLICT DO NOTHING``) instead of failing on the
    primary key, so linking stays idempotent under concurrency.
    """
    values = {"source_id": source_id, "target_id": target_id}
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite_insert(table).values(values).on_conflict_do_nothing()
    elif dialect == "postgresql":
        statement = pg_insert(table).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the store supports SQLite and PostgreSQL
        statement = insert(table).values(values)
    # RETURNING says whether a row went in (psycopg reports no rowcount here).
    return session.execute(statement.returning(table.c.source_id)).first() is not None


def unlink(
    session: Session,
    workspace_id: str,
    kind: str,
    object_id: str,
    relation: str,
    target_id: str,
    *,
    actor: str | None = None,
) -> Any:
    """Remove a link (NotFoundError when the two are not linked)."""
    spec = _kind(kind)
    _relation(spec, relation)
    record = get(session, workspace_id, kind, object_id)
    if target_id not in getattr(record, spec.relation_field(relation)):
        raise NotFoundError(f"{relation} link", target_id)
    table = LINK_TABLES[(kind, relation)]
    session.execute(
        delete(table).where(table.c.source_id == object_id, table.c.target_id == target_id)
    )
    _touch(session, workspace_id, kind, object_id)
    record_history(
        session,
        workspace_id,
        actor,
        "unlink",
        kind,
        object_id,
        {"relation": relation, "target_id": target_id},
    )
    session.flush()
    return get(session, workspace_id, kind, object_id)


def _touch(session: Session, workspace_id: str, kind: str, object_id: str) -> None:
    _row(session, workspace_id, kind, object_id).updated_at = now()


# --- history ----------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRecord:
    """One change: who, when, what."""

    at: datetime
    actor: str
    action: str
    kind: str
    object_id: str
    changes: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "kind": self.kind,
            "object_id": self.object_id,
            "changes": self.changes,
        }


def history(
    session: Session,
    workspace_id: str,
    *,
    kind: str | None = None,
    object_id: str | None = None,
    limit: int | None = None,
    personal_text: bool = True,
) -> list[HistoryRecord]:
    """Changes in a workspace, oldest first, optionally for one kind or one object.

    With ``personal_text=False`` (for viewers) the free text of stories and
    conversations is withheld (see :mod:`systemic.store.personal`).
    """
    query = select(HistoryEntry).where(HistoryEntry.workspace_id == workspace_id)
    if kind is not None:
        query = query.where(HistoryEntry.kind == kind)
    if object_id is not None:
        query = query.where(HistoryEntry.object_id == object_id)
    query = query.order_by(HistoryEntry.at, HistoryEntry.id)
    rows = list(session.scalars(query))
    if limit is not None:
        rows = rows[-limit:]
    return [
        HistoryRecord(
            r.at,
            r.actor,
            r.action,
            r.kind,
            r.object_id,
            dict(r.changes) if personal_text else withhold_changes(r.kind, dict(r.changes)),
        )
        for r in rows
    ]
