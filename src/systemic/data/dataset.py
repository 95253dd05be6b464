"""A dataset is a folder: events, people, rejects and a manifest.

Layout::

    DATASET/
      manifest.json              sources, their hashes, mappings, counts
      events/<source id>/part-00000.parquet ...
      rejects/<source id>.parquet
      people.parquet             optional

Each import appends one *source* with its own manifest entry. The invariant
``read == accepted + rejected + filtered`` holds for every source and is
checked when the entry is committed (``filtered``: rows the mapping's
filters removed, counted per filter in ``filters``). Writing is atomic per
source: parts go to a temporary folder (``.staging-*``) that is renamed into
place, and the manifest is replaced in one step; the manifest is the commit.
Files of a source the manifest does not list (an import killed between the
rename and the manifest) are not part of the dataset: readers ignore them,
and the next import or erasure removes them and any ``.staging-*`` folder
(:meth:`Dataset.discard_uncommitted`), under a lock so that one import
at a time writes to a dataset.

>>> import tempfile, datetime as dt, polars as pl
>>> from systemic.data.dataset import write_dataset, open_dataset
>>> events = pl.DataFrame({"person_id": ["a1", "a1"], "service": ["Housing", "Benefits"],
...     "activity": ["call", "claim"],
...     "timestamp": [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in (1, 2)]})
>>> path = tempfile.mkdtemp() + "/town"
>>> ds = write_dataset(events, path, source_name="example")
>>> open_dataset(path).events().collect().height
2
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from systemic.data.errors import DatasetError
from systemic.data.schema import (
    EVENT_SCHEMA,
    PEOPLE_SCHEMA,
    REJECT_SCHEMA,
    SCHEMA_VERSION,
    conform_events,
)

MANIFEST = "manifest.json"
EVENTS_DIR = "events"
REJECTS_DIR = "rejects"
PEOPLE_FILE = "people.parquet"
#: Folders in which a source is written before it is committed.
STAGING_PREFIX = ".staging-"
#: Held while a source is appended or the dataset is cleaned, so one writer at a time.
LOCK_FILE = ".import.lock"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the dataset folder (a no-op where flock does not exist)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one import at a time is documented
        yield
        return
    with open(folder / LOCK_FILE, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(
                f"{folder}: another import (or erasure) is writing to this dataset; "
                "wait for it to finish, then try again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def uncommitted_paths(folder: str | os.PathLike[str]) -> list[Path]:
    """Files and folders in a dataset that no committed source owns.

    ``.staging-*`` folders, ``events/<id>`` folders and ``rejects/<id>.parquet`` files
    of sources absent from the manifest (an import killed in its commit window).
    """
    p = Path(folder)
    mf = p / MANIFEST
    if not mf.exists():
        return []
    known = {s.id for s in Manifest.from_json(mf.read_text(encoding="utf-8")).sources}
    found = sorted(x for x in p.glob(STAGING_PREFIX + "*"))
    found += sorted(x for x in (p / EVENTS_DIR).glob("*") if x.name not in known)
    found += sorted(x for x in (p / REJECTS_DIR).glob("*.parquet") if x.stem not in known)
    return found


#: Rows per events part file; large imports are split into several parts.
PART_ROWS = 2_000_000


@dataclass
class SourceEntry:
    """One import into the dataset, as recorded in the manifest."""

    id: str
    name: str
    format: str
    sha256: str | None = None
    size_bytes: int | None = None
    mapping: dict[str, Any] | None = None
    mapping_sha256: str | None = None
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    #: Rows removed by the mapping's filters; ``filters`` says which removed how many.
    filtered: int = 0
    filters: list[dict[str, Any]] = field(default_factory=list)
    imported_at: str = ""
    parts: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Manifest:
    """What a dataset holds and where each row came from."""

    schema_version: str = SCHEMA_VERSION
    created: str = ""
    sources: list[SourceEntry] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(s.read for s in self.sources)

    @property
    def accepted(self) -> int:
        return sum(s.accepted for s in self.sources)

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)

    @property
    def filtered(self) -> int:
        return sum(s.filtered for s in self.sources)

    def to_json(self) -> str:
        body = {
            "schema_version": self.schema_version,
            "created": self.created,
            "counts": {
                "read": self.read,
                "accepted": self.accepted,
                "rejected": self.rejected,
                "filtered": self.filtered,
            },
            "sources": [asdict(s) for s in self.sources],
        }
        return json.dumps(body, indent=2, sort_keys=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        body = json.loads(text)
        return cls(
            schema_version=body["schema_version"],
            created=body.get("created", ""),
            sources=[SourceEntry(**s) for s in body.get("sources", [])],
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Dataset:
    """A dataset folder. Open with :func:`open_dataset` or :func:`create_dataset`."""

    def __init__(self, path: str | os.PathLike[str], manifest: Manifest) -> None:
        self.path = Path(path)
        self.manifest = manifest

    # -- reading -----------------------------------------------------------
    def events(self, columns: list[str] | None = None) -> pl.LazyFrame:
        """All events as one lazy frame (sources concatenated in import order).

        Attribute columns present in only some sources are null elsewhere;
        an attribute with different types in different sources is widened
        (to text if need be).
        """
        scans = []
        for source in self.manifest.sources:
            if not source.parts:
                continue
            files = [str(self.path / EVENTS_DIR / source.id / p) for p in source.parts]
            # Parts of one source may differ in attribute columns (e.g. XES batches).
            parts = [pl.scan_parquet(f) for f in files]
            scans.append(parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed"))
        if not scans:
            empty = pl.DataFrame(schema=EVENT_SCHEMA).lazy()
            return empty.select(columns) if columns else empty
        lf = scans[0] if len(scans) == 1 else pl.concat(scans, how="diagonal_relaxed")
        return lf.select(columns) if columns else lf

    def event_files(self) -> list[Path]:
        """The Parquet files that hold the events, in import order."""
        return [self.path / EVENTS_DIR / s.id / p for s in self.manifest.sources for p in s.parts]

    def rejects(self) -> pl.LazyFrame:
        """Every rejected row with its source, file, line, field and reason."""
        committed = [self.path / REJECTS_DIR / f"{s.id}.parquet" for s in self.manifest.sources]
        files = [f for f in committed if f.exists()]
        if not files:
            return pl.DataFrame(schema=REJECT_SCHEMA).lazy()
        return pl.scan_parquet([str(f) for f in files])

    def people(self) -> pl.DataFrame | None:
        """The people table, or ``None`` when the dataset has none."""
        p = self.path / PEOPLE_FILE
        return pl.read_parquet(p) if p.exists() else None

    # -- writing -----------------------------------------------------------
    def next_source_id(self) -> str:
        return f"s{len(self.manifest.sources) + 1:04d}"

    def discard_uncommitted(self) -> list[Path]:
        """Remove what interrupted imports left (see :func:`uncommitted_paths`); returns it.

        Call it with the dataset locked (``append_source`` does).
        """
        leftovers = uncommitted_paths(self.path)
        for path in leftovers:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return leftovers

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the dataset's lock (one writer at a time) with leftovers cleaned first."""
        with _locked(self.path):
            # Another process may have committed since this one read the manifest.
            self.manifest = open_dataset(self.path).manifest
            self.discard_uncommitted()
            yield

    @contextlib.contextmanager
    def append_source(self, entry: SourceEntry) -> Iterator[SourceWriter]:
        """Append one source atomically; the entry is committed on success.

        The writer counts rows; on exit ``read`` must equal accepted plus
        rejected plus filtered (it is set to their sum when the caller left
        it at 0), and ``filtered`` the sum of the per-filter counts.
        """
        with self.writing():
            yield from self._append_source(entry)

    def _append_source(self, entry: SourceEntry) -> Iterator[SourceWriter]:
        if any(s.id == entry.id for s in self.manifest.sources):
            raise DatasetError(f"{self.path}: source id {entry.id} already exists")
        staging = self.path / f"{STAGING_PREFIX}{entry.id}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        writer = SourceWriter(staging, entry)
        try:
            yield writer
            writer._finish()
            if entry.read == 0:
                entry.read = entry.accepted + entry.rejected + entry.filtered
            per_filter = sum(int(f.get("rows", 0)) for f in entry.filters)
            if entry.read != entry.accepted + entry.rejected + entry.filtered or (
                entry.filters and per_filter != entry.filtered
            ):
                raise DatasetError(
                    f"{entry.name}: read {entry.read} rows but accepted {entry.accepted}, "
                    f"rejected {entry.rejected} and filtered {entry.filtered} (the filters "
                    f"count {per_filter}); rows would be lost, so nothing was written"
                )
            entry.imported_at = entry.imported_at or _now()
            events_dir = self.path / EVENTS_DIR / entry.id
            events_dir.parent.mkdir(exist_ok=True)
            (self.path / REJECTS_DIR).mkdir(exist_ok=True)
            os.replace(staging / "events", events_dir)
            if (staging / "rejects.parquet").exists():
                os.replace(
                    staging / "rejects.parquet", self.path / REJECTS_DIR / f"{entry.id}.parquet"
                )
            self.manifest.sources.append(entry)
            self._save_manifest()
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def write_people(self, people: pl.DataFrame) -> None:
        """Write (or replace) the people table; ``person_id`` must be unique."""
        if "person_id" not in people.columns:
            raise DatasetError("people table needs a person_id column")
        if people["person_id"].is_duplicated().any():
            raise DatasetError("people table has duplicate person_id values: one row per person")
        cols = [pl.col(c).cast(t) for c, t in PEOPLE_SCHEMA.items() if c in people.columns]
        rest = [pl.col(c) for c in people.columns if c not in PEOPLE_SCHEMA]
        tmp = self.path / (PEOPLE_FILE + ".tmp")
        people.select(cols + rest).write_parquet(tmp)
        os.replace(tmp, self.path / PEOPLE_FILE)

    def _save_manifest(self) -> None:
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(self.manifest.to_json(), encoding="utf-8")
        os.replace(tmp, self.path / MANIFEST)


