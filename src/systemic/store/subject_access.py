"""Subject access and erasure: everything held about one pseudonymised person.

``export_person`` gathers that person's event rows, people rows and rejected
source rows (a reject keeps its source row as text, with identifiers already
pseudonymised, so the person's rows are those that name the pseudonym) from
dataset folders; ``erase_person`` rewrites the affected parquet files without
them, updates the manifest's counts, and adds an erasure note. Only the
pseudonym is ever handled here: a clear id given by the person is turned into
the pseudonym with the key first (``pseudonym_for``) and never written anywhere.

>>> import tempfile, pathlib, polars as pl
>>> from datetime import datetime, UTC
>>> from systemic.data import write_dataset
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "ds"
>>> events = pl.DataFrame({"person_id": ["p1", "p2", "p1"], "service": ["Housing"] * 3,
...     "activity": ["call", "visit", "call"],
...     "timestamp": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]})
>>> _ = write_dataset(events, folder, source_name="demo")
>>> export_person("p1", [folder]).events.height
2
>>> erase_person("p1", folder).events_removed
2
>>> export_person("p1", [folder]).events.height
0
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from systemic.data import open_dataset
from systemic.data.dataset import REJECTS_DIR, Dataset
from systemic.data.export import neutralise_formulas
from systemic.data.pseudonymise import load_key

MANIFEST = "manifest.json"


def pseudonym_for(clear_id: str) -> str:
    """The pseudonym of a clear id under the configured key (the clear id is not kept)."""
    return load_key().pseudonym(clear_id)


def person_digest(pseudonym: str) -> str:
    """A short digest naming the person in erasure notes (not the pseudonym itself)."""
    return hashlib.sha256(pseudonym.encode("utf-8")).hexdigest()[:16]


@dataclass
class PersonRecord:
    """Everything the datasets hold about one person."""

    pseudonym: str
    events: pl.DataFrame
    people: pl.DataFrame
    rejects: pl.DataFrame

    def write(self, folder: str | Path) -> list[Path]:
        """Write the record as CSV files (for the person) into ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "events.csv", out / "people.csv", out / "rejects.csv"]
        # Opened in a spreadsheet: no value may run as a formula.
        for frame, path in zip((self.events, self.people, self.rejects), paths, strict=True):
            neutralise_formulas(frame).write_csv(path)
        return paths


def _names(pseudonym: str) -> pl.Expr:
    """Rejected rows whose kept source row names the pseudonym."""
    return pl.col("row").str.contains(pseudonym, literal=True).fill_null(False)


def export_person(pseudonym: str, datasets: list[str | Path]) -> PersonRecord:
    """Every event and people row with ``person_id == pseudonym`` in the datasets."""
    events: list[pl.DataFrame] = []
    people: list[pl.DataFrame] = []
    rejects: list[pl.DataFrame] = []
    for folder in datasets:
        dataset = open_dataset(folder)
        found = dataset.events().filter(pl.col("person_id") == pseudonym).collect()
        events.append(found.with_columns(pl.lit(str(folder)).alias("dataset")))
        rejected = dataset.rejects().filter(_names(pseudonym)).collect()
        rejects.append(rejected.with_columns(pl.lit(str(folder)).alias("dataset")))
        table = dataset.people()
        if table is not None and "person_id" in table.columns:
            rows = table.filter(pl.col("person_id") == pseudonym)
            people.append(rows.with_columns(pl.lit(str(folder)).alias("dataset")))
    return PersonRecord(
        pseudonym=pseudonym,
        events=pl.concat(events, how="diagonal_relaxed") if events else pl.DataFrame(),
        people=pl.concat(people, how="diagonal_relaxed") if people else pl.DataFrame(),
        rejects=pl.concat(rejects, how="diagonal_relaxed") if rejects else pl.DataFrame(),
    )


@dataclass
class ErasureReport:
    """What an erasure removed from one dataset."""

    dataset: Path
    events_removed: int
    people_removed: int
    parts_rewritten: list[str]
    rejects_removed: int = 0


def _rewrite(path: Path, keep: pl.DataFrame) -> None:
    """Replace a parquet file atomically (write beside it, then rename)."""
    tmp = path.with_name(path.name + ".erasing")
    keep.write_parquet(tmp, compression="lz4", statistics=True)
    os.replace(tmp, path)


def erase_person(pseudonym: str, dataset_folder: str | Path) -> ErasureReport:
    """Remove every row of one person from a dataset folder and note it in the manifest."""
    folder = Path(dataset_folder)
    dataset = open_dataset(folder)
    # Under the dataset's lock, what interrupted imports left (``.staging-*`` folders,
    # files of sources never committed) goes first: it may hold the person's rows.
    with dataset.writing():
        return _erase(pseudonym, folder, dataset)


def _erase(pseudonym: str, folder: Path, dataset: Dataset) -> ErasureReport:
    removed = rejects_removed = 0
    rewritten: list[str] = []
    for source in dataset.manifest.sources:
        from_source = 0
        for part in sorted((folder / "events" / source.id).glob("*.parquet")):
            frame = pl.read_parquet(part)
            keep = frame.filter(pl.col("person_id") != pseudonym)
            if keep.height != frame.height:
                _rewrite(part, keep)
                from_source += frame.height - keep.height
                rewritten.append(part.relative_to(folder).as_posix())
        rejected = 0
        rejects_path = folder / REJECTS_DIR / f"{source.id}.parquet"
        if rejects_path.exists():
            frame = pl.read_parquet(rejects_path)
            keep = frame.filter(~_names(pseudonym))
            rejected = frame.height - keep.height
            if rejected:
                _rewrite(rejects_path, keep)
                rewritten.append(rejects_path.relative_to(folder).as_posix())
        if from_source or rejected:
            source.accepted -= from_source
            source.rejected -= rejected
            source.read -= from_source + rejected  # keeps read == accepted + rejected
            source.notes.setdefault("erasures", []).append(
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "events_removed": from_source,
                    "rejects_removed": rejected,
                    "person": person_digest(pseudonym),
                }
            )
            removed += from_source
            rejects_removed += rejected
    people_removed = 0
    people_path = folder / "people.parquet"
    if people_path.exists():
        table = pl.read_parquet(people_path)
        if "person_id" in table.columns:
            keep = table.filter(pl.col("person_id") != pseudonym)
            people_removed = table.height - keep.height
            if people_removed:
                _rewrite(people_path, keep)
                rewritten.append("people.parquet")
    if removed or people_removed or rejects_removed:
        tmp = folder / (MANIFEST + ".erasing")
        tmp.write_text(dataset.manifest.to_json(), encoding="utf-8")
        os.replace(tmp, folder / MANIFEST)
    return ErasureReport(folder, removed, people_removed, rewritten, rejects_removed)


def erasure_notes(dataset_folder: str | Path) -> list[dict[str, object]]:
    """Every erasure note in a dataset's manifest."""
    body = json.loads((Path(dataset_folder) / MANIFEST).read_text(encoding="utf-8"))
    return [n for s in body["sources"] for n in s.get("notes", {}).get("erasures", [])]
