"""Parse a column of timestamps, vectorised, into UTC.

Formats are tried in order and the first that parses a value wins. Values
with an offset (``+01:00``, ``Z``) keep their instant; values without one are
read in the mapping's zone. A local time that does not exist in that zone
(the hour skipped when clocks go forward) stays unparsed, and so is rejected.

>>> import polars as pl
>>> s = pl.Series(["2024-03-01T09:30:00+01:00", "01/03/2024 09:30"])
>>> out = pl.select(parse_timestamps(pl.lit(s), ["iso", "dd/mm/yyyy HH:MM"], "Europe/London"))
>>> [str(t) for t in out.to_series()]
['2024-03-01 08:30:00+00:00', '2024-03-01 09:30:00+00:00']
"""

from __future__ import annotations

import polars as pl

from systemic.data.mapping import strftime_format
from systemic.data.schema import TIMESTAMP

_ISO_AWARE = ("%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M%:z")
_ISO_NAIVE = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _naive(text: pl.Expr, fmt: str, zone: str) -> pl.Expr:
    parsed = text.str.to_datetime(fmt, strict=False, time_unit="us", exact=True)
    return parsed.dt.replace_time_zone(
        zone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


def _aware(text: pl.Expr, fmt: str) -> pl.Expr:
    return text.str.to_datetime(fmt, strict=False, time_unit="us", exact=True).dt.convert_time_zone(
        "UTC"
    )


def _has_offset(fmt: str) -> bool:
    return "%z" in fmt or "%:z" in fmt or "%#z" in fmt


def _candidates(text: pl.Expr, formats: list[str], zone: str) -> list[pl.Expr]:
    """One expression per format to try, in order; each gives UTC or null."""
    candidates: list[pl.Expr] = []
    for spec in formats:
        if spec == "iso":
            iso = text.str.replace("T", " ", literal=True).str.replace(r"Z$", "+00:00")
            candidates += [_aware(iso, f) for f in _ISO_AWARE]
            candidates += [_naive(iso, f, zone) for f in _ISO_NAIVE]
        elif spec == "date":
            candidates.append(_naive(text, "%Y-%m-%d", zone))
        else:
            fmt = strftime_format(spec)
            candidates.append(_aware(text, fmt) if _has_offset(fmt) else _naive(text, fmt, zone))
    return [c.cast(TIMESTAMP) for c in candidates]


def parse_timestamps(text: pl.Expr, formats: list[str], zone: str) -> pl.Expr:
    """An expression turning strings into ``Datetime(us, UTC)``; unparsed -> null."""
    candidates = _candidates(text, formats, zone)
    return candidates[0] if len(candidates) == 1 else pl.coalesce(candidates)


def parse_timestamp_column(text: pl.Series, formats: list[str], zone: str) -> pl.Series:
    """Like :func:`parse_timestamps` for a column, trying later formats only where needed.

    The first format is tried on every value, each later one only on the
    values still unparsed, so a column in one format is parsed once.

    >>> s = pl.Series(["2024-03-01 09:30", "2024-03-02"])
    >>> [str(t) for t in parse_timestamp_column(s, ["%Y-%m-%d %H:%M", "date"], "UTC")]
    ['2024-03-01 09:30:00+00:00', '2024-03-02 00:00:00+00:00']
    """
    frame = text.cast(pl.String).to_frame("t")
    candidates = _candidates(pl.col("t"), formats, zone)
    out = frame.select(candidates[0]).to_series()
    given = frame["t"].is_not_null()
    for candidate in candidates[1:]:
        todo = out.is_null() & given
        if not todo.any():
            break
        parsed = frame.filter(todo).select(candidate).to_series()
        out = out.scatter(todo.arg_true(), parsed)
    return out.alias(text.name)


def timestamps_to_utc(
    values: pl.Expr, dtype: pl.DataType, formats: list[str], zone: str
) -> pl.Expr:
    """Like :func:`parse_timestamps` for a column of any type (Parquet sources).

    Datetimes with a zone keep their instant, naive ones are read in ``zone``,
    dates are midnight in ``zone``; anything else is parsed as text.
    """
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return (
                values.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
                .dt.convert_time_zone("UTC")
                .cast(TIMESTAMP)
            )
        return values.dt.convert_time_zone("UTC").cast(TIMESTAMP)
    if isinstance(dtype, pl.Date):
        return (
            values.cast(pl.Datetime("us"))
            .dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
            .cast(TIMESTAMP)
        )
    return parse_timestamps(values.cast(pl.String), formats, zone)