class SourceWriter:
    """Writes one source's event parts and rejects into a staging folder."""

    def __init__(self, staging: Path, entry: SourceEntry) -> None:
        self.staging = staging
        self.entry = entry
        (staging / "events").mkdir()
        self._rejects: list[pl.DataFrame] = []
        self._reject_rows = 0

    def write_events(self, events: pl.DataFrame | pl.LazyFrame) -> int:
        """Write a batch of accepted events (conformed to the schema); returns rows."""
        df = conform_events(events).collect()
        if df.height == 0:
            return 0
        written = 0
        for start in range(0, df.height, PART_ROWS):
            chunk = df.slice(start, PART_ROWS)
            name = f"part-{len(self.entry.parts):05d}.parquet"
            # lz4 without statistics: about a tenth less CPU than with them and
            # 15% less than zstd (bench_import_csv); filters on events still work,
            # they only cannot skip row groups.
            chunk.write_parquet(self.staging / "events" / name, compression="lz4", statistics=False)
            self.entry.parts.append(name)
            written += chunk.height
        self.entry.accepted += written
        return written

    def written_events(self) -> pl.LazyFrame | None:
        """The events written so far (None if none): read by the rejects' check of
        which values the source's accepted records hold."""
        if not self.entry.parts:
            return None
        return pl.scan_parquet([str(self.staging / "events" / p) for p in self.entry.parts])

    def write_rejects(self, rejects: pl.DataFrame) -> int:
        """Keep a batch of rejected rows with their reasons; returns rows."""
        if rejects.height == 0:
            return 0
        missing = [c for c in REJECT_SCHEMA if c not in rejects.columns]
        if missing:
            raise DatasetError(f"rejects lack column(s) {missing}")
        df = rejects.select([pl.col(c).cast(t) for c, t in REJECT_SCHEMA.items()])
        self._rejects.append(df)
        self.entry.rejected += df.height
        # Spill to disk now and then so that memory stays flat on huge sources.
        self._reject_rows += df.height
        if self._reject_rows > 500_000:
            self._spill()
        return df.height

    def _spill(self) -> None:
        if not self._rejects:
            return
        n = len(list(self.staging.glob("rejects-*.parquet")))
        pl.concat(self._rejects).write_parquet(self.staging / f"rejects-{n:05d}.parquet")
        self._rejects = []
        self._reject_rows = 0

    def _finish(self) -> None:
        self._spill()
        spilled = sorted(self.staging.glob("rejects-*.parquet"))
        if spilled:
            pl.concat([pl.read_parquet(p) for p in spilled]).write_parquet(
                self.staging / "rejects.parquet"
            )


