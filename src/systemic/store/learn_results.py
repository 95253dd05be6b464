"""Learn results brought into a workspace: their published series, by name and version.

``systemic workspace add-learn DIR --name NAME`` (or ``systemic learn ...
--workspace``) reads the *published* series tables a learn run wrote
(``tables/series_weekly.csv`` and ``tables/series_monthly.csv``, small counts
already suppressed) and keeps their rows in the workspace under ``NAME``.
Bringing in a new extract under the same name adds a version: every measure
drawing on the name reads the newest, and earlier versions stay readable.

What is kept, and what is not:

- only published tables: a suppressed cell keeps its mark (``<5``, ``*``) or
  stays empty, and measures read it as a gap, never a number;
- nothing from ``row_level/``: the workspace is shared with every member and
  viewer, exported and served by the API, so the team's unsuppressed view
  stays in the learn folder (``systemic spc --from DIR`` reads the published
  tables too). Protection is never switched off to bring a result in.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from systemic.learn.series import ALL_LOCALITIES, PERIODS, SERIES, table_name
from systemic.store.audit_trail import current_actor_name
from systemic.store.errors import StoreError
from systemic.store.orm import LearnResultVersion
from systemic.store.repository import new_id, now

#: Longest name a learn result can be given.
MAX_NAME = 200


class LearnResultError(StoreError):
    """A learn folder cannot be brought into the workspace; the message says why and what to do."""


class NoSuchLearnResultError(LearnResultError, LookupError):
    """The workspace holds no learn result (or no such version of it) under that name."""


@dataclass(frozen=True)
class LearnResultInfo:
    """One version of a learn result in a workspace, without its rows."""

    name: str
    version: int
    imported_at: datetime
    imported_by: str
    source: str
    threshold: int | None
    localities: tuple[str, ...]
    weeks: int
    #: The series (``systemic.learn.series.SERIES``) with a published weekly value.
    series: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """e.g. ``"town, version 2 (brought in 2026-12-03)"``."""
        return f"{self.name}, version {self.version} (brought in {self.imported_at:%Y-%m-%d})"


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    # Every cell as the published text ("<5", "*", "0.45"): read back as the CSV is.
    return frame.select(pl.all().cast(pl.String)).to_dicts()


def read_published_series(learn_dir: str | os.PathLike[str]) -> dict[str, pl.DataFrame]:
    """The published series tables of a learn folder, as text, by period.

    Raises :class:`LearnResultError` naming the folder and what to do when a
    table is missing or is not a series table.
    """
    root = Path(learn_dir)
    if not root.is_dir():
        raise LearnResultError(
            f"{root}: no such folder; give the folder `systemic learn --out` wrote"
        )
    tables: dict[str, pl.DataFrame] = {}
    for period in PERIODS:
        path = root / "tables" / f"{table_name(period)}.csv"
        if not path.exists():
            raise LearnResultError(
                f"{path}: not found; this folder was not written by `systemic learn` "
                "(or by an older version): learn the dataset again with --out this folder"
            )
        frame = pl.read_csv(path, infer_schema=False)
        for column in ("locality", "period"):
            if column not in frame.columns:
                raise LearnResultError(
                    f"{path}: no {column!r} column; this is not a series table written by "
                    "`systemic learn`"
                )
        tables[period] = frame
    return tables


def _threshold(root: Path) -> int | None:
    try:
        summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
        value = summary.get("settings", {}).get("suppression_threshold")
        return int(value) if value is not None else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def add_learn_result(
    session: Session,
    workspace_id: str,
    name: str,
    learn_dir: str | os.PathLike[str],
    *,
    actor: str | None = None,
) -> LearnResultInfo:
    """Bring a learn folder's published series into the workspace as a new version of ``name``.

    The first import is version 1; each later one under the same name adds one.
    The caller commits.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME or "\x00" in name:
        raise LearnResultError(
            f"the learn result's name must be 1 to {MAX_NAME} characters, e.g. --name town-2026"
        )
    root = Path(learn_dir)
    tables = read_published_series(root)
    latest = session.scalar(
        select(func.max(LearnResultVersion.version)).where(
            LearnResultVersion.workspace_id == workspace_id, LearnResultVersion.name == name
        )
    )
    row = LearnResultVersion(
        id=new_id(),
        workspace_id=workspace_id,
        name=name,
        version=(latest or 0) + 1,
        imported_at=now(),
        imported_by=actor or current_actor_name.get() or "unknown",
        source=str(root.resolve()),
        threshold=_threshold(root),
        weekly=_rows(tables["week"]),
        monthly=_rows(tables["month"]),
    )
    session.add(row)
    session.flush()
    return _info(row)


