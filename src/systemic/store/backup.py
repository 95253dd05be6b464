"""Backup and restore of a workspace database and its datasets, portable across engines.

A backup is a folder::

    manifest.json               format, time, schema revision, tables and files with SHA-256
    tables/<table>.jsonl        every row of every table, one JSON object a line
    datasets/<n>-<name>/...     each dataset folder, copied file by file

Rows are written in primary-key order with typed values (dates as ISO text), so
a SQLite backup restores into PostgreSQL and back. Every table is read inside
one snapshot (an explicit read transaction on SQLite, one ``REPEATABLE READ``
transaction on PostgreSQL), so a backup taken while people write is the
database as it stood at one instant: no link without its object. JSON values
keep their key order, so a restored row holds the same bytes as the original.

:func:`restore` checks the manifest's own checksum and every file's checksum,
and refuses a dataset or table name that would leave the backup or the target
folder, all before it writes anything; then it loads into an *empty* database
migrated to the same revision (it refuses one that holds any row), in
foreign-key order, in one transaction. The pseudonymisation key is never
copied: it stays with whoever holds it, so a stolen backup holds only
pseudonyms. Folders of an import still in progress (``.staging-*``) are not
copied: they are not part of the dataset.

>>> import tempfile, pathlib
>>> from systemic.store import open_store
>>> from systemic.store.repository import ensure_default_workspace
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(folder / "a.db")
>>> with store.session() as s:
...     _ = ensure_default_workspace(s); s.commit()
>>> manifest = backup(store.engine, folder / "backup")
>>> manifest["tables"]["workspace"]["rows"]
1
>>> restored = open_store(folder / "b.db")
>>> restore(folder / "backup", restored.engine)["tables"]["workspace"]["rows"]
1
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import LargeBinary

from systemic.data.dataset import LOCK_FILE, uncommitted_paths
from systemic.store.migrate import current_revision

FORMAT = "systemic-backup/2"
MANIFEST = "manifest.json"
#: The manifest's own checksum: SHA-256 of the manifest without this key (canonical JSON).
MANIFEST_CHECKSUM = "manifest_sha256"
#: Folders an interrupted or running import leaves in a dataset (never part of it).
STAGING_PREFIX = ".staging-"
#: A backed-up dataset's folder name: a number, a dash, then one plain path component.
_DATASET_NAME = re.compile(r"^[0-9]{2,}-[^/\\\x00]+$")

#: Tables never backed up (Alembic's own bookkeeping is re-created by migrating; browser
#: sessions are not copied, so a restored database starts with everyone signed out).
SKIPPED_TABLES = frozenset({"alembic_version", "user_session"})
#: File names never copied from a dataset folder (a key kept there by mistake).
KEY_FILE_NAMES = frozenset({"key", "pseudonym.key", "systemic.key", ".systemic-key"})


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _reflect(bind: Engine | Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(bind)
    return [t for t in metadata.sorted_tables if t.name not in SKIPPED_TABLES]


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose every read sees the database at one instant.

    PostgreSQL: one ``REPEATABLE READ`` transaction. SQLite: Python's driver
    sends no ``BEGIN`` before a ``SELECT`` (so ``conn.begin()`` alone would let
    each statement see a newer database); an explicit ``BEGIN`` makes the first
    read fix the snapshot, which write-ahead logging keeps until the end.
    """
    if engine.dialect.name == "postgresql":
        with (
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
            conn.begin(),
        ):
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield conn
        return
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.exec_driver_sql("ROLLBACK")
            return
        with conn.begin():  # pragma: no cover - other engines are not supported
            yield conn


