"""Demand captured at the point of contact: saving one safely, and reading captures back.

Many staff capture at once, so a capture is one insert of its own row and
nothing else shared is read and written back. The capture form carries a key
(:func:`new_capture_key`) that becomes the demand's id: a form sent twice (a
double tap, a retry after a dropped connection) finds its demand already there
and stores nothing more (:func:`capture_demand`).

The captured demands feed the demand study: :func:`captured_demand_tables`
gives the contacts and the labels in the shape ``systemic demand estimate``
reads (``systemic demand capture export`` writes them as CSV).

>>> from systemic.store import open_store
>>> from systemic.store.repository import ensure_default_workspace
>>> store = open_store("sqlite://")
>>> with store.session() as s:
...     ws = ensure_default_workspace(s)
...     key = new_capture_key()
...     first = capture_demand(s, ws.id, {"verbatim": "where is my bin"}, key, actor="sam")
...     again = capture_demand(s, ws.id, {"verbatim": "where is my bin"}, key, actor="sam")
...     (first.stored, again.stored, again.demand.id == first.demand.id)
(True, False, True)
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from systemic.framework.model import CLOCK_TIME
from systemic.store import repository
from systemic.store.orm import Demand, HistoryEntry, Locality

_KEY = re.compile(r"[0-9a-f]{32}")


def new_capture_key() -> str:
    """A fresh key for one capture form (32 hex digits: it becomes the demand's id)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Captured:
    """A capture's outcome: the demand, and whether this request stored it."""

    demand: Any
    stored: bool


def capture_demand(
    session: Session,
    workspace_id: str,
    fields: dict[str, Any],
    capture_key: str,
    *,
    actor: str | None = None,
) -> Captured:
    """Store one captured demand (and commit), unless the form was already saved.

    ``capture_key`` is the key the form was given; a key that is not 32 hex
    digits, or that names an object of another workspace, is replaced by a fresh
    one (the capture is stored, and nothing is said about other workspaces).
    Raises :class:`~systemic.store.errors.InvalidObjectError` for bad fields.
    """
    key = capture_key if _KEY.fullmatch(capture_key or "") else new_capture_key()
    existing = session.get(Demand, key)
    if existing is not None:
        if existing.workspace_id == workspace_id:
            return Captured(repository.get(session, workspace_id, "demand", key), stored=False)
        key = new_capture_key()
    try:
        record = repository.create(
            session, workspace_id, "demand", fields, actor=actor, object_id=key
        )
        session.commit()
    except IntegrityError:
        # The same form, sent twice at the same moment: the other request stored it.
        session.rollback()
        return Captured(repository.get(session, workspace_id, "demand", key), stored=False)
    return Captured(record, stored=True)


def start_of_day(at: datetime) -> datetime:
    """The start (UK clock) of the day ``at`` falls on, as an aware datetime."""
    local = at.astimezone(CLOCK_TIME)
    return datetime.combine(local.date(), time(0), tzinfo=CLOCK_TIME)


def captured_today(
    session: Session, workspace_id: str, now: datetime, actor: str | None = None
) -> int:
    """How many demands were captured today (UK clock), by ``actor`` or by anyone."""
    since = start_of_day(now)
    query = select(func.count()).where(
        HistoryEntry.workspace_id == workspace_id,
        HistoryEntry.kind == "demand",
        HistoryEntry.action == "create",
        HistoryEntry.at >= since,
    )
    if actor is not None:
        query = query.where(HistoryEntry.actor == actor)
    return int(session.scalar(query) or 0)


def captured_by(session: Session, workspace_id: str, actor: str, limit: int = 5) -> list[Any]:
    """The newest demands ``actor`` captured that still exist, newest first."""
    query = (
        select(HistoryEntry.object_id)
        .join(Demand, Demand.id == HistoryEntry.object_id)
        .where(
            HistoryEntry.workspace_id == workspace_id,
            HistoryEntry.kind == "demand",
            HistoryEntry.action == "create",
            HistoryEntry.actor == actor,
        )
        .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
        .limit(limit)
    )
    return [repository.get(session, workspace_id, "demand", i) for i in session.scalars(query)]


def used_words(session: Session, workspace_id: str, column: str) -> list[str]:
    """The demand types (or services) already used in a workspace, most used first.

    The team's list grows as they go: the capture form offers these.
    """
    values = session.scalars(
        select(getattr(Demand, column)).where(
            Demand.workspace_id == workspace_id, getattr(Demand, column) != ""
        )
    )
    counts = Counter(v.strip() for v in values if v and v.strip())
    return [word for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower()))]


#: Columns of the contacts table written for ``systemic demand estimate``.
CONTACT_COLUMNS = ("id", "text", "received", "channel", "service", "locality", "what_matters")
#: Columns of the labels table (the captured classes).
LABEL_COLUMNS = ("id", "demand_class", "demand_type", "what_failed")


def captured_demand_tables(
    session: Session, workspace_id: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every captured demand as contacts, and those classified as labels.

    Contacts: ``id``, ``text`` (what the person said, masked), ``received``
    (ISO time, UTC), ``channel``, ``service``, ``locality`` (its name),
    ``what_matters``. Labels: ``id``, ``demand_class`` (value or failure),
    ``demand_type``, ``what_failed``, for each demand the team classified; a
    demand whose class is not yet known is a contact without a label.
    """
    localities = dict(
        session.execute(
            select(Locality.id, Locality.name).where(Locality.workspace_id == workspace_id)
        ).all()
    )
    rows = session.scalars(
        select(Demand)
        .where(Demand.workspace_id == workspace_id)
        .order_by(Demand.received_at, Demand.id)
    ).all()
    contacts = pl.DataFrame(
        {
            "id": [r.id for r in rows],
            "text": [r.verbatim for r in rows],
            "received": [r.received_at.isoformat() for r in rows],
            "channel": [r.channel for r in rows],
            "service": [r.service for r in rows],
            "locality": [localities.get(r.locality_id, "") for r in rows],
            "what_matters": [r.what_matters for r in rows],
        },
        schema=dict.fromkeys(CONTACT_COLUMNS, pl.String),
    )
    labelled = [r for r in rows if r.demand_class]
    labels = pl.DataFrame(
        {
            "id": [r.id for r in labelled],
            "demand_class": [r.demand_class for r in labelled],
            "demand_type": [r.demand_type for r in labelled],
            "what_failed": [r.what_failed or "" for r in labelled],
        },
        schema=dict.fromkeys(LABEL_COLUMNS, pl.String),
    )
    return contacts, labels
