"""Stories and conversations past their retention date are purged, and only those."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select, text

from systemic.store import open_store, repository
from systemic.store.accounts import AuditEvent
from systemic.store.repository import ensure_default_workspace
from systemic.store.retention import expired_items, run_retention


def _set(store, table: str, object_id: str, until: date | None) -> None:  # type: ignore[no-untyped-def]
    with store.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {table} SET retain_until = :d WHERE id = :i"),
            {"d": until, "i": object_id},
        )


def test_retention_purges_expired_items_with_their_links_and_history(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ws.db")
    with store.session() as s:
        ws = ensure_default_workspace(s)
        old = repository.create(
            s, ws.id, "story", {"title": "Old", "text": "private words"}, actor="a"
        )
        today_story = repository.create(s, ws.id, "story", {"title": "Due today"}, actor="a")
        keep = repository.create(s, ws.id, "story", {"title": "No date"}, actor="a")
        talk = repository.create(s, ws.id, "conversation", {"what_matters": "my garden"}, actor="a")
        purpose = repository.create(
            s,
            ws.id,
            "purpose_statement",
            {"text": "Stay at home", "voice": "I", "level": "person", "status": "draft"},
            actor="a",
        )
        s.commit()
    _set(store, "story", old.id, date(2026, 1, 31))
    _set(store, "story", today_story.id, date(2026, 3, 1))
    _set(store, "conversation", talk.id, date(2026, 2, 1))
    today = date(2026, 3, 1)

    dry = run_retention(store.engine, today=today, dry_run=True)
    assert sorted(i.object_id for i in dry.purged) == sorted([old.id, talk.id])
    assert dry.counts() == {"story": 1, "conversation": 1, "demand": 0}
    assert len(expired_items(store.engine, today)) == 2  # nothing removed by a dry run

    done = run_retention(store.engine, today=today)
    assert sorted(i.object_id for i in done.purged) == sorted([old.id, talk.id])
    with store.session() as s:
        titles = sorted(x.title for x in repository.list_objects(s, ws.id, "story"))
        assert titles == ["Due today", "No date"]  # kept until the day after its date
        assert repository.list_objects(s, ws.id, "conversation") == []
        assert repository.get(s, ws.id, "purpose_statement", purpose.id).text == "Stay at home"
        assert repository.history(s, ws.id, kind="story", object_id=old.id) == []
        purges = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "purge")))
    assert {(e.object_kind, e.object_id) for e in purges} == {
        ("story", old.id),
        ("conversation", talk.id),
    }
    assert all("private words" not in str(e.before) for e in purges)
    assert run_retention(store.engine, today=today).purged == []  # idempotent
    assert keep.id
    store.dispose()
