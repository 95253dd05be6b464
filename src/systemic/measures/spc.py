"""Statistical process control: limits and point types, computed before any chart.

Like NHSRplotthedots' ``ptd_spc``, :func:`xmr_chart` (and the attribute charts
built on the same engine) returns a table with one row per point: its group,
centre line, process limits, two-sigma lines, the rule it breaks and its
Making Data Count point type. Icons, summaries and charts are separate
functions over that result.

Missing values (null or NaN) follow one explicit policy:

* the row stays in the result with a null ``value`` and a null ``point_type``;
* it adds nothing to the mean, and no moving range is taken across it (the
  ranges on either side of a gap are not computed, as in NHSRplotthedots);
* no rule runs across it: a trend, run or two-in-three window is broken by a
  gap, so a signal is never made out of points that were not consecutive;
* ``fix_after_n_points`` counts points that have a value;
* the result's ``warnings`` name how many values were missing and where.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import numpy as np
import polars as pl

from systemic.measures.errors import SeriesError, SPCOptionError
from systemic.measures.rules import (
    IMPROVEMENTS,
    RULE_SETS,
    Improvement,
    RuleSet,
    detect_special_causes,
    point_types,
)

ChartKind = Literal["xmr", "p", "u", "c", "t", "g"]
CHART_KINDS: tuple[str, ...] = ("xmr", "p", "u", "c", "t", "g")

#: XmR constants: limits at mean ± 2.66 × AMR; screening at 3.267 × AMR.
LIMIT_FACTOR = 2.66
TWO_SIGMA_FACTOR = 2 * LIMIT_FACTOR / 3
SCREEN_FACTOR = 3.267
#: Groups shorter than this get a warning (NHSRplotthedots' default threshold).
SHORT_GROUP = 13

DateLike = date | datetime | str


@dataclass(frozen=True)
class SPCOptions:
    """How a chart was computed (kept with the result so renderers can read it)."""

    chart: ChartKind = "xmr"
    improvement: Improvement = "increase"
    target: float | None = None
    rebase: tuple[datetime, ...] = ()
    fix_after_n_points: int | None = None
    screen_outliers: bool = True
    rules: RuleSet = "mdc"
    per: float = 1.0
    #: (first, last) date of the baseline period: the first group's limits are
    #: computed from its points in this period only and fixed after it.
    baseline: tuple[datetime, datetime] | None = None


@dataclass(frozen=True)
class SPCResult:
    """Points with their limits and point types, one row per date, plus the groups.

    ``points`` columns: ``date, value, group, mean, lpl, upl, lower_two_sigma,
    upper_two_sigma, special_cause_rule, point_type`` (and ``numerator,
    denominator`` for p and u charts). ``groups`` has one row per rebase group.
    """

    points: pl.DataFrame
    groups: pl.DataFrame
    options: SPCOptions
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class GroupLimits:
    """What a chart's limit calculation returns for one group (arrays per point).

    ``rule_*`` arrays are in the space where the rules are read (the
    transformed scale for a t-chart); the others are in the plotted scale.
    """

    shown: np.ndarray
    centre: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lower_two: np.ndarray
    upper_two: np.ndarray
    rule_y: np.ndarray
    rule_centre: np.ndarray
    rule_lower: np.ndarray
    rule_upper: np.ndarray
    rule_lower_two: np.ndarray
    rule_upper_two: np.ndarray
    amr: float | None = None
    notes: tuple[str, ...] = ()


LimitsFn = Callable[[np.ndarray, np.ndarray | None, np.ndarray, SPCOptions], GroupLimits]


def _same_space(
    shown: np.ndarray,
    centre: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    lower_two: np.ndarray,
    upper_two: np.ndarray,
    amr: float | None = None,
    notes: tuple[str, ...] = (),
) -> GroupLimits:
    return GroupLimits(
        shown, centre, lower, upper, lower_two, upper_two,
        shown, centre, lower, upper, lower_two, upper_two, amr, notes,
    )  # fmt: skip


def moving_range_limits(
    y: np.ndarray, baseline: np.ndarray, screen_outliers: bool
) -> tuple[float, float, tuple[str, ...]]:
    """Mean and average moving range (AMR) of the baseline points of one group.

    Moving ranges are taken only between neighbouring rows that both belong to
    the baseline (so never across a gap). With screening, ranges not strictly
    below 3.267 × AMR are dropped once and the AMR is recomputed.

    >>> import numpy as np
    >>> y = np.array([1.0, 2, 3, 2, 1])
    >>> moving_range_limits(y, np.ones(5, bool), True)[:2]
    (1.8, 1.0)
    """
    notes: list[str] = []
    if not baseline.any():
        return math.nan, math.nan, ()
    mean = float(np.mean(y[baseline]))
    both = baseline[1:] & baseline[:-1]
    ranges = np.abs(np.diff(y))[both]
    if ranges.size == 0:
        return mean, math.nan, ("one point only: no moving range, so no limits",)
    amr = float(np.mean(ranges))
    if screen_outliers and amr > 0:
        kept = ranges[ranges < SCREEN_FACTOR * amr]
        if kept.size < ranges.size:
            notes.append(
                f"screened {ranges.size - kept.size} moving range(s) at or above "
                f"3.267 × AMR before setting the limits"
            )
        amr = float(np.mean(kept))
    if amr == 0:
        notes.append("all baseline values are equal: the limits collapse onto the mean")
    return mean, amr, tuple(notes)


def _xmr_limits(
    y: np.ndarray, denominator: np.ndarray | None, baseline: np.ndarray, options: SPCOptions
) -> GroupLimits:
    mean, amr, notes = moving_range_limits(y, baseline, options.screen_outliers)
    ones = np.ones(y.size)
    return _same_space(
        y,
        mean * ones,
        (mean - LIMIT_FACTOR * amr) * ones,
        (mean + LIMIT_FACTOR * amr) * ones,
        (mean - TWO_SIGMA_FACTOR * amr) * ones,
        (mean + TWO_SIGMA_FACTOR * amr) * ones,
        amr=amr,
        notes=notes,
    )


def _as_datetime(value: DateLike) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return _as_datetime(datetime.fromisoformat(str(value)))
    except ValueError as exc:
        raise SPCOptionError(
            f"rebase date {value!r} is not a date; write it as YYYY-MM-DD"
        ) from exc


def prepare_series(
    frame: pl.DataFrame,
    *,
    date: str,
    value: str,
    denominator: str | None = None,
) -> pl.DataFrame:
    """Select, check and sort a series: columns ``date, value`` (and ``denominator``).

    Dates may be Date, Datetime or ISO text; values numeric (null = missing).
    Duplicate or missing dates raise :class:`SeriesError` naming the rows.

    >>> import polars as pl
    >>> prepare_series(pl.DataFrame({"d": ["2024-01-02", "2024-01-01"], "v": [2, 1]}),
    ...                date="d", value="v")["value"].to_list()
    [1.0, 2.0]
    """
    wanted = [date, value] + ([denominator] if denominator else [])
    for column in wanted:
        if column not in frame.columns:
            raise SeriesError(
                f"no column {column!r} (columns are: {', '.join(frame.columns)})",
                field=column,
                hint="pass the name of the column that holds it",
            )
    if not frame.height:
        raise SeriesError("the series has no points", hint="give at least one dated value")
    table = frame.select(
        pl.col(date).alias("date"),
        pl.col(value).alias("value"),
        *([pl.col(denominator).alias("denominator")] if denominator else []),
    ).with_row_index("row")
    dtype = table.schema["date"]
    if dtype == pl.String:
        parsed = table["date"].str.to_datetime(strict=False)
        if parsed.null_count() > table["date"].null_count():
            bad = table.filter(parsed.is_null() & table["date"].is_not_null())["row"][0]
            raise SeriesError(
                f"date {table['date'][bad]!r} cannot be read",
                line=int(bad) + 2,
                field=date,
                hint="write dates as YYYY-MM-DD (or ISO 8601 date-times)",
            )
        only_dates = parsed.drop_nulls().dt.time().cast(pl.Int64).eq(0).all()
        table = table.with_columns(parsed.cast(pl.Date) if only_dates else parsed)
    elif not (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        raise SeriesError(
            f"column {date!r} holds {dtype}, not dates", field=date, hint="give a date column"
        )
    if table["date"].null_count():
        bad = table.filter(pl.col("date").is_null())["row"][0]
        raise SeriesError(
            "date is missing", line=int(bad) + 2, field=date, hint="give every point a date"
        )
    numeric = ["value"] + (["denominator"] if denominator else [])
    for column, name in zip(numeric, [value, denominator], strict=False):
        if not table.schema[column].is_numeric():
            raise SeriesError(
                f"column {name!r} holds {table.schema[column]}, not numbers",
                field=name,
                hint="give numbers (leave a cell empty for a missing value)",
            )
    table = table.with_columns(pl.col(numeric).cast(pl.Float64).fill_nan(None))
    duplicated = table.filter(pl.col("date").is_duplicated())
    if duplicated.height:
        rows = ", ".join(str(r + 2) for r in duplicated["row"].head(5).to_list())
        raise SeriesError(
            f"date {duplicated['date'][0]} appears more than once (lines {rows})",
            field=date,
            hint="aggregate to one value per date before charting",
        )
    return table.sort("date").drop("row")


def _group_ids(dates: pl.Series, rebase: Sequence[DateLike]) -> tuple[np.ndarray, list[str]]:
    """Group number (1, 2, ...) of each point: a group starts at each rebase date."""
    notes: list[str] = []
    moments = dates.cast(pl.Datetime("us")).to_numpy()
    starts: set[int] = set()
    for when in rebase:
        at = np.datetime64(_as_datetime(when), "us")
        index = int(np.searchsorted(moments, at, side="left"))
        if index >= moments.size:
            raise SPCOptionError(
                f"rebase date {when} is after the last point of the series; "
                "remove it or add the later points"
            )
        if moments[index] != at:
            notes.append(
                f"rebase date {when} is not a date of the series: the new group "
                f"starts at the next point ({np.datetime_as_string(moments[index], 'D')})"
            )
        if index > 0:
            starts.add(index)
    group = np.ones(moments.size, dtype=int)
    for index in sorted(starts):
        group[index:] += 1
    return group, notes


def _segments(present: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each unbroken stretch of points that have values."""
    edges = np.diff(np.concatenate([[0], present.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _validate(options: SPCOptions) -> None:
    if options.rules not in RULE_SETS:
        raise SPCOptionError(
            f"unknown rule set {options.rules!r}; choose one of {', '.join(RULE_SETS)}"
        )
    if options.improvement not in IMPROVEMENTS:
        raise SPCOptionError(
            f"unknown improvement direction {options.improvement!r}; "
            f"choose one of {', '.join(IMPROVEMENTS)}"
        )
    if options.fix_after_n_points is not None and options.fix_after_n_points < 2:
        raise SPCOptionError("fix_after_n_points must be at least 2 (limits need two points)")
    if options.chart not in CHART_KINDS:
        raise SPCOptionError(f"unknown chart {options.chart!r}; choose {', '.join(CHART_KINDS)}")
    if options.baseline is not None and options.baseline[0] > options.baseline[1]:
        raise SPCOptionError(
            f"the baseline period starts ({options.baseline[0].date()}) after it ends "
            f"({options.baseline[1].date()}); swap the dates"
        )


def baseline_options(
    baseline: tuple[DateLike | None, DateLike | None] | None,
) -> tuple[datetime, datetime] | None:
    """A baseline period as two datetimes (an open end reaches the series' edge).

    >>> baseline_options(("2024-01-01", None))[0]
    datetime.datetime(2024, 1, 1, 0, 0)
    """
    if baseline is None or baseline == (None, None):
        return None
    start, end = baseline
    return (
        _as_datetime(start) if start is not None else datetime.min,
        _as_datetime(end) if end is not None else datetime.max,
    )


def run_chart_engine(
    table: pl.DataFrame, options: SPCOptions, limits: LimitsFn, *, missing: np.ndarray
) -> SPCResult:
    """Group, compute limits per group and label points (shared by all charts).

    ``table`` comes from :func:`prepare_series`; ``missing`` marks points
    without a usable value (their ``value`` is ignored).
    """
    _validate(options)
    y = table["value"].to_numpy().astype(float)
    y = np.where(missing, np.nan, y)
    denominator = (
        table["denominator"].to_numpy().astype(float) if "denominator" in table.columns else None
    )
    group, warnings = _group_ids(table["date"], options.rebase)
    in_baseline = np.ones(y.size, dtype=bool)
    if options.baseline is not None:
        moments = table["date"].cast(pl.Datetime("us")).to_numpy()
        first, last = (np.datetime64(d, "us") for d in options.baseline)
        in_baseline = (group != 1) | ((moments >= first) & (moments <= last))
        if not (in_baseline & ~missing & (group == 1)).any():
            raise SPCOptionError(
                "no point with a value falls in the baseline period; "
                "choose dates that cover part of the series"
            )
    n = y.size
    out = {k: np.full(n, np.nan) for k in ("shown", "mean", "lpl", "upl", "l2", "u2")}
    rule: list[str | None] = [None] * n
    kind: list[str | None] = [None] * n
    group_rows: list[dict[str, object]] = []
    dates = table["date"].to_list()
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        present = ~missing[idx]
        baseline = present & in_baseline[idx]
        if options.fix_after_n_points is not None:
            baseline &= np.cumsum(present) <= options.fix_after_n_points
        lim = limits(y[idx], None if denominator is None else denominator[idx], baseline, options)
        out["shown"][idx] = lim.shown
        out["mean"][idx] = lim.centre
        out["lpl"][idx] = lim.lower
        out["upl"][idx] = lim.upper
        out["l2"][idx] = lim.lower_two
        out["u2"][idx] = lim.upper_two
        for start, stop in _segments(present):
            part = slice(start, stop)
            labels, signal = detect_special_causes(
                lim.rule_y[part],
                lim.rule_centre[part],
                lim.rule_lower[part],
                lim.rule_upper[part],
                lim.rule_lower_two[part],
                lim.rule_upper_two[part],
                options.rules,
            )
            types = point_types(signal, options.improvement)
            for offset, (label, name) in enumerate(zip(labels, types, strict=True)):
                rule[idx[start + offset]] = label
                kind[idx[start + offset]] = name
        n_points = int(present.sum())
        last = idx[present][-1] if present.any() else idx[-1]
        row = {
            "group": int(g),
            "start": dates[idx[0]],
            "end": dates[idx[-1]],
            "n_points": n_points,
            "n_missing": int((~present).sum()),
            "mean": _num(out["mean"][last]),
            "lpl": _num(out["lpl"][last]),
            "upl": _num(out["upl"][last]),
            "amr": _num(lim.amr),
            # p and u limits move with the denominator: lpl/upl are the last point's
            "limits_vary": bool(np.nanmax(lim.upper) - np.nanmin(lim.upper) > 1e-12)
            if np.isfinite(lim.upper).any()
            else False,
            "fixed_after": options.fix_after_n_points,
            "baseline_points": int(baseline.sum()),
            "short_group": n_points < SHORT_GROUP,
        }
        group_rows.append(row)
        where = f"group {g} ({dates[idx[0]]} to {dates[idx[-1]]})"
        if n_points < SHORT_GROUP:
            warnings.append(
                f"{where} has {n_points} point(s), fewer than {SHORT_GROUP}: its limits are "
                "trial limits and will move as points are added"
            )
        for note in lim.notes:
            warnings.append(f"{where}: {note}")
        if (~present).any():
            gaps = [str(dates[i]) for i in idx[~present]][:5]
            warnings.append(
                f"{where}: {int((~present).sum())} missing value(s) (e.g. {', '.join(gaps)}); "
                "they are left out of the limits and no rule runs across them"
            )
    points = table.select("date").with_columns(
        pl.Series("value", out["shown"]).fill_nan(None),
        pl.Series("group", group, dtype=pl.Int64),
        pl.Series("mean", out["mean"]).fill_nan(None),
        pl.Series("lpl", out["lpl"]).fill_nan(None),
        pl.Series("upl", out["upl"]).fill_nan(None),
        pl.Series("lower_two_sigma", out["l2"]).fill_nan(None),
        pl.Series("upper_two_sigma", out["u2"]).fill_nan(None),
        pl.Series("special_cause_rule", rule, dtype=pl.String),
        pl.Series("point_type", kind, dtype=pl.String),
    )
    if denominator is not None:
        points = points.with_columns(numerator=table["value"], denominator=table["denominator"])
    return SPCResult(points, pl.DataFrame(group_rows), options, tuple(warnings))


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def xmr_chart(
    frame: pl.DataFrame,
    *,
    date: str = "date",
    value: str = "value",
    improvement: Improvement = "increase",
    target: float | None = None,
    rebase: Sequence[DateLike] = (),
    fix_after_n_points: int | None = None,
    baseline: tuple[DateLike | None, DateLike | None] | None = None,
    screen_outliers: bool = True,
    rules: RuleSet = "mdc",
) -> SPCResult:
    """XmR chart with the Making Data Count rules (NHSRplotthedots 0.2 by default).

    Centre = mean; limits = mean ± 2.66 × AMR (average moving range); two-sigma
    lines at mean ± (2/3)(2.66 × AMR). ``baseline`` (first, last date; either may
    be None) fixes the first group's limits on the points in that period; a
    ``rebase`` date starts a new group whose limits are computed afresh. See
    :mod:`systemic.measures.rules` for
    the special-cause rules and this module's docstring for missing values.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"date": pl.date_range(
    ...     pl.date(2024, 1, 1), pl.date(2024, 1, 5), eager=True), "value": [1, 2, 3, 2, 1]})
    >>> result = xmr_chart(frame)
    >>> result.points.select("mean", "upl").row(0)
    (1.8, 4.46)
    """
    options = SPCOptions(
        chart="xmr",
        improvement=improvement,
        target=target,
        rebase=tuple(_as_datetime(d) for d in rebase),
        fix_after_n_points=fix_after_n_points,
        baseline=baseline_options(baseline),
        screen_outliers=screen_outliers,
        rules=rules,
    )
    _validate(options)
    table = prepare_series(frame, date=date, value=value)
    missing = table["value"].is_null().to_numpy()
    return run_chart_engine(table, options, _xmr_limits, missing=missing)
