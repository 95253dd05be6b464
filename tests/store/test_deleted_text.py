"""Deleted personal text leaves no trace in the SQLite files: not in the database file
(``secure_delete``) and not in its write-ahead log (a truncating checkpoint after the
commit that deleted it), whether a person deletes it or the retention run does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from systemic.store import Store, open_store
from systemic.store.personal import DELETED_PERSONAL_TEXT
from systemic.store.repository import create, delete_object, ensure_default_workspace, get
from systemic.store.retention import run_retention

WORDS = "Mrs Quenby told us about her late husband's pension"


def _traces(db: Path) -> list[str]:
    """The files of the database that still hold the words."""
    files = [db, Path(f"{db}-wal"), Path(f"{db}-journal")]
    return [f.name for f in files if f.exists() and WORDS.encode() in f.read_bytes()]


def _story(db: Path, **fields: str) -> tuple[Store, str, str]:
    """A store on ``db`` holding one story of :data:`WORDS`: (store, workspace id, story id)."""
    store = open_store(db)
    with store.session() as s:
        ws = ensure_default_workspace(s)
        story = create(s, ws.id, "story", {"title": "Pension", "text": WORDS, **fields})
        s.commit()
    return store, ws.id, story.id


def test_a_deleted_story_leaves_no_words_in_the_files(tmp_path: Path) -> None:
    db = tmp_path / "ws.db"
    store, ws_id, story_id = _story(db)
    assert _traces(db)  # the words are stored (in the log until a checkpoint)
    with store.session() as s:
        delete_object(s, ws_id, "story", story_id)
        s.commit()
    assert _traces(db) == []
    store.dispose()


def test_a_rolled_back_deletion_keeps_the_story(tmp_path: Path) -> None:
    store, ws_id, story_id = _story(tmp_path / "ws.db")
    with store.session() as s:
        delete_object(s, ws_id, "story", story_id)
        s.rollback()
        assert DELETED_PERSONAL_TEXT not in s.info
    with store.session() as s:
        assert get(s, ws_id, "story", story_id).text == WORDS
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
