"""Read the series ``systemic learn`` publishes, by name, ready for a chart.

``systemic learn`` writes ``tables/series_weekly.csv`` and
``tables/series_monthly.csv`` (see :mod:`systemic.learn.series`): one row
per locality and period, small counts suppressed. This module reads one
series from them without ever reading a suppressed cell as a number:

- a suppressed cell (``<5``, ``*``, or a figure hidden with its count) is a
  gap: the row stays, with no value, so no limit is computed from it, no rule
  runs across it and no line is drawn through it; a note says how many;
- periods that cannot be read for this figure are left out, with a note:
  ``edge`` periods for durations (the record's start and end cut needs
  short), the first and last period for counts when the record covers only
  part of them (``partial``).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); (d / "tables").mkdir()
>>> _ = (d / "tables" / "series_weekly.csv").write_text(
...     "locality,period,contacts,classified_contacts,failure_contacts,failure_demand_share,"
...     "edge,partial\\nNorth,2025-01-06,20,20,<5,,,false\\n"
...     "North,2025-01-13,20,20,9,0.45,,false\\n")
>>> s = read_learnt_series(d, "failure_demand_share", locality="North")
>>> s.frame["value"].to_list(), s.notes[0]
([None, 9.0], '1 week suppressed to protect small numbers: a gap, not a number')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from systemic.learn.series import ALL_LOCALITIES, LINKED, SERIES, SeriesDefinition, table_name
from systemic.measures.errors import SeriesError


@dataclass(frozen=True)
class LearntSeries:
    """One series read from a learn folder.

    ``frame`` has ``date``, ``value`` (null where suppressed), ``denominator``
    for a share, and ``locality`` when every locality was read. ``notes`` say
    what was suppressed or left out, for the chart and the console.
    """

    definition: SeriesDefinition
    frame: pl.DataFrame
    locality: str | None
    period: str
    notes: tuple[str, ...]
    source: Path

    @property
    def label(self) -> str:
        """The series' title with its locality, e.g. "Contacts, North"."""
        return f"{self.definition.title}, {self.locality or ALL_LOCALITIES}"


