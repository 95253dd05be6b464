"""Deleted personal text leaves no trace in the SQLite files: not in the database file
(``secure_delete``) and not in its write-ahead log (a truncating checkpoint after the
commit that deleted it), whether a person deletes it or the retention run does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from systemic.store import open_store
from systemic.store.repository import create, delete_object, ensure_default_workspace
from systemic.store.retention import run_retention

WORDS = "Mrs Quenby told us about her late husband's pension"


def _traces(db: Path) -> list[str]:
    """The files of the database that still hold the words."""
    files = [db, Path(f"{db}-wal"), Path(f"{db}-journal")]
    return [f.name for f in files if f.exists() and WORDS.encode() in f.read_bytes()]


def test_a_deleted_story_leaves_no_words_in_the_files(tmp_path: Path) -> None:
    db = tmp_path / "ws.db"
    store = open_store(db)
    with store.session() as s:
        ws = ensure_default_workspace(s)
        story = create(s, ws.id, "story", {"title": "Pension", "text": WORDS})
        s.commit()
    assert _traces(db)  # the words are stored (in the log until a checkpoint)
    with store.session() as s:
        delete_object(s, ws.id, "story", story.id)
        s.commit()
    assert _traces(db) == []
    store.dispose()


def test_a_rolled_back_deletion_keeps_the_story(tmp_path: Path) -> None:
    db = tmp_path / "ws.db"
    store = open_store(db)
    with store.session() as s:
        ws = ensure_default_workspace(s)
        story = create(s, ws.id, "story", {"title": "Pension", "text": WORDS})
        s.commit()
    with store.session() as s:
        delete_object(s, ws.id, "story", story.id)
        s.rollback()
        assert "systemic_deleted_personal_text" not in s.info
    with store.session() as s:
        from systemic.store.repository import get

        assert get(s, ws.id, "story", story.id).text == WORDS
    store.dispose()


def test_the_retention_run_leaves_no_words_in_the_files(tmp_path: Path) -> None:
    db = tmp_path / "ws.db"
    store = open_store(db)
    with store.session() as s:
        ws = ensure_default_workspace(s)
        create(s, ws.id, "story", {"title": "Pension", "text": WORDS, "retain_until": "2026-01-01"})
        s.commit()
    assert _traces(db)
    report = run_retention(store.engine, today=date(2026, 6, 1))
    assert len(report.purged) == 1
    assert _traces(db) == []
    store.dispose()
