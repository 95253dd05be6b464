"""Read measures from CSV, with errors that name the file, line and column."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from systemic.measures.errors import SeriesError

#: Cell texts read as a missing value.
MISSING_TEXT = ("", "NA", "N/A", "NaN", "null", "-")


def read_measure_csv(
    path: str | Path,
    *,
    numeric: Sequence[str],
    date: str | None = None,
    text: Sequence[str] = (),
    unique: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Read the named columns of a CSV file: numbers, an optional date and text keys.

    Empty cells and ``NA`` in number columns are missing values; anything else
    that is not a number, a date that cannot be read, a missing text key, or
    a repeated ``unique`` key stops the read with a :class:`SeriesError` naming
    the file, line (the header is line 1) and column.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "l.csv"
    >>> _ = p.write_text("locality,failure,contacts\\nNorth,3,10\\nSouth,4,12\\n")
    >>> read_measure_csv(p, numeric=["failure", "contacts"], text=["locality"]).shape
    (2, 3)
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
    wanted = [*([date] if date else []), *text, *numeric]
    for column in wanted:
        if column not in raw.columns:
            raise SeriesError(
                f"no column {column!r} (the header has: {', '.join(raw.columns)})",
                path=str(path),
                line=1,
                field=column,
                hint="pass the right column name",
            )
    frame = raw.select(list(dict.fromkeys(wanted)))
    if not frame.height:
        raise SeriesError("the file has a header but no rows", path=str(path), hint="add rows")
    for column in text:
        missing = frame[column].str.strip_chars().fill_null("").eq("").arg_true()
        if missing.len():
            raise SeriesError(
                "empty cell", path=str(path), line=int(missing[0]) + 2, field=column,
                hint="fill it in, or remove the row",
            )  # fmt: skip
    for column in numeric:
        cells = frame[column].str.strip_chars()
        blank = cells.is_null() | cells.is_in(list(MISSING_TEXT))
        number = cells.cast(pl.Float64, strict=False)
        bad = (~blank & number.is_null()).arg_true()
        if bad.len():
            row = int(bad[0])
            raise SeriesError(
                f"{frame[column][row]!r} is not a number",
                path=str(path),
                line=row + 2,
                field=column,
                hint="write a number (with a dot for decimals), or leave the cell empty "
                "for a missing value",
            )
        frame = frame.with_columns(pl.when(blank).then(None).otherwise(number).alias(column))
    if date:
        parsed = frame[date].str.strip_chars().str.to_datetime(strict=False)
        bad = parsed.is_null().arg_true()
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
    if unique:
        key = list(unique)
        duplicated = frame.with_row_index("row").filter(pl.struct(key).is_duplicated())
        if duplicated.height:
            lines = ", ".join(str(int(r) + 2) for r in duplicated["row"].head(5))
            what = ", ".join(f"{k} {duplicated[k][0]}" for k in key)
            raise SeriesError(
                f"{what} appears more than once (lines {lines})",
                path=str(path),
                line=int(duplicated["row"][0]) + 2,
                field=key[0],
                hint="aggregate to one row per " + " and ".join(key) + " first",
            )
    return frame


def read_series(
    path: str | Path,
    *,
    date: str,
    value: str,
    denominator: str | None = None,
) -> pl.DataFrame:
    """Read a series (one row per date) for an SPC chart from a CSV file.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = p.write_text("week,calls\\n2024-01-01,5\\n2024-01-08,\\n")
    >>> read_series(p, date="week", value="calls")["calls"].to_list()
    [5.0, None]
    """
    numeric = [value] + ([denominator] if denominator else [])
    return read_measure_csv(path, numeric=numeric, date=date, unique=[date])