def _periods(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def _suppressed(cells: pl.Expr) -> pl.Expr:
    text = cells.cast(pl.String).str.strip_chars()
    return text.str.contains(r"^<\d+$") | (text == "*")


def _table(learn_dir: Path, period: str) -> tuple[Path, pl.DataFrame]:
    if not learn_dir.is_dir():
        raise SeriesError(
            "no such folder",
            path=str(learn_dir),
            hint="give the folder `systemic learn --out` wrote",
        )
    try:
        name = table_name(period)
    except ValueError as exc:
        raise SeriesError(str(exc), hint="use --period week or --period month") from exc
    path = learn_dir / "tables" / f"{name}.csv"
    if not path.exists():
        raise SeriesError(
            f"no tables/{name}.csv in this learn folder",
            path=str(learn_dir),
            hint="run `systemic learn` again with this version: it writes the series",
        )
    return path, pl.read_csv(path, infer_schema=False)


def _numbers(frame: pl.DataFrame, column: str, path: Path) -> tuple[pl.Series, int]:
    cells = frame[column]
    hidden = frame.select(_suppressed(pl.col(column)).fill_null(False))[column]
    number = cells.str.strip_chars().cast(pl.Float64, strict=False)
    bad = ~hidden & cells.is_not_null() & (cells.str.strip_chars() != "") & number.is_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise SeriesError(
            f"{cells[row]!r} is neither a number nor a suppressed count",
            path=str(path),
            field=column,
            hint="this table is written by `systemic learn`; learn the dataset again",
        )
    return number, int(hidden.sum())


def read_learnt_series(
    learn_dir: str | os.PathLike[str],
    name: str,
    *,
    locality: str | None = None,
    period: str = "week",
    every_locality: bool = False,
) -> LearntSeries:
    """Read series ``name`` (see :data:`systemic.learn.series.SERIES`) from a learn folder.

    ``locality`` picks one locality (default: all localities together);
    ``every_locality`` reads each locality's rows (for an experiment's
    comparison with the others), with a ``locality`` column.
    """
    root = Path(learn_dir)
    if name not in SERIES:
        raise SeriesError(
            f"no series named {name!r}",
            hint=f"choose one of: {', '.join(SERIES)}",
        )
    path, table = _table(root, period)
    return learnt_series(
        table, name, locality=locality, period=period, every_locality=every_locality, source=path
    )


def learnt_series(
    table: pl.DataFrame,
    name: str,
    *,
    locality: str | None = None,
    period: str = "week",
    every_locality: bool = False,
    source: str | os.PathLike[str] = "series",
) -> LearntSeries:
    """Read series ``name`` from a published series table already in memory.

    ``table`` is :func:`systemic.learn.series.published_series`'s (or the
    CSV's) frame; see :func:`read_learnt_series` for the rest.
    """
    if name not in SERIES:
        raise SeriesError(
            f"no series named {name!r}",
            hint=f"choose one of: {', '.join(SERIES)}",
        )
    definition = SERIES[name]
    path = Path(source)
    table = table.select(pl.all().cast(pl.String))
    known = table["locality"].unique(maintain_order=True).to_list()
    if every_locality:
        rows = table.filter(pl.col("locality") != ALL_LOCALITIES)
    else:
        wanted = locality or ALL_LOCALITIES
        if wanted not in known:
            raise SeriesError(
                f"no locality {wanted!r} in the series",
                path=str(path),
                hint="choose one of: " + ", ".join(k for k in known if k != ALL_LOCALITIES),
            )
        rows = table.filter(pl.col("locality") == wanted)
    notes: list[str] = []
    unit = "week" if period == "week" else "month"
    dropped = []
    if definition.edges:
        edge = rows["edge"].fill_null("")
        for mark in definition.edges:
            n = rows.filter(edge == mark).select("period").n_unique()
            if n:
                dropped.append(f"{_periods(n, unit)} at the {mark}")
        rows = rows.filter(~rows["edge"].fill_null("").is_in(list(definition.edges)))
        if dropped:
            why = (
                "times there are cut short by the record's edges"
                if "days" in definition.unit
                else "needs there may still be open"
            )
            notes.append(f"left out: {' and '.join(dropped)} ({why})")
    if definition.whole_periods:
        partial = rows["partial"].fill_null("false").str.to_lowercase() == "true"
        n = rows.filter(partial).select("period").n_unique()
        if n:
            notes.append(f"left out: {_periods(n, unit)} the record covers only in part")
        rows = rows.filter(~partial)
    # A figure is a gap when its own cell or any count it rests on is suppressed
    # (a share or median hidden with its count is an empty cell, not a mark).
    sources = [definition.value, *LINKED.get(definition.value, [])]
    if definition.denominator:
        sources.append(definition.denominator)
    gap = rows.select(
        pl.any_horizontal([_suppressed(pl.col(c)).fill_null(False) for c in sources]).alias("g")
    )["g"]
    value, _ = _numbers(rows, definition.value, path)
    columns = [
        pl.col("period").str.to_date().alias("date"),
        pl.when(gap).then(None).otherwise(value).alias("value"),
    ]
    if definition.denominator:
        denominator, _ = _numbers(rows, definition.denominator, path)
        columns.append(pl.when(gap).then(None).otherwise(denominator).alias("denominator"))
    hidden = int(gap.sum())
    if every_locality:
        columns.insert(0, pl.col("locality"))
    frame = rows.select(columns)
    if hidden:
        notes.insert(
            0,
            f"{_periods(hidden, unit)} suppressed to protect small numbers: a gap, not a number",
        )
    if not frame.height:
        raise SeriesError(
            f"the series {name!r} has no periods left to chart",
            path=str(path),
            hint="a longer record is needed" + (f" ({'; '.join(notes)})" if notes else ""),
        )
    return LearntSeries(
        definition, frame, None if every_locality else (locality or None), period,
        tuple(notes), path,
    )  # fmt: skip


__all__ = ["LearntSeries", "learnt_series", "read_learnt_series"]
