"""Workspace export and import: one JSON document that round-trips exactly.

The document holds the workspace, every object (with ids, timestamps and link
ids), the workspace's audit rule settings and its full history. Importing it
into a database without that workspace and exporting again gives the same
document.

>>> from systemic.store import open_store
>>> from systemic.store.repository import ensure_default_workspace
>>> a, b = open_store("sqlite://"), open_store("sqlite://")
>>> with a.session() as s:
...     ws = ensure_default_workspace(s); s.commit()
...     doc = export_workspace(s, "default")
>>> with b.session() as s:
...     _ = import_workspace(s, doc); s.commit()
...     export_workspace(s, "default") == doc
True
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from systemic.framework.kinds import KINDS
from systemic.store.errors import ImportFormatError, WorkspaceConflictError
from systemic.store.masking import mask_history_changes, mask_with_names, masked_fields
from systemic.store.orm import (
    LINK_TABLES,
    TABLES,
    AuditRuleSetting,
    HistoryEntry,
    LearnResultVersion,
    Workspace,
)
from systemic.store.repository import (
    _column_values,
    get_workspace,
    history,
    list_objects,
    new_id,
)

FORMAT = "systemic-workspace"
FORMAT_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _WorkspaceInfo(_Strict):
    id: str = Field(min_length=1, max_length=32)
    slug: str = Field(min_length=1, max_length=64)
    name: str
    created_at: AwareDatetime


class _RuleSetting(_Strict):
    rule_id: str = Field(min_length=1, max_length=64)
    enabled: bool
    severity: Literal["error", "warning", "info"]
    params: dict[str, Any]


class _HistoryItem(_Strict):
    at: AwareDatetime
    actor: str = Field(max_length=200)
    action: str = Field(max_length=16)
    kind: str = Field(max_length=40)
    object_id: str = Field(max_length=32)
    changes: dict[str, Any]


class _LearnResultItem(_Strict):
    """One version of a learn result in the workspace: published series only."""

    name: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)
    imported_at: AwareDatetime
    imported_by: str = Field(max_length=200)
    source: str
    threshold: int | None
    weekly: list[dict[str, str | None]]
    monthly: list[dict[str, str | None]]


class ExportDocument(_Strict):
    """The shape of an export document (objects are checked kind by kind on import)."""

    format: Literal["systemic-workspace"]
    format_version: Literal[1]
    workspace: _WorkspaceInfo
    objects: dict[str, list[dict[str, Any]]]
    audit_rules: list[_RuleSetting] = Field(default_factory=list)
    history: list[_HistoryItem] = Field(default_factory=list)
    learn_results: list[_LearnResultItem] = Field(default_factory=list)


def export_workspace(
    session: Session, workspace: str, *, personal_text: bool = True
) -> dict[str, Any]:
    """The whole workspace (by slug or id) as a JSON-ready dict.

    ``personal_text=False`` (for viewers) withholds the free text of stories and
    conversations from the history (the objects themselves are as they stand).
    """
    ws = get_workspace(session, workspace)
    settings = session.scalars(
        select(AuditRuleSetting)
        .where(AuditRuleSetting.workspace_id == ws.id)
        .order_by(AuditRuleSetting.rule_id)
    )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "workspace": {
            "id": ws.id,
            "slug": ws.slug,
            "name": ws.name,
            "created_at": ws.created_at.isoformat(),
        },
        "objects": {
            kind: [r.model_dump(mode="json") for r in list_objects(session, ws.id, kind)]
            for kind in KINDS
        },
        "audit_rules": [
            {"rule_id": s.rule_id, "enabled": s.enabled, "severity": s.severity, "params": s.params}
            for s in settings
        ],
        "history": [h.as_dict() for h in history(session, ws.id, personal_text=personal_text)],
        "learn_results": [
            {
                "name": v.name,
                "version": v.version,
                "imported_at": v.imported_at.isoformat(),
                "imported_by": v.imported_by,
                "source": v.source,
                "threshold": v.threshold,
                "weekly": v.weekly,
                "monthly": v.monthly,
            }
            for v in session.scalars(
                select(LearnResultVersion)
                .where(LearnResultVersion.workspace_id == ws.id)
                .order_by(LearnResultVersion.name, LearnResultVersion.version)
            )
        ],
    }


def _parents_first(records: list[Any]) -> list[Any]:
    by_id = {r.id: r for r in records}
    ordered, placed = [], set()

    def place(record: Any) -> None:
        if record.id in placed:
            return
        placed.add(record.id)
        if record.parent_id in by_id:
            place(by_id[record.parent_id])
        ordered.append(record)

    for record in records:
        place(record)
    return ordered


def _check_document_references(parsed: dict[str, list[Any]]) -> None:
    """Every reference and link in the document names an object of the right kind in it."""
    ids = {kind: {r.id for r in records} for kind, records in parsed.items()}
    for kind, records in parsed.items():
        if len(ids[kind]) != len(records):
            raise ImportFormatError(f"objects.{kind}: the same id appears more than once")
    for kind, records in parsed.items():
        spec = KINDS[kind]
        targets = {**spec.references, **spec.relation_fields}
        for n, record in enumerate(records):
            for field, target in targets.items():
                value = getattr(record, field)
                for one in value if isinstance(value, list) else [value]:
                    if one is not None and one not in ids[target]:
                        raise ImportFormatError(
                            f"objects.{kind}[{n}].{field}: no {target} with id {one!r} "
                            "in the document"
                        )


def import_workspace(
    session: Session, document: dict[str, Any], *, replace: bool = False
) -> Workspace:
    """Recreate a workspace from an export document, ids and history included.

    Refuses (:class:`WorkspaceConflictError`) when a workspace with the same id or slug
    exists, unless ``replace=True``, which deletes that workspace first.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportFormatError(f"key 'format' must be {FORMAT!r}: not a systemic workspace export")
    if document.get("format_version") != FORMAT_VERSION:
        raise ImportFormatError(
            f"key 'format_version' is {document.get('format_version')!r}; "
            f"this systemic reads version {FORMAT_VERSION}"
        )
    try:
        doc = ExportDocument.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise ImportFormatError(
            f"key {where!r}: {first['msg']} ({exc.error_count()} problem(s) in all)"
        ) from exc
    objects = document["objects"]
    unknown = set(objects) - set(KINDS)
    if unknown:
        raise ImportFormatError(f"key 'objects' has unknown kinds {sorted(unknown)}")
    info = doc.workspace
    for existing in session.scalars(
        select(Workspace).where((Workspace.id == info.id) | (Workspace.slug == info.slug))
    ):
        if not replace:
            raise WorkspaceConflictError(
                f"workspace {existing.slug!r} already exists; import into an empty database "
                "or replace it (--replace)"
            )
        session.delete(existing)
        session.flush()
    ws = Workspace(id=info.id, slug=info.slug, name=info.name, created_at=info.created_at)
    session.add(ws)
    session.flush()
    parsed: dict[str, list[Any]] = {}
    for kind, spec in KINDS.items():
        records = []
        for n, item in enumerate(objects.get(kind, [])):
            try:
                record = spec.record.model_validate(item)
            except ValidationError as exc:
                raise ImportFormatError(
                    f"objects.{kind}[{n}]: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}"
                ) from exc
            if record.workspace_id != ws.id:
                raise ImportFormatError(f"objects.{kind}[{n}]: workspace_id is not {ws.id!r}")
            records.append(record)
        parsed[kind] = records
    _check_document_references(parsed)
    # People's words are masked on the way in, with the document's own names to mask.
    names = [r.name for r in parsed.get("masked_name", [])]
    for kind, spec in KINDS.items():
        records = parsed[kind]
        if kind == "purpose_statement":
            records = _parents_first(records)
        if masked_fields(kind):
            records = [mask_with_names(kind, r, names) for r in records]
        for record in records:
            session.add(
                TABLES[kind](
                    id=record.id,
                    workspace_id=ws.id,
                    created_at=record.created_at,
                    updated_at=record.updated_at,
                    **_column_values(spec, record),
                )
            )
            try:
                session.flush()
            except IntegrityError as exc:
                raise WorkspaceConflictError(
                    f"{kind} {record.id!r} already exists in this database (in another "
                    "workspace); import into an empty database"
                ) from exc
    # Links after all objects, since they may point forward.
    for kind, spec in KINDS.items():
        for record in parsed[kind]:
            for relation in spec.relations:
                targets = sorted(set(getattr(record, spec.relation_field(relation))))
                if targets:
                    session.execute(
                        insert(LINK_TABLES[(kind, relation)]),
                        [{"source_id": record.id, "target_id": t} for t in targets],
                    )
    for setting in doc.audit_rules:
        session.add(AuditRuleSetting(workspace_id=ws.id, **setting.model_dump()))
    for entry in doc.history:  # the words in history are masked as the objects are
        item = entry.model_dump()
        if item.get("kind") in KINDS:
            item["changes"] = mask_history_changes(item["kind"], item["changes"], names)
        session.add(HistoryEntry(workspace_id=ws.id, **item))
    for item in doc.learn_results:  # published series only, as they were brought in
        session.add(LearnResultVersion(id=new_id(), workspace_id=ws.id, **item.model_dump()))
    session.flush()
    return ws