def _info(row: LearnResultVersion) -> LearnResultInfo:
    localities = tuple(
        dict.fromkeys(r["locality"] for r in row.weekly if r.get("locality") != ALL_LOCALITIES)
    )
    weeks = len({r["period"] for r in row.weekly})
    series = tuple(
        name
        for name, definition in SERIES.items()
        if any(r.get(definition.value) not in (None, "") for r in row.weekly)
    )
    return LearnResultInfo(
        row.name,
        row.version,
        row.imported_at,
        row.imported_by,
        row.source,
        row.threshold,
        localities,
        weeks,
        series,
    )


def _version_row(
    session: Session, workspace_id: str, name: str, version: int | None = None
) -> LearnResultVersion:
    query = select(LearnResultVersion).where(
        LearnResultVersion.workspace_id == workspace_id, LearnResultVersion.name == name
    )
    if version is not None:
        query = query.where(LearnResultVersion.version == version)
    row = session.scalars(query.order_by(LearnResultVersion.version.desc()).limit(1)).first()
    if row is None:
        which = f"version {version} of " if version is not None else ""
        raise NoSuchLearnResultError(
            f"no {which}learn result named {name!r} in this workspace; bring one in with "
            f"`systemic workspace add-learn DIR --name {name}`"
        )
    return row


def learn_result_versions(
    session: Session, workspace_id: str, name: str | None = None
) -> list[LearnResultInfo]:
    """Every version of every learn result in the workspace (or of ``name``), newest first."""
    query = select(LearnResultVersion).where(LearnResultVersion.workspace_id == workspace_id)
    if name is not None:
        query = query.where(LearnResultVersion.name == name)
    rows = session.scalars(
        query.order_by(LearnResultVersion.name, LearnResultVersion.version.desc())
    ).all()
    return [_info(row) for row in rows]


def newest_learn_results(session: Session, workspace_id: str) -> list[LearnResultInfo]:
    """The newest version of each learn result in the workspace, by name (what a measure
    drawing on the name reads)."""
    newest = (
        select(LearnResultVersion.name, func.max(LearnResultVersion.version).label("version"))
        .where(LearnResultVersion.workspace_id == workspace_id)
        .group_by(LearnResultVersion.name)
        .subquery()
    )
    rows = session.scalars(
        select(LearnResultVersion)
        .join(
            newest,
            (LearnResultVersion.name == newest.c.name)
            & (LearnResultVersion.version == newest.c.version),
        )
        .where(LearnResultVersion.workspace_id == workspace_id)
        .order_by(LearnResultVersion.name)
    ).all()
    return [_info(row) for row in rows]


def learn_result_table(
    session: Session, workspace_id: str, name: str, period: str, version: int | None = None
) -> tuple[LearnResultInfo, pl.DataFrame]:
    """The published series table of one version of ``name`` (default: the newest)."""
    if period not in PERIODS:
        raise LearnResultError(f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")
    row = _version_row(session, workspace_id, name, version)
    rows = row.weekly if period == "week" else row.monthly
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    return _info(row), frame.select(pl.all().cast(pl.String)) if rows else frame


__all__ = [
    "LearnResultError",
    "LearnResultInfo",
    "NoSuchLearnResultError",
    "add_learn_result",
    "learn_result_table",
    "learn_result_versions",
    "newest_learn_results",
    "read_published_series",
]
