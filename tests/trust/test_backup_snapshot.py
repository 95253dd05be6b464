"""Backups taken while people write are one snapshot; restore checks before it writes.

The review's attack: with clients writing, a backup held a story link whose story
was missing, and restoring it failed with ``FOREIGN KEY constraint failed``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from systemic.store import open_store, repository
from systemic.store.backup import BackupError, backup, read_manifest, restore
from systemic.store.db import make_engine
from systemic.store.migrate import upgrade
from systemic.store.repository import ensure_default_workspace
from tests.conftest import pg_url
from tests.trust.conftest import LiveWorkspace, live_workspace

Arm = Callable[[LiveWorkspace], list[int]]


def _integrity(db: Path) -> tuple[str, list]:
    with sqlite3.connect(db) as conn:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
    return ok, dangling


def _restored_integrity(folder: Path, db: Path) -> tuple[str, list]:
    """Restore the backup in ``folder`` into a new SQLite database ``db``; its integrity."""
    target = open_store(db)
    restore(folder, target.engine)
    target.dispose()
    return _integrity(db)


def test_a_write_between_two_tables_is_not_half_in_the_backup(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    live: LiveWorkspace,
    write_during_backup: Arm,
) -> None:
    written = write_during_backup(live)
    manifest = backup(live.store.engine, tmp_path / "bk")
    monkeypatch.undo()
    assert written
    # The write came after the snapshot: neither the story nor its link is in the backup.
    assert manifest["tables"]["story"]["rows"] == 0
    assert manifest["tables"]["system_condition_stories"]["rows"] == 0
    assert _restored_integrity(tmp_path / "bk", tmp_path / "restored.db") == ("ok", [])


def test_backups_under_concurrent_writers_all_restore(tmp_path: Path, live: LiveWorkspace) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        n = 0
        while not stop.is_set():
            try:
                live.write_story_with_link(k * 100_000 + n)
            except BaseException as exc:
                if "locked" not in str(exc):
                    errors.append(exc)
            n += 1

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    try:
        for b in range(3):
            backup(live.store.engine, tmp_path / f"bk{b}")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    for b in range(3):
        assert _restored_integrity(tmp_path / f"bk{b}", tmp_path / f"restored{b}.db") == (
            "ok",
            [],
        )


def _history_bytes(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, changes FROM history ORDER BY id").fetchall() + (
            conn.execute("SELECT id, before, after FROM audit_event ORDER BY id").fetchall()
        )


def test_restore_keeps_json_values_byte_for_byte(tmp_path: Path) -> None:
    from systemic.store.accounts import record_event

    store = open_store(tmp_path / "live.db")
    with store.session() as s:
        ws = ensure_default_workspace(s).id
        # Key order that sorting would change: "zeta" before "alpha".
        repository.record_history(
            s, ws, "amira", "update", "locality", "x", {"zeta": 1, "alpha": {"b": 2, "a": 1}}
        )
        record_event(s, actor="amira", action="export", after={"zeta": 1, "alpha": 2})
        s.commit()
    backup(store.engine, tmp_path / "bk")
    target = open_store(tmp_path / "restored.db")
    restore(tmp_path / "bk", target.engine)
    target.dispose()
    assert _history_bytes(tmp_path / "live.db") == _history_bytes(tmp_path / "restored.db")
    store.dispose()


def _rewrite_manifest(folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def _dataset(tmp_path: Path) -> Path:
    import datetime as dt

    import polars as pl

    from systemic.data import write_dataset

    events = pl.DataFrame(
        {
            "person_id": ["a1"],
            "service": ["Housing"],
            "activity": ["call"],
            "timestamp": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)],
        }
    )
    write_dataset(events, tmp_path / "town", source_name="calls")
    return tmp_path / "town"


def test_restore_refuses_an_edited_manifest_before_writing_anything(
    tmp_path: Path, live: LiveWorkspace
) -> None:
    backup(live.store.engine, tmp_path / "bk", datasets=[_dataset(tmp_path)])
    _rewrite_manifest(tmp_path / "bk", lambda m: m["tables"]["workspace"].update(rows=7))
    with pytest.raises(BackupError, match="manifest's checksum"):
        read_manifest(tmp_path / "bk")


def test_restore_refuses_a_dataset_name_that_leaves_the_target(
    tmp_path: Path, live: LiveWorkspace
) -> None:
    folder = tmp_path / "bk"
    backup(live.store.engine, folder, datasets=[_dataset(tmp_path)])
    # An attacker renames the dataset and recomputes the manifest's checksum.
    (folder / "datasets" / "01-town").rename(folder / "escaped")

    def escape(manifest: dict) -> None:
        manifest["datasets"][0]["name"] = "../../escaped"
        manifest.pop("manifest_sha256")
        body = json.dumps(manifest, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        manifest["manifest_sha256"] = hashlib.sha256(body.encode()).hexdigest()

    _rewrite_manifest(folder, escape)
    target = open_store(tmp_path / "restored.db")
    into = tmp_path / "deep" / "er" / "restored"
    with pytest.raises(BackupError, match="not a plain folder name"):
        restore(folder, target.engine, datasets_to=into)
    assert not (tmp_path / "deep").exists()
    with target.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM workspace")).scalar() == 0
    target.dispose()


def test_staging_folders_are_not_backed_up(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path)
    staging = dataset / ".staging-s0002-deadbeef" / "events"
    staging.mkdir(parents=True)
    (staging / "part-00000.parquet").write_bytes(b"half an import")
    store = open_store(tmp_path / "live.db")
    manifest = backup(store.engine, tmp_path / "bk", datasets=[dataset])
    assert not any(".staging-" in f for f in manifest["datasets"][0]["files"])
    assert not list((tmp_path / "bk").rglob(".staging-*"))
    store.dispose()


def test_restoring_an_inconsistent_backup_is_a_clear_error(
    tmp_path: Path, live: LiveWorkspace
) -> None:
    """A backup from before the fix (a link without its story) gives no traceback."""
    live.write_story_with_link(1)
    folder = tmp_path / "bk"
    backup(live.store.engine, folder)
    (folder / "tables" / "story.jsonl").write_text("")

    def rehash(manifest: dict) -> None:
        entry = manifest["tables"]["story"]
        entry["sha256"] = hashlib.sha256(b"").hexdigest()
        manifest.pop("manifest_sha256")
        body = json.dumps(manifest, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        manifest["manifest_sha256"] = hashlib.sha256(body.encode()).hexdigest()

    _rewrite_manifest(folder, rehash)
    target = open_store(tmp_path / "restored.db")
    with pytest.raises(BackupError, match="do not fit together"):
        restore(folder, target.engine)
    with target.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM workspace")).scalar() == 0
    target.dispose()


@pytest.mark.postgres
def test_postgres_backup_is_one_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_during_backup: Arm
) -> None:
    if not pg_url():
        pytest.skip("SYSTEMIC_TEST_PG_URL is not set (see .ci/run)")
    from tests.store.databases import pg_schema

    with pg_schema() as live_url, pg_schema() as target_url, live_workspace(live_url) as live:
        written = write_during_backup(live)
        manifest = backup(live.store.engine, tmp_path / "bk")
        monkeypatch.undo()
        assert written
        assert manifest["tables"]["system_condition_stories"]["rows"] == 0
        target = make_engine(target_url)
        upgrade(target)
        restore(tmp_path / "bk", target)
        with target.connect() as conn:
            dangling = conn.execute(
                text(
                    "SELECT count(*) FROM system_condition_stories l "
                    "LEFT JOIN story s ON s.id = l.target_id WHERE s.id IS NULL"
                )
            ).scalar()
        assert dangling == 0
        target.dispose()
