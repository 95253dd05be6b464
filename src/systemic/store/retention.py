"""Purge stories, conversations and captured demand whose retention date has passed.

Each story, conversation and captured demand may carry ``retain_until`` (a date, added by
migration ``0003``; the workspace's forms must expose it). On or after the day
after that date the item is deleted with its links, and the workspace's history
entries for it (which hold its text) go too; the audit trail records the purge
with the id and date only, never the content.

The columns are read with SQL, not through the framework's models, so this
works whatever those models expose.

>>> from datetime import date
>>> from systemic.store import open_store
>>> store = open_store("sqlite://")
>>> run_retention(store.engine, today=date(2030, 1, 1)).purged
[]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine, text

from systemic.store.accounts import record_event
from systemic.store.db import forget_deleted_pages

#: The tables whose rows carry a retention date.
RETAINED_TABLES: tuple[str, ...] = ("story", "conversation", "demand")


@dataclass(frozen=True)
class ExpiredItem:
    """One item past its retention date."""

    kind: str
    object_id: str
    workspace_id: str
    retain_until: date


@dataclass
class RetentionReport:
    """What a retention run found and (unless a dry run) purged."""

    today: date
    dry_run: bool
    purged: list[ExpiredItem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Items per kind."""
        return {k: sum(1 for i in self.purged if i.kind == k) for k in RETAINED_TABLES}


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def expired_items(engine: Engine, today: date | None = None) -> list[ExpiredItem]:
    """Items whose ``retain_until`` is before ``today`` (UTC today by default)."""
    today = today or datetime.now(UTC).date()
    found: list[ExpiredItem] = []
    with engine.connect() as conn:
        for table in RETAINED_TABLES:
            rows = conn.execute(
                text(
                    f"SELECT id, workspace_id, retain_until FROM {table} "
                    "WHERE retain_until IS NOT NULL AND retain_until < :today ORDER BY id"
                ),
                {"today": today},
            )
            found += [ExpiredItem(table, r[0], r[1], _as_date(r[2])) for r in rows]
    return found


def run_retention(
    engine: Engine, *, today: date | None = None, dry_run: bool = False, actor: str = "retention"
) -> RetentionReport:
    """Delete expired stories and conversations (or only list them with ``dry_run``)."""
    today = today or datetime.now(UTC).date()
    report = RetentionReport(today=today, dry_run=dry_run, purged=expired_items(engine, today))
    if dry_run or not report.purged:
        return report
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        for item in report.purged:
            params = {"id": item.object_id}
            # Links go with the item (ON DELETE CASCADE); history rows hold its text.
            session.execute(
                text("DELETE FROM history WHERE kind = :kind AND object_id = :id"),
                {**params, "kind": item.kind},
            )
            session.execute(text(f"DELETE FROM {item.kind} WHERE id = :id"), params)
            record_event(
                session,
                actor=actor,
                action="purge",
                workspace_id=item.workspace_id,
                object_kind=item.kind,
                object_id=item.object_id,
                before={"retain_until": item.retain_until.isoformat()},
                after=None,
            )
    forget_deleted_pages(engine)
    return report
