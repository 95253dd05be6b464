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
    UserAccount,
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
#: Tables whose rows are bookkeeping, not work: not audited row by row.
UNAUDITED = (AuditEvent, LoginAttempt, HistoryEntry)
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


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    actor = current_actor_name.get() or "system"
    ip = current_ip.get()
    events: list[dict[str, Any]] = []
    for obj in list(session.new):
        if isinstance(obj, Base) and not isinstance(obj, UNAUDITED):
            kind, object_id, workspace_id = _identity(obj)
            events.append(
                dict(
                    action="create",
                    object_kind=kind,
                    object_id=object_id,
                    workspace_id=workspace_id,
                    before=None,
                    after=_values(obj),
                )
            )
    for obj in list(session.new):
        # Links are written with Core statements; the workspace's history row names them.
        if isinstance(obj, HistoryEntry) and obj.action in ("link", "unlink"):
            events.append(
                dict(
                    action=obj.action,
                    object_kind=obj.kind,
                    object_id=obj.object_id,
                    workspace_id=obj.workspace_id,
                    before=None,
                    after=_plain(obj.changes),
                )
            )
    for obj in list(session.dirty):
        if isinstance(obj, Base) and not isinstance(obj, UNAUDITED) and session.is_modified(obj):
            before, after = _changes(obj)
            if not after:
                continue
            kind, object_id, workspace_id = _identity(obj)
            events.append(
                dict(
                    action="update",
                    object_kind=kind,
                    object_id=object_id,
                    workspace_id=workspace_id,
                    before=before,
                    after=after,
                )
            )
    for obj in list(session.deleted):
        if isinstance(obj, Base) and not isinstance(obj, UNAUDITED):
            kind, object_id, workspace_id = _identity(obj)
            events.append(
                dict(
                    action="delete",
                    object_kind=kind,
                    object_id=object_id,
                    workspace_id=workspace_id,
                    before=_values(obj),
                    after=None,
                )
            )
    for item in events:
        if item["object_kind"] == ApiToken.__tablename__ and item["action"] == "update":
            item["action"] = "revoke" if item["after"].get("revoked_at") else "update"
        if item["object_kind"] == UserAccount.__tablename__ and item["action"] == "update":
            item["action"] = "update"
        if item["object_kind"] == Membership.__tablename__:
            item["action"] = {
                "create": "grant_role",
                "update": "change_role",
                "delete": "revoke_role",
            }[item["action"]]
        session.add(AuditEvent(at=_now(), actor=actor[:200], ip=ip[:64], **item))


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def watch_sessions(sessions: sessionmaker[Session]) -> None:
    """Audit every flush of sessions made by ``sessions`` (idempotent)."""
    if not event.contains(sessions, "before_flush", _before_flush):
        event.listen(sessions, "before_flush", _before_flush)


__all__ = ["SECRET_COLUMNS", "record_event", "watch_sessions"]
