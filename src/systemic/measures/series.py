"""Read a measure's series from CSV, with errors that name the file, line and column."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from systemic.measures.errors import SeriesError

#: Cell texts read as a missing value.
MISSING_TEXT = ("", "NA", "N/A", "NaN", "null", "-")


def read_series(
    path: str | Path,
    *,
    date: str,
    value: str,
    denominator: str | None = None,
) -> pl.DataFrame:
    """Read ``date``, ``value`` (and ``denominator``) columns from a CSV file.

    Values become floats; empty cells and ``NA`` are missing values (see the
    SPC missing-value policy). Anything else that is not a number stops the
    read with a :class:`SeriesError` naming the file, line and column.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = p.write_text("week,calls\\n2024-01-01,5\\n2024-01-08,\\n")
    >>> read_series(p, date="week", value="calls")["calls"].to_list()
    [5.0, None]
    """
    path = Path(path)
    if not path.exists():
        raise SeriesError("file not found", path=str(path), hint="check the path")
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.NoDataError as exc:
        raise SeriesError(
            "the file is empty", path=str(path), hint="give a CSV with a header line"
        ) from exc
    except pl.exceptions.ComputeError as exc:
        raise SeriesError(
            f"cannot be read as CSV ({str(exc).splitlines()[0]})",
            path=str(path),
            hint="check that every line has the same number of fields as the header",
        ) from exc
    for column in [date, value] + ([denominator] if denominator else []):
        if column not in raw.columns:
            raise SeriesError(
                f"no column {column!r} (the header has: {', '.join(raw.columns)})",
                path=str(path),
                line=1,
                field=column,
                hint="pass the right name with --date/--value/--denominator",
            )
    numeric = [value] + ([denominator] if denominator else [])
    frame = raw.select([date, *numeric])
    for column in numeric:
        text = frame[column].str.strip_chars()
        blank = text.is_null() | text.is_in(list(MISSING_TEXT))
        number = text.cast(pl.Float64, strict=False)
        bad = (~blank & number.is_null()).arg_true()
        if bad.len():
            row = int(bad[0])
            raise SeriesError(
                f"{frame[column][row]!r} is not a number",
                path=str(path),
                line=row + 2,
                field=column,
                hint="write a number, or leave the cell empty for a missing value",
            )
        frame = frame.with_columns(pl.when(blank).then(None).otherwise(number).alias(column))
    dates = frame[date].str.strip_chars()
    parsed = dates.str.to_datetime(strict=False)
    bad = (parsed.is_null()).arg_true()
    if bad.len():
        row = int(bad[0])
        raise SeriesError(
            f"{frame[date][row]!r} is not a date",
            path=str(path),
            line=row + 2,
            field=date,
            hint="write dates as YYYY-MM-DD (or ISO 8601 date-times)",
        )
    if (parsed.dt.time().cast(pl.Int64) == 0).all():
        parsed = parsed.cast(pl.Date)
    frame = frame.with_columns(parsed.alias(date))
    duplicated = frame.with_row_index("row").filter(pl.col(date).is_duplicated())
    if duplicated.height:
        lines = ", ".join(str(int(r) + 2) for r in duplicated["row"].head(5))
        raise SeriesError(
            f"date {duplicated[date][0]} appears more than once (lines {lines})",
            path=str(path),
            line=int(duplicated["row"][0]) + 2,
            field=date,
            hint="aggregate to one value per date before charting",
        )
    return frame
