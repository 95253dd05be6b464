"""Soak (``make soak``): 20 writers for a while, backups taken meanwhile, every one restored.

SQLite: each restored database passes ``PRAGMA integrity_check`` and
``PRAGMA foreign_key_check``. PostgreSQL (when configured): each backup restores
(its foreign keys are checked as rows go in) and a backup of the restored
database holds the same rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from systemic.store import Store, open_store, repository
from systemic.store.backup import backup, restore
from systemic.store.db import make_engine, session_factory
from systemic.store.migrate import upgrade
from systemic.store.repository import ensure_default_workspace
from tests.conftest import pg_url

WRITERS = 20
BACKUPS = 5
SECONDS = 20.0


def _write(store: Store, workspace_id: str, n: int) -> None:
    """A story, a condition linked to it, then (every third) the story deleted again."""
    with store.session() as s:
        story = repository.create(s, workspace_id, "story", {"title": f"s{n}", "text": "t"})
        repository.create(
            s, workspace_id, "system_condition", {"name": f"c{n}", "story_ids": [story.id]}
        )
        s.commit()
    if n % 3 == 0:
        with store.session() as s:
            repository.delete_object(s, workspace_id, "story", story.id)
            s.commit()


def _soak(store: Store, folder: Path) -> list[Path]:
    with store.session() as s:
        ws = ensure_default_workspace(s).id
        s.commit()
    stop = threading.Event()
    failures: list[str] = []

    def writer(k: int) -> None:
        n = 0
        while not stop.is_set():
            try:
                _write(store, ws, k * 1_000_000 + n)
            except Exception as exc:
                if "locked" not in str(exc) and "could not serialize" not in str(exc):
                    failures.append(repr(exc))
            n += 1

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    taken: list[Path] = []
    try:
        start = time.monotonic()
        for b in range(BACKUPS):
            time.sleep(SECONDS / BACKUPS)
            taken.append(folder / f"bk{b}")
            backup(store.engine, taken[-1])
        assert time.monotonic() - start < SECONDS * 4
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures, failures[:3]
    return taken


def _wide_store(db: str | Path) -> Store:
    """A migrated store whose pool has a connection for every writer and the backup."""
    open_store(db).dispose()  # creates and migrates
    engine = make_engine(db, pool_size=WRITERS + 2)
    return Store(engine, session_factory(engine))


def _rows(folder: Path) -> dict[str, int]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {name: t["rows"] for name, t in manifest["tables"].items()}


@pytest.mark.soak
def test_soak_sqlite_backups_under_twenty_writers_restore(tmp_path: Path) -> None:
    store = _wide_store(tmp_path / "live.db")
    taken = _soak(store, tmp_path)
    assert _rows(taken[-1])["story"] > _rows(taken[0])["story"]  # writes went on meanwhile
    for n, folder in enumerate(taken):
        target = tmp_path / f"restored{n}.db"
        restored = open_store(target)
        restore(folder, restored.engine)
        restored.dispose()
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    store.dispose()


@pytest.mark.soak
@pytest.mark.postgres
def test_soak_postgres_backups_under_twenty_writers_restore(tmp_path: Path) -> None:
    if not pg_url():
        pytest.skip("SYSTEMIC_TEST_PG_URL is not set (see .ci/run)")
    from tests.store.databases import pg_schema

    with pg_schema() as live_url:
        store = _wide_store(live_url)
        taken = _soak(store, tmp_path)
        store.dispose()
    for folder in taken:
        with pg_schema() as url:
            engine = make_engine(url)
            upgrade(engine)
            restore(folder, engine)  # foreign keys are enforced as the rows go in
            again = folder.with_name(folder.name + "-again")
            backup(engine, again)
            assert _rows(again) == _rows(folder)
            engine.dispose()