def _manifest_digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _is_staging(relative: Path) -> bool:
    return any(part.startswith(STAGING_PREFIX) for part in relative.parts)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return {"$base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(column: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, DateTime) and isinstance(value, str):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date) and isinstance(value, str):
        return date.fromisoformat(value)
    if isinstance(kind, LargeBinary) and isinstance(value, dict):
        return base64.b64decode(value["$base64"])
    return value


def _order_by(table: Table) -> list[Any]:
    keys = list(table.primary_key.columns) or list(table.columns)
    return keys


def _self_ordered(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows ordered so that a row referring to its own table comes after its target."""
    self_refs = [
        (fk.parent.name, fk.column.name)
        for fk in table.foreign_keys
        if fk.column.table.name == table.name
    ]
    if not self_refs:
        return rows
    placed: set[Any] = set()
    ordered: list[dict[str, Any]] = []
    pending = rows
    while pending:
        keep = []
        for row in pending:
            if all(row[col] is None or row[col] in placed for col, _ in self_refs):
                ordered.append(row)
                placed.add(row[self_refs[0][1]])
            else:
                keep.append(row)
        if len(keep) == len(pending):  # a cycle or a dangling reference: keep the rest as is
            ordered.extend(keep)
            break
        pending = keep
    return ordered


def _copy_dataset(source: Path, target: Path) -> dict[str, str]:
    """Copy a dataset folder, verifying every file's hash; returns {relative path: sha256}."""
    if not (source / "manifest.json").exists():
        raise BackupError(f"{source} is not a dataset folder (no manifest.json)")
    key_file = os.environ.get("SYSTEMIC_KEY_FILE")
    key_path = Path(key_file).resolve() if key_file else None
    files: dict[str, str] = {}
    uncommitted = {p.resolve() for p in uncommitted_paths(source)}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative_path = path.relative_to(source)
        if (
            _is_staging(relative_path)
            or path.name == LOCK_FILE
            or any(q in uncommitted for q in (path.resolve(), *path.resolve().parents))
        ):
            continue  # an import in progress (or interrupted): not part of the dataset
        if path.name in KEY_FILE_NAMES or (key_path is not None and path.resolve() == key_path):
            continue  # the pseudonymisation key never goes into a backup
        relative = path.relative_to(source).as_posix()
        digest = _sha256(path)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        if _sha256(destination) != digest:
            raise BackupError(f"{path}: the copy differs from the original; check the disk")
        files[relative] = digest
    return files


def backup(
    engine: Engine, out: str | Path, *, datasets: list[str | Path] | tuple[str | Path, ...] = ()
) -> dict[str, Any]:
    """Write every table of ``engine``'s database (and the dataset folders) to ``out``.

    ``out`` must not exist or be empty. Returns the manifest (also in ``out/manifest.json``).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty; give a new folder for the backup")
    revision = current_revision(engine)
    if revision is None:
        raise BackupError("the database has never been migrated: there is nothing to back up")
    (out / "tables").mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": revision,
        "dialect": engine.dialect.name,
        "tables": {},
        "datasets": [],
    }
    # One snapshot, so the tables are consistent with each other.
    with _snapshot(engine) as conn:
        for table in _reflect(conn):
            path = out / "tables" / f"{table.name}.jsonl"
            rows = 0
            with path.open("w", encoding="utf-8", newline="\n") as handle:
                result = conn.execute(select(table).order_by(*_order_by(table)))
                for row in result.mappings():
                    # Columns in a fixed (sorted) order; values as stored, so that
                    # JSON values keep their own key order through a restore.
                    record = {k: _encode(row[k]) for k in sorted(row.keys())}
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                    rows += 1
            manifest["tables"][table.name] = {
                "rows": rows,
                "file": f"tables/{table.name}.jsonl",
                "sha256": _sha256(path),
            }
    for number, folder in enumerate(datasets, start=1):
        source = Path(folder)
        name = f"{number:02d}-{source.resolve().name}"
        files = _copy_dataset(source, out / "datasets" / name)
        manifest["datasets"].append({"name": name, "source": str(source), "files": files})
    manifest[MANIFEST_CHECKSUM] = _manifest_digest(manifest)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return manifest


def _inside(root: Path, relative: str, what: str) -> Path:
    """``root / relative``, refused when it would leave ``root`` (``..``, absolute, drive)."""
    candidate = Path(relative)
    if (
        not relative
        or "\x00" in relative
        or "\\" in relative
        or candidate.is_absolute()
        or candidate.drive
        or ".." in candidate.parts
    ):
        raise BackupError(
            f"the backup manifest names {what} {relative!r}, which would leave the backup "
            "folder; the backup has been tampered with, so nothing was restored"
        )
    return root / candidate


def _check_names(manifest: dict[str, Any], folder: Path) -> None:
    for name, entry in manifest["tables"].items():
        if entry.get("file") != f"tables/{name}.jsonl" or not re.fullmatch(r"[a-z0-9_]+", name):
            raise BackupError(
                f"the backup manifest names table {name!r} with file {entry.get('file')!r}; "
                "the backup has been tampered with, so nothing was restored"
            )
    for dataset in manifest["datasets"]:
        name = str(dataset.get("name", ""))
        if not _DATASET_NAME.match(name) or name in (".", ".."):
            raise BackupError(
                f"the backup manifest names dataset {name!r}, which is not a plain folder "
                "name; the backup has been tampered with, so nothing was restored"
            )
        base = folder / "datasets" / name
        for relative in dataset["files"]:
            _inside(base, relative, "dataset file")


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a backup folder, after checking every file against its checksum."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists():
        raise BackupError(f"{folder} is not a systemic backup (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BackupError(
            f"{path}: not valid JSON (line {exc.lineno}); the backup is damaged"
        ) from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{path}: format {manifest.get('format')!r} is not {FORMAT!r}; make a new backup "
            "with this systemic version"
        )
    if manifest.get(MANIFEST_CHECKSUM) != _manifest_digest(manifest):
        raise BackupError(
            f"{path}: the manifest's checksum does not match its content; the backup is "
            "damaged or was edited, so nothing was restored"
        )
    _check_names(manifest, folder)
    checks = [(folder / t["file"], t["sha256"]) for t in manifest["tables"].values()]
    for dataset in manifest["datasets"]:
        base = folder / "datasets" / dataset["name"]
        checks += [(base / rel, digest) for rel, digest in dataset["files"].items()]
    for file, digest in checks:
        if not file.exists():
            raise BackupError(f"{file}: missing from the backup; it cannot be restored")
        if _sha256(file) != digest:
            raise BackupError(f"{file}: checksum differs from the manifest; the backup is damaged")
    return manifest


def _reset_sequences(conn: Any, tables: list[Table]) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column}
        ).scalar()
        if sequence:
            conn.execute(
                text(
                    f"SELECT setval('{sequence}', "
                    f'COALESCE((SELECT MAX("{column}") FROM "{table.name}"), 0) + 1, false)'
                )
            )


def restore(
    folder: str | Path, engine: Engine, *, datasets_to: str | Path | None = None
) -> dict[str, Any]:
    """Load a backup into an empty database migrated to the backup's revision.

    Dataset folders are copied under ``datasets_to`` (when given) and verified.
    Raises :class:`BackupError` when a checksum fails, the revision differs, or
    the target already holds rows.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    revision = current_revision(engine)
    if revision != manifest["revision"]:
        raise BackupError(
            f"the target database is at revision {revision!r} but the backup is at "
            f"{manifest['revision']!r}; create it with the same systemic version, then restore"
        )
    tables = {t.name: t for t in _reflect(engine)}
    missing = sorted(set(manifest["tables"]) - set(tables))
    if missing:
        raise BackupError(f"the target database has no table(s) {missing}")
    targets: list[tuple[dict[str, Any], Path]] = []
    if datasets_to is not None:
        target_root = Path(datasets_to)
        for dataset in manifest["datasets"]:
            target = target_root / dataset["name"]
            if target.exists() and any(target.iterdir()):
                raise BackupError(f"{target} exists and is not empty; choose another folder")
            targets.append((dataset, target))
    try:
        _load_tables(folder, manifest, engine, tables)
    except IntegrityError as exc:
        raise BackupError(
            f"the backup's rows do not fit together ({exc.orig}); it was not taken as one "
            "snapshot (made by an older systemic?) or was edited. Nothing was restored: "
            "restore an earlier backup"
        ) from None
    for dataset, target in targets:
        copied = _copy_dataset(folder / "datasets" / dataset["name"], target)
        if copied != dataset["files"]:
            raise BackupError(f"{target}: restored files differ from the backup manifest")
    return manifest


def _load_tables(
    folder: Path, manifest: dict[str, Any], engine: Engine, tables: dict[str, Table]
) -> None:
    with engine.begin() as conn:
        occupied = [
            name
            for name, t in tables.items()
            if conn.execute(select(func.count()).select_from(t)).scalar()
        ]
        if occupied:
            raise BackupError(
                f"the target database is not empty (rows in {', '.join(sorted(occupied))}); "
                "restore only into a new, empty database"
            )
        for name, table in tables.items():
            entry = manifest["tables"].get(name)
            if entry is None:
                continue
            with (folder / entry["file"]).open(encoding="utf-8") as handle:
                rows = [
                    {c.name: _decode(c, json.loads(line).get(c.name)) for c in table.columns}
                    for line in handle
                    if line.strip()
                ]
            rows = _self_ordered(table, rows)
            for start in range(0, len(rows), 1000):
                conn.execute(table.insert(), rows[start : start + 1000])
        if engine.dialect.name == "postgresql":
            _reset_sequences(conn, list(tables.values()))
