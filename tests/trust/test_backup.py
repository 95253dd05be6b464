"""Backup then restore into an empty instance: everything identical (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import text

from systemic.data import open_dataset, write_dataset
from systemic.store import export_workspace, open_store
from systemic.store.backup import BackupError, backup, read_manifest, restore
from systemic.store.db import make_engine
from systemic.store.migrate import upgrade
from tests.conftest import pg_url
from tests.trust.populate import populate


def _tables(folder: Path) -> dict[str, str]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {name: (folder / t["file"]).read_text() for name, t in manifest["tables"].items()}


def _dataset(tmp_path: Path) -> Path:
    from datetime import UTC, datetime

    events = pl.DataFrame(
        {
            "person_id": ["a1", "b2", "a1"],
            "service": ["Housing"] * 3,
            "activity": ["call", "visit", "repair"],
            "timestamp": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)],
        }
    )
    folder = tmp_path / "town"
    write_dataset(events, folder, source_name="repairs")
    return folder


def test_backup_restore_sqlite_is_identical(tmp_path: Path) -> None:
    source = open_store(tmp_path / "source.db")
    ids = populate(source)
    dataset = _dataset(tmp_path)
    manifest = backup(source.engine, tmp_path / "bk", datasets=[dataset])
    assert manifest["tables"]["purpose_statement"]["rows"] > 0
    assert manifest["tables"]["audit_event"]["rows"] >= 1
    assert manifest["tables"]["story"]["rows"] >= 1

    target = open_store(tmp_path / "target.db")
    restore(tmp_path / "bk", target.engine, datasets_to=tmp_path / "restored")
    # A second backup of the restored database is byte-for-byte the first.
    backup(target.engine, tmp_path / "bk2")
    assert _tables(tmp_path / "bk") == _tables(tmp_path / "bk2")
    with source.session() as a, target.session() as b:
        assert export_workspace(a, ids["workspace"]) == export_workspace(b, ids["workspace"])
        assert export_workspace(a, "trust") == export_workspace(b, "trust")
    with target.engine.connect() as conn:
        retained = conn.execute(
            text("SELECT retain_until FROM story WHERE id = :i"), {"i": ids["story"]}
        ).scalar()
    assert str(retained) == "2026-06-30"
    restored = open_dataset(tmp_path / "restored" / "01-town")
    assert restored.events().collect().equals(open_dataset(dataset).events().collect())
    # The restored instance keeps working: new rows get fresh ids.
    with target.session() as s:
        from systemic.store.accounts import record_event

        assert (
            record_event(s, actor="x", action="login").id
            > manifest["tables"]["audit_event"]["rows"]
        )
        s.commit()
    source.dispose()
    target.dispose()


def test_restore_refuses_a_non_empty_database_and_damaged_backups(tmp_path: Path) -> None:
    source = open_store(tmp_path / "source.db")
    populate(source)
    backup(source.engine, tmp_path / "bk")
    with pytest.raises(BackupError, match="not empty"):
        restore(tmp_path / "bk", source.engine)
    with pytest.raises(BackupError, match="not empty"):
        backup(source.engine, tmp_path / "bk")
    never = make_engine(tmp_path / "never.db")
    with pytest.raises(BackupError, match="revision"):
        restore(tmp_path / "bk", never)
    damaged = tmp_path / "bk" / "tables" / "story.jsonl"
    damaged.write_text(damaged.read_text().replace("Mrs K", "Mr X"))
    with pytest.raises(BackupError, match="checksum"):
        read_manifest(tmp_path / "bk")
    source.dispose()


def test_the_pseudonymisation_key_never_goes_into_a_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _dataset(tmp_path)
    key_text = "a-very-secret-pseudonymisation-key-4242"
    (dataset / "key").write_text(key_text)  # a key left in the folder by mistake
    store = open_store(tmp_path / "s.db")
    backup(store.engine, tmp_path / "bk", datasets=[dataset])
    for path in (tmp_path / "bk").rglob("*"):
        if path.is_file():
            assert key_text.encode() not in path.read_bytes(), path
    assert not list((tmp_path / "bk").rglob("key"))
    store.dispose()


@pytest.mark.postgres
def test_backup_restore_postgres_and_across_engines(tmp_path: Path) -> None:
    if not pg_url():
        pytest.skip("SYSTEMIC_TEST_PG_URL is not set (see .ci/run)")
    from tests.store.databases import pg_schema

    source = open_store(tmp_path / "source.db")
    ids = populate(source)
    backup(source.engine, tmp_path / "from_sqlite")
    with pg_schema() as url_a, pg_schema() as url_b:
        pg_a = make_engine(url_a)
        upgrade(pg_a)
        restore(tmp_path / "from_sqlite", pg_a)  # SQLite -> PostgreSQL
        backup(pg_a, tmp_path / "from_pg")
        assert _tables(tmp_path / "from_sqlite") == _tables(tmp_path / "from_pg")
        pg_b = make_engine(url_b)
        upgrade(pg_b)
        restore(tmp_path / "from_pg", pg_b)  # PostgreSQL -> PostgreSQL
        backup(pg_b, tmp_path / "from_pg_again")
        assert _tables(tmp_path / "from_pg") == _tables(tmp_path / "from_pg_again")
        store_b = open_store(url_b, migrate=False)
        with source.session() as a, store_b.session() as b:
            assert export_workspace(a, ids["workspace"]) == export_workspace(b, ids["workspace"])
        # Sequences moved past the restored ids.
        from systemic.store.accounts import record_event

        with store_b.session() as s:
            record_event(s, actor="x", action="login")
            s.commit()
        with pytest.raises(Exception, match="append-only"), pg_b.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))
        pg_a.dispose()
        pg_b.dispose()
        store_b.dispose()
    source.dispose()
