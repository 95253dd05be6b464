"""Every create, update and delete through the ORM goes into the audit trail.

``watch_sessions(sessionmaker)`` registers a ``before_flush`` listener: for each
new, changed or deleted workspace object (and user, membership, token) it
appends an :class:`~systemic.store.accounts.AuditEvent` with the actor, the
object's kind and id, and its values before and after (changed fields only, for
updates). Secrets (password and token hashes) are never copied into the trail,
nor is the free text of personal kinds (see :mod:`systemic.store.personal`).

Every :class:`~systemic.store.Store` installs it, so every writer is audited: the
web app, ``systemic workspace import|create``, ``systemic user ...``, scripts.
The actor is whoever :func:`acting_as` names (the web app names the signed-in
user, the CLI ``cli:<login name>``), else ``"system"``; the repository records
the same name in the workspace's history when it is given no ``actor``.

>>> from systemic.store import open_store, repository
>>> from systemic.store.accounts import AuditEvent
>>> store = open_store("sqlite://")
>>> with acting_as("cli:amira"), store.session() as s:
...     ws = repository.create_workspace(s, "Town", seed=False)
...     _ = repository.create(s, ws.id, "principle", {"name": "Pull, not push"})
...     s.commit()
...     [(e.actor, e.action, e.object_kind) for e in s.query(AuditEvent).order_by(AuditEvent.id)]
[('cli:amira', 'create', 'workspace'), ('cli:amira', 'create', 'principle')]
>>> with store.session() as s:
...     [h.actor for h in repository.history(s, ws.id)]
['cli:amira']
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from systemic.store.accounts import (
    ApiToken,
    AuditEvent,
    LoginAttempt,
    Membership,
    UserSession,
    record_event,
)
from systemic.store.orm import Base, HistoryEntry
from systemic.store.personal import PERSONAL_KINDS, WITHHELD, withhold_value

#: The name of whoever makes the current change (set by :func:`acting_as`).
current_actor_name: ContextVar[str | None] = ContextVar("systemic_actor", default=None)
#: The address the current request came from (web requests only).
current_ip: ContextVar[str] = ContextVar("systemic_ip", default="")
#: The actor when nobody is named.
SYSTEM = "system"

#: Columns never copied into the trail.
SECRET_COLUMNS = frozenset({"password_hash", "token_sha256"})
#: People's own words: the trail records that they changed, never what they say, so a
#: deletion, a retention purge or an erasure leaves no copy behind in the append-only trail.
PERSONAL_TABLES = PERSONAL_KINDS


def actor_name() -> str:
    """Who is making the current change: the name given to :func:`acting_as`, else system."""
    return current_actor_name.get() or SYSTEM


@contextmanager
def acting_as(name: str, ip: str = "") -> Iterator[None]:
    """Changes made inside are recorded (in the audit trail and history) as ``name``'s."""
    actor_token = current_actor_name.set(name[:200])
    ip_token = current_ip.set(ip)
    try:
        yield
    finally:
        current_ip.reset(ip_token)
        current_actor_name.reset(actor_token)


#: Tables whose rows are bookkeeping, not work: not audited row by row.
UNAUDITED = (AuditEvent, LoginAttempt, HistoryEntry, UserSession)
#: Columns that change on every write and would only add noise.
NOISE_COLUMNS = frozenset({"updated_at", "last_used_at"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


#: Columns holding whole tables (a learn result's published series): the audit trail
#: says how many rows, not every cell again.
BULKY_COLUMNS = frozenset({("learn_result_version", "weekly"), ("learn_result_version", "monthly")})


def _shown(table: str, key: str, value: Any) -> Any:
    if (table, key) in BULKY_COLUMNS and isinstance(value, list):
        return f"({len(value)} rows)"
    return _plain(withhold_value(table, key, value))


def _values(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {
        c.key: _shown(obj.__tablename__, c.key, getattr(obj, c.key))
        for c in mapper.column_attrs
        if c.key not in SECRET_COLUMNS
    }


def _identity(obj: Any) -> tuple[str, str, str | None]:
    table = obj.__tablename__
    if isinstance(obj, Membership):
        # The workspace has its own column: the user id names the membership
        # within it (and fits the 64-character object id on PostgreSQL).
        return table, str(obj.user_id), obj.workspace_id
    return table, str(getattr(obj, "id", "")), getattr(obj, "workspace_id", None)


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in SECRET_COLUMNS | NOISE_COLUMNS:
            if attr.key in SECRET_COLUMNS and state.attrs[attr.key].history.has_changes():
                after[attr.key] = "(changed)"
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            table = obj.__tablename__
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            before[attr.key] = _shown(table, attr.key, old)
            after[attr.key] = _shown(table, attr.key, new)
    return before, after


def _audited(obj: Any) -> bool:
    return isinstance(obj, Base) and not isinstance(obj, UNAUDITED)


def _entry(action: str, obj: Any, before: Any, after: Any) -> dict[str, Any]:
    return _row(action, *_identity(obj), before, after)


def _row(
    action: str, kind: str, object_id: Any, workspace_id: Any, before: Any, after: Any
) -> dict[str, Any]:
    """One audit event's fields (actor, address and time are added on writing)."""
    return dict(
        action=action,
        object_kind=kind,
        object_id=object_id,
        workspace_id=workspace_id,
        before=before,
        after=after,
    )


#: Audit actions named for what a change means, by table: (table, action) -> name.
_MEANING = {
    (Membership.__tablename__, "create"): "grant_role",
    (Membership.__tablename__, "update"): "change_role",
    (Membership.__tablename__, "delete"): "revoke_role",
}


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    actor = actor_name()
    ip = current_ip.get()
    events = [_entry("create", obj, None, _values(obj)) for obj in session.new if _audited(obj)]
    # Links are written with Core statements; the workspace's history row names them.
    events += [
        _row(obj.action, obj.kind, obj.object_id, obj.workspace_id, None, _plain(obj.changes))
        for obj in session.new
        if isinstance(obj, HistoryEntry) and obj.action in ("link", "unlink")
    ]
    for obj in list(session.dirty):
        if _audited(obj) and session.is_modified(obj):
            before, after = _changes(obj)
            if after:
                events.append(_entry("update", obj, before, after))
    events += [_entry("delete", o, _values(o), None) for o in session.deleted if _audited(o)]
    for item in events:
        table, action = item["object_kind"], item["action"]
        if table == ApiToken.__tablename__ and action == "update":
            action = "revoke" if item["after"].get("revoked_at") else action
        item["action"] = _MEANING.get((table, action), action)
        session.add(AuditEvent(at=_now(), actor=actor[:200], ip=ip[:64], **item))


def _now() -> datetime:
    return datetime.now(UTC)


_WATCHED = "_systemic_audit_trail_watched"


def watch_sessions(sessions: sessionmaker[Session]) -> None:
    """Audit every flush of sessions made by ``sessions`` (idempotent).

    The mark is kept on the sessionmaker itself: SQLAlchemy's ``event.contains``
    keys its registry by ``id()``, so a new sessionmaker that reuses a collected
    one's address would look watched when it is not, and its writes would go
    unaudited.
    """
    if not getattr(sessions, _WATCHED, False):
        event.listen(sessions, "before_flush", _before_flush)
        setattr(sessions, _WATCHED, True)


__all__ = [
    "SECRET_COLUMNS",
    "WITHHELD",
    "acting_as",
    "actor_name",
    "current_actor_name",
    "current_ip",
    "record_event",
    "watch_sessions",
]
