"""Identifiers masked in people's words before they are stored, whichever way they come.

A field marked ``mask_identifiers`` in its kind's model (see
:data:`systemic.framework.model.PEOPLES_WORDS`: what a person said when their
demand was captured) has phone numbers, e-mail addresses, NHS and National
Insurance numbers, postcodes and the workspace's listed names (its *names to
mask*) replaced by a bracketed word (:func:`systemic.demand.mask.mask_identifiers`)
by :func:`systemic.store.repository.create` and ``update``: the capture page, the
other forms, the JSON API and imports all go through them, so the clear text
never reaches the database, the history or the audit trail.

A name added to the list later is masked in what is already stored too
(:func:`remask_workspace`, run when a name to mask is added or changed): in the
objects and in every history entry that holds their words.

>>> from systemic.store import open_store
>>> from systemic.store.repository import create, ensure_default_workspace
>>> store = open_store("sqlite://")
>>> with store.session() as s:
...     ws = ensure_default_workspace(s)
...     _ = create(s, ws.id, "masked_name", {"name": "Mrs Okafor"})
...     d = create(s, ws.id, "demand", {"verbatim": "Mrs Okafor on 0113 496 0000 again"})
...     d.verbatim
'[name] on [phone] again'
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from systemic.demand.mask import mask_identifiers
from systemic.framework.kinds import KINDS
from systemic.store.orm import TABLES, HistoryEntry, MaskedName
from systemic.store.personal import peoples_words


def masked_fields(kind: str) -> tuple[str, ...]:
    """The fields of ``kind`` whose identifiers are masked before storage.

    >>> masked_fields("demand"), masked_fields("locality")
    (('verbatim', 'what_matters'), ())
    """
    return peoples_words(kind)


def names_to_mask(session: Session, workspace_id: str) -> list[str]:
    """The names a workspace's team has listed for masking."""
    query = select(MaskedName.name).where(MaskedName.workspace_id == workspace_id)
    return [n for n in session.scalars(query) if n]


def mask_fields(session: Session, workspace_id: str, kind: str, fields: BaseModel) -> BaseModel:
    """``fields`` with identifiers masked in the kind's marked fields (unchanged if none)."""
    if not masked_fields(kind):
        return fields
    return mask_with_names(kind, fields, names_to_mask(session, workspace_id))


def mask_with_names(kind: str, fields: BaseModel, names: list[str]) -> BaseModel:
    """``fields`` (or a record) with identifiers and ``names`` masked in its marked fields."""
    marked = masked_fields(kind)
    changes: dict[str, Any] = {}
    for name in marked:
        value = getattr(fields, name)
        if isinstance(value, str) and value:
            masked = mask_identifiers(value, names)
            if masked != value:
                changes[name] = masked
    return fields.model_copy(update=changes) if changes else fields


def mask_history_changes(kind: str, changes: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """A history entry's ``changes`` with identifiers masked in the kind's marked fields.

    A create holds ``{"after": {field: value}}``, an update
    ``{"changes": {field: [old, new]}}``; both are masked.

    >>> mask_history_changes("demand", {"changes": {"verbatim": ["0113 496 0000", "ok"]}}, [])
    {'changes': {'verbatim': ['[phone]', 'ok']}}
    """
    marked = masked_fields(kind)
    if not marked or not isinstance(changes, dict):
        return changes
    out = dict(changes)
    after = out.get("after")
    if isinstance(after, dict):
        out["after"] = {
            k: mask_identifiers(v, names) if k in marked and isinstance(v, str) and v else v
            for k, v in after.items()
        }
    diff = out.get("changes")
    if isinstance(diff, dict):
        out["changes"] = {
            k: [mask_identifiers(x, names) if isinstance(x, str) and x else x for x in v]
            if k in marked and isinstance(v, list)
            else v
            for k, v in diff.items()
        }
    return out


def remask_workspace(session: Session, workspace_id: str) -> int:
    """Mask the workspace's current names to mask in everything already stored.

    Every object of a kind with marked fields, and every history entry of such an
    object, is masked again with today's list. Returns how many objects changed.
    """
    names = names_to_mask(session, workspace_id)
    changed = 0
    for kind in KINDS:
        marked = masked_fields(kind)
        if not marked:
            continue
        table = TABLES[kind]
        for row in session.scalars(select(table).where(table.workspace_id == workspace_id)):
            touched = False
            for name in marked:
                value = getattr(row, name)
                if isinstance(value, str) and value:
                    masked = mask_identifiers(value, names)
                    if masked != value:
                        setattr(row, name, masked)
                        touched = True
            changed += touched
        entries = session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.workspace_id == workspace_id, HistoryEntry.kind == kind
            )
        )
        for entry in entries:
            masked_changes = mask_history_changes(kind, entry.changes, names)
            if masked_changes != entry.changes:
                entry.changes = masked_changes
    session.flush()
    return changed
