"""Every create, update and delete through the ORM goes into the audit trail.

``watch_sessions(sessionmaker)`` registers a ``before_flush`` listener: for each
new, changed or deleted workspace object (and user, membership, token) it
appends an :class:`~systemic.store.accounts.AuditEvent` with the actor of the
request (or ``"system"`` outside a request), the object's kind and id, and its
values before and after (changed fields only, for updates). Secrets (password
and token hashes) are never copied into the trail.
"""

from __future__ import annotations

from datetime import date, datetime
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
from systemic.web.security.identity import current_actor_name, current_ip

#: Columns never copied into the trail.
SECRET_COLUMNS = frozenset({"password_hash", "token_sha256"})
#: People's own words: the trail records that they changed, never what they say, so a
#: retention purge or an erasure leaves no copy behind in the append-only trail.
PERSONAL_TABLES = frozenset({"story", "conversation"})
#: Columns of personal tables that are not free text and may be recorded.
PERSONAL_SAFE_COLUMNS = frozenset(
    {
        "id",
        "workspace_id",
        "locality_id",
        "consent",
        "told_on",
        "held_on",
        "person_holds_record",
        "created_at",
        "retain_until",
    }
)
WITHHELD = "(personal text withheld)"
#: Tables whose rows are bookkeeping, not work: not audited row by row (sign-in and
#: sign-out are audited as events; a session's id is the digest of its secret).
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


def _shown(table: str, key: str, value: Any) -> Any:
    if table in PERSONAL_TABLES and key not in PERSONAL_SAFE_COLUMNS and value not in (None, ""):
        return WITHHELD
    return _plain(value)


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
    actor = current_actor_name.get() or "system"
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
    from datetime import UTC

    return datetime.now(UTC)


def watch_sessions(sessions: sessionmaker[Session]) -> None:
    """Audit every flush of sessions made by ``sessions`` (idempotent)."""
    if not event.contains(sessions, "before_flush", _before_flush):
        event.listen(sessions, "before_flush", _before_flush)


__all__ = ["SECRET_COLUMNS", "record_event", "watch_sessions"]
