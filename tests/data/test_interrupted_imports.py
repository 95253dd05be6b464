"""What an interrupted import leaves never blocks, leaks into, or survives later work.

The review's attacks: a kill inside the dataset's commit window (events written,
manifest not) blocked every later import with ``OSError: Directory not empty``
and ``rejects()`` read the orphan; ``.staging-*`` folders were never cleaned,
were copied by backups and were ignored by erasure (300 rows of an erased person
remained).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from systemic.data import import_sources, load_key, open_dataset
from systemic.data.dataset import Dataset, uncommitted_paths
from systemic.store.subject_access import erase_person

from .conftest import mapping

HEAD = "who,what,when\n"


def _csv(tmp_path: Path, name: str, who: str, n: int) -> Path:
    path = tmp_path / name
    rows = [f"{who},call,2024-01-{1 + i % 28:02d} 09:00" for i in range(n)]
    path.write_text(HEAD + "\n".join(rows) + f"\n{who},call,not a time\n")
    return path


class Killed(BaseException):
    """Stands for SIGKILL between the rename of the events and the manifest."""


def test_a_kill_in_the_commit_window_does_not_block_later_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = tmp_path / "ds"
    import_sources([_csv(tmp_path, "a.csv", "A1", 3)], mapping(), ds)

    def killed(self: Dataset) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(Dataset, "_save_manifest", killed)
        with pytest.raises(Killed):
            import_sources([_csv(tmp_path, "b.csv", "B1", 5)], mapping(), ds)
    # The orphan is on disk, but not part of the dataset.
    assert (ds / "events" / "s0002").exists() and (ds / "rejects" / "s0002.parquet").exists()
    assert open_dataset(ds).rejects().collect().height == 1  # only the committed source's
    (entry,) = import_sources([_csv(tmp_path, "c.csv", "C1", 4)], mapping(), ds)
    assert entry.id == "s0002" and entry.accepted == 4
    dataset = open_dataset(ds)
    assert dataset.events().collect().height == 3 + 4
    assert dataset.rejects().collect().height == 2
    assert uncommitted_paths(ds) == []


def _staging_with_rows(ds: Path, pseudonym: str, n: int) -> Path:
    staging = ds / ".staging-s0009-deadbeef" / "events"
    staging.mkdir(parents=True)
    pl.DataFrame({"person_id": [pseudonym] * n}).write_parquet(staging / "part-00000.parquet")
    return staging.parent


def test_staging_folders_are_cleaned_by_the_next_import(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    import_sources([_csv(tmp_path, "a.csv", "A1", 3)], mapping(), ds)
    staging = _staging_with_rows(ds, "someone", 300)
    import_sources([_csv(tmp_path, "b.csv", "B1", 2)], mapping(), ds)
    assert not staging.exists()


def test_erasure_covers_staging_folders_and_orphans(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    import_sources([_csv(tmp_path, "a.csv", "A1", 3)], mapping(), ds)
    pseudonym = load_key().pseudonym("A1")
    staging = _staging_with_rows(ds, pseudonym, 300)
    orphan = ds / "events" / "s0005"
    orphan.mkdir()
    pl.DataFrame({"person_id": [pseudonym] * 10}).write_parquet(orphan / "part-00000.parquet")
    report = erase_person(pseudonym, ds)
    assert report.events_removed == 3
    assert not staging.exists() and not orphan.exists()
    for path in ds.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        if "person_id" in frame.columns:
            assert pseudonym not in frame["person_id"].to_list(), path


def test_two_writers_at_once_get_a_clear_error(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    import_sources([_csv(tmp_path, "a.csv", "A1", 3)], mapping(), ds)
    dataset = open_dataset(ds)
    with dataset.writing():
        from systemic.data import DatasetError

        with pytest.raises(DatasetError, match="another import"):
            import_sources([_csv(tmp_path, "b.csv", "B1", 2)], mapping(), ds)