def create_dataset(path: str | os.PathLike[str], *, exist_ok: bool = True) -> Dataset:
    """Open the dataset at ``path``, creating an empty one if there is none."""
    p = Path(path)
    if (p / MANIFEST).exists():
        if not exist_ok:
            raise DatasetError(f"{p} already holds a dataset: choose another folder")
        return open_dataset(p)
    if p.exists() and any(p.iterdir()):
        raise DatasetError(
            f"{p} exists and is not a dataset (no {MANIFEST}): choose an empty or new folder"
        )
    p.mkdir(parents=True, exist_ok=True)
    ds = Dataset(p, Manifest(created=_now()))
    ds._save_manifest()
    return ds


def open_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Open an existing dataset folder.

    Raises :class:`DatasetError` if the folder has no manifest or was written
    by a newer schema version than this systemic understands.
    """
    p = Path(path)
    mf = p / MANIFEST
    if not mf.exists():
        raise DatasetError(
            f"{p} is not a dataset (no {MANIFEST}): create one with `systemic import`"
        )
    manifest = Manifest.from_json(mf.read_text(encoding="utf-8"))
    major = manifest.schema_version.split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise DatasetError(
            f"{p}: schema version {manifest.schema_version} is not readable by this systemic "
            f"(schema {SCHEMA_VERSION}); upgrade systemic"
        )
    return Dataset(p, manifest)


def write_dataset(
    events: pl.DataFrame | pl.LazyFrame | Iterable[pl.DataFrame],
    path: str | os.PathLike[str],
    *,
    source_name: str,
    source_format: str = "frame",
    people: pl.DataFrame | None = None,
    notes: dict[str, Any] | None = None,
) -> Dataset:
    """Append already-clean events (e.g. from the simulation) as one source.

    ``person_id`` values must already be pseudonyms (simulated people have no
    clear identity). ``source`` and ``source_row`` are filled in when absent.
    """
    ds = create_dataset(path)
    entry = SourceEntry(id=ds.next_source_id(), name=source_name, format=source_format)
    entry.notes = dict(notes or {})
    batches: Iterable[pl.DataFrame | pl.LazyFrame]
    batches = [events] if isinstance(events, pl.DataFrame | pl.LazyFrame) else events
    offset = 0
    with ds.append_source(entry) as w:
        for batch in batches:
            lf = batch.lazy()
            names = lf.collect_schema().names()
            if "source" not in names:
                lf = lf.with_columns(pl.lit(entry.id).alias("source"))
            if "source_row" not in names:
                lf = lf.with_row_index("source_row", offset=offset + 1).with_columns(
                    pl.col("source_row").cast(pl.Int64)
                )
            offset += w.write_events(lf)
        entry.read = entry.accepted
    if people is not None:
        ds.write_people(people)
    return ds
