"""Identifiers masked in people's words before they are stored, whichever way they come.

A field marked ``mask_identifiers`` in its kind's model (see
:data:`systemic.framework.model.PEOPLES_WORDS`: what a person said when their
demand was captured) has phone numbers, e-mail addresses, NHS and National
Insurance numbers, postcodes and the workspace's listed names (its *names to
mask*) replaced by a bracketed word (:func:`systemic.demand.mask.mask_identifiers`)
by :func:`systemic.store.repository.create` and ``update``: the capture page, the
other forms, the JSON API and imports all go through them, so the clear text
never reaches the database, the history or the audit trail.

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
from systemic.store.orm import MaskedName
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
