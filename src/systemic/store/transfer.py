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

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from systemic.framework.kinds import KINDS
from systemic.store.errors import ImportFormatError, WorkspaceConflictError
from systemic.store.orm import LINK_TABLES, TABLES, AuditRuleSetting, HistoryEntry, Workspace
from systemic.store.repository import _column_values, get_workspace, history, list_objects

FORMAT = "systemic-workspace"
FORMAT_VERSION = 1


def export_workspace(session: Session, workspace: str) -> dict[str, Any]:
    """The whole workspace (by slug or id) as a JSON-ready dict."""
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
        "history": [h.as_dict() for h in history(session, ws.id)],
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


def _require(doc: Any, key: str, kind: type) -> Any:
    if not isinstance(doc, dict) or key not in doc:
        raise ImportFormatError(f"missing key {key!r}: is this a systemic workspace export?")
    if not isinstance(doc[key], kind):
        raise ImportFormatError(f"key {key!r} must be a {kind.__name__}")
    return doc[key]


def import_workspace(
    session: Session, document: dict[str, Any], *, replace: bool = False
) -> Workspace:
    """Recreate a workspace from an export document, ids and history included.

    Refuses (:class:`WorkspaceConflictError`) when a workspace with the same id or slug
    exists, unless ``replace=True``, which deletes that workspace first.
    """
    if document.get("format") != FORMAT:
        raise ImportFormatError(f"key 'format' must be {FORMAT!r}: not a systemic workspace export")
    if document.get("format_version") != FORMAT_VERSION:
        raise ImportFormatError(
            f"key 'format_version' is {document.get('format_version')!r}; "
            f"this systemic reads version {FORMAT_VERSION}"
        )
    info = _require(document, "workspace", dict)
    objects = _require(document, "objects", dict)
    unknown = set(objects) - set(KINDS)
    if unknown:
        raise ImportFormatError(f"key 'objects' has unknown kinds {sorted(unknown)}")
    for existing in session.scalars(
        select(Workspace).where(
            (Workspace.id == info.get("id")) | (Workspace.slug == info.get("slug"))
        )
    ):
        if not replace:
            raise WorkspaceConflictError(
                f"workspace {existing.slug!r} already exists; import into an empty database "
                "or replace it (--replace)"
            )
        session.delete(existing)
        session.flush()
    try:
        ws = Workspace(
            id=info["id"],
            slug=info["slug"],
            name=info["name"],
            created_at=datetime.fromisoformat(info["created_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ImportFormatError(f"key 'workspace' is incomplete or invalid: {exc}") from exc
    session.add(ws)
    session.flush()
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
        if kind == "purpose_statement":
            records = _parents_first(records)
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
            session.flush()
    # Links after all objects, since they may point forward.
    for kind, spec in KINDS.items():
        for item in objects.get(kind, []):
            for relation in spec.relations:
                targets = item.get(spec.relation_field(relation), [])
                if targets:
                    session.execute(
                        insert(LINK_TABLES[(kind, relation)]),
                        [{"source_id": item["id"], "target_id": t} for t in targets],
                    )
    for setting in document.get("audit_rules", []):
        session.add(AuditRuleSetting(workspace_id=ws.id, **setting))
    for entry in document.get("history", []):
        session.add(
            HistoryEntry(
                workspace_id=ws.id,
                at=datetime.fromisoformat(entry["at"]),
                actor=entry["actor"],
                action=entry["action"],
                kind=entry["kind"],
                object_id=entry["object_id"],
                changes=entry["changes"],
            )
        )
    session.flush()
    return ws
