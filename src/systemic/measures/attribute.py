"""Attribute charts: p, u, c, t and g, each read with the same special-cause rules.

Formulas (three-sigma limits, lower limits never below zero):

* **p** (share, e.g. failure demand of all contacts): p̄ = Σx / Σn,
  limits p̄ ± 3·√(p̄(1 − p̄)/nᵢ), capped to [0, 1] (Montgomery, ch. 7).
* **u** (rate per unit, e.g. contacts per 1,000 residents): ū = Σc / Σn,
  limits ū ± 3·√(ū/nᵢ), shown × ``per`` (Montgomery, ch. 7).
* **c** (count per period, equal opportunity): c̄ ± 3·√c̄.
* **t** (time between rare events): y = t^(1/3.6) makes the times roughly
  normal (Nelson 1994); an XmR chart on y (same screening) is drawn back on
  the time scale by raising everything to the power 3.6 (Provost & Murray,
  *The Health Care Data Guide*, 2011).
* **g** (opportunities or days between rare events): ḡ ± 3·√(ḡ(ḡ + 1))
  (Provost & Murray 2011; the geometric distribution's sigma).

Two-sigma lines use the same formula with 2 in place of 3. Rebase,
fix-after and missing values behave as for the XmR chart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from systemic.measures.errors import SeriesError, SPCOptionError
from systemic.measures.rules import Improvement, RuleSet
from systemic.measures.spc import (
    LIMIT_FACTOR,
    TWO_SIGMA_FACTOR,
    ChartKind,
    DateLike,
    GroupLimits,
    LimitsFn,
    SPCOptions,
    SPCResult,
    _as_datetime,
    _same_space,
    _xmr_limits,
    baseline_options,
    moving_range_limits,
    prepare_series,
    run_chart_engine,
)

#: Nelson's power for times between events: y = t ** (1 / 3.6).
T_POWER = 3.6


def _sigma_limits(
    shown: np.ndarray,
    centre: float,
    sigma: np.ndarray,
    *,
    upper_cap: float | None = None,
) -> GroupLimits:
    ones = np.ones(shown.size)
    cap = np.inf if upper_cap is None else upper_cap

    def band(k: float) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(centre - k * sigma, 0.0), np.minimum(centre + k * sigma, cap)

    lower, upper = band(3.0)
    lower_two, upper_two = band(2.0)
    return _same_space(shown, centre * ones, lower, upper, lower_two, upper_two)


def _p_limits(
    x: np.ndarray, n: np.ndarray | None, baseline: np.ndarray, options: SPCOptions
) -> GroupLimits:
    assert n is not None
    with np.errstate(invalid="ignore", divide="ignore"):
        shown = x / n
        p_bar = float(x[baseline].sum() / n[baseline].sum()) if baseline.any() else np.nan
        sigma = np.sqrt(p_bar * (1 - p_bar) / n)
    return _sigma_limits(shown, p_bar, sigma, upper_cap=1.0)


def _u_limits(
    c: np.ndarray, n: np.ndarray | None, baseline: np.ndarray, options: SPCOptions
) -> GroupLimits:
    assert n is not None
    per = options.per
    with np.errstate(invalid="ignore", divide="ignore"):
        u_bar = float(c[baseline].sum() / n[baseline].sum()) if baseline.any() else np.nan
        sigma = np.sqrt(u_bar / n) * per
        return _sigma_limits(c / n * per, u_bar * per, sigma)


def _c_limits(
    c: np.ndarray, n: np.ndarray | None, baseline: np.ndarray, options: SPCOptions
) -> GroupLimits:
    c_bar = float(c[baseline].mean()) if baseline.any() else np.nan
    return _sigma_limits(c, c_bar, np.full(c.size, np.sqrt(c_bar)))


def _g_limits(
    g: np.ndarray, n: np.ndarray | None, baseline: np.ndarray, options: SPCOptions
) -> GroupLimits:
    g_bar = float(g[baseline].mean()) if baseline.any() else np.nan
    return _sigma_limits(g, g_bar, np.full(g.size, np.sqrt(g_bar * (g_bar + 1))))


def _t_limits(
    t: np.ndarray, n: np.ndarray | None, baseline: np.ndarray, options: SPCOptions
) -> GroupLimits:
    y = np.power(t, 1 / T_POWER)
    mean, amr, notes = moving_range_limits(y, baseline, options.screen_outliers)
    ones = np.ones(t.size)
    centre = mean * ones
    lower, upper = centre - LIMIT_FACTOR * amr, centre + LIMIT_FACTOR * amr
    lower_two, upper_two = centre - TWO_SIGMA_FACTOR * amr, centre + TWO_SIGMA_FACTOR * amr

    def back(v: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.power(np.maximum(v, 0.0), T_POWER)

    return GroupLimits(
        t, back(centre), back(lower), back(upper), back(lower_two), back(upper_two),
        y, centre, lower, upper, lower_two, upper_two, amr=amr, notes=notes,
    )  # fmt: skip


_LIMITS: dict[str, LimitsFn] = {
    "xmr": _xmr_limits,
    "p": _p_limits,
    "u": _u_limits,
    "c": _c_limits,
    "t": _t_limits,
    "g": _g_limits,
}
_NEEDS_DENOMINATOR = {"p", "u"}


def spc_chart(
    frame: pl.DataFrame,
    *,
    chart: ChartKind = "xmr",
    date: str = "date",
    value: str = "value",
    denominator: str | None = None,
    improvement: Improvement = "increase",
    target: float | None = None,
    rebase: Sequence[DateLike] = (),
    fix_after_n_points: int | None = None,
    baseline: tuple[DateLike | None, DateLike | None] | None = None,
    screen_outliers: bool = True,
    rules: RuleSet = "mdc",
    per: float = 1.0,
) -> SPCResult:
    """Any SPC chart by name: ``xmr``, ``p``, ``u``, ``c``, ``t`` or ``g``.

    For p and u charts ``value`` is the count (failure demand, contacts) and
    ``denominator`` the opportunity (all contacts, residents); ``per`` scales a
    u-chart (1000 gives contacts per 1,000 residents). ``target`` is on the
    plotted scale. ``screen_outliers`` applies to xmr and t charts.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"week": ["2024-01-01", "2024-01-08"],
    ...                       "failure": [30, 50], "contacts": [100, 100]})
    >>> spc_chart(frame, chart="p", date="week", value="failure",
    ...           denominator="contacts").points["mean"].to_list()
    [0.4, 0.4]
    """
    if chart not in _LIMITS:
        raise SPCOptionError(f"unknown chart {chart!r}; choose one of {', '.join(_LIMITS)}")
    if chart in _NEEDS_DENOMINATOR and denominator is None:
        raise SPCOptionError(
            f"a {chart}-chart needs a denominator column (e.g. all contacts, residents)"
        )
    options = SPCOptions(
        chart=chart,
        improvement=improvement,
        target=target,
        rebase=tuple(_as_datetime(d) for d in rebase),
        fix_after_n_points=fix_after_n_points,
        baseline=baseline_options(baseline),
        screen_outliers=screen_outliers,
        rules=rules,
        per=per,
    )
    use_denominator = denominator if chart in _NEEDS_DENOMINATOR else None
    table = prepare_series(frame, date=date, value=value, denominator=use_denominator)
    missing = table["value"].is_null()
    negative = table.filter(pl.col("value") < 0)
    if chart != "xmr" and negative.height:
        raise SeriesError(
            f"{value!r} is negative ({negative['value'][0]}) on {negative['date'][0]}",
            field=value,
            hint=f"a {chart}-chart counts events or times, which cannot be negative",
        )
    if use_denominator:
        den = table["denominator"]
        missing = missing | den.is_null() | (den <= 0)
        if chart == "p":
            over = table.filter(pl.col("value") > pl.col("denominator"))
            if over.height:
                raise SeriesError(
                    f"{value!r} ({over['value'][0]}) exceeds {denominator!r} "
                    f"({over['denominator'][0]}) on {over['date'][0]}",
                    field=value,
                    hint="a p-chart's count must be part of its denominator",
                )
    result = run_chart_engine(table, options, _LIMITS[chart], missing=missing.to_numpy())
    if use_denominator:
        unusable = int((table["denominator"].fill_null(0) <= 0).sum())
        if unusable:
            note = (
                f"{unusable} point(s) have a missing or zero {denominator!r}: "
                "treated as missing values"
            )
            return SPCResult(result.points, result.groups, options, (*result.warnings, note))
    return result


def p_chart(frame: pl.DataFrame, *, value: str, denominator: str, **kw: object) -> SPCResult:
    """p-chart of a share, e.g. failure demand among contacts (see :func:`spc_chart`).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"date": ["2024-01-01", "2024-01-08", "2024-01-15"],
    ...                       "failure": [3, 5, 4], "contacts": [10, 10, 10]})
    >>> p_chart(frame, value="failure", denominator="contacts").points["mean"].to_list()
    [0.4, 0.4, 0.4]
    """
    return spc_chart(frame, chart="p", value=value, denominator=denominator, **kw)  # type: ignore[arg-type]


def u_chart(
    frame: pl.DataFrame, *, value: str, denominator: str, per: float = 1.0, **kw: object
) -> SPCResult:
    """u-chart of a rate, e.g. contacts per 1,000 residents (``per=1000``).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"date": ["2024-01-01", "2024-01-08", "2024-01-15"],
    ...                       "contacts": [30, 50, 40], "residents": [10_000, 10_000, 10_000]})
    >>> u_chart(frame, value="contacts", denominator="residents", per=1000).points["mean"].to_list()
    [4.0, 4.0, 4.0]
    """
    return spc_chart(frame, chart="u", value=value, denominator=denominator, per=per, **kw)  # type: ignore[arg-type]


def c_chart(frame: pl.DataFrame, *, value: str = "value", **kw: object) -> SPCResult:
    """c-chart of counts per period with equal opportunity (see :func:`spc_chart`).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"date": ["2024-01-01", "2024-01-08", "2024-01-15"],
    ...                       "value": [3, 5, 4]})
    >>> c_chart(frame).points["mean"].to_list()
    [4.0, 4.0, 4.0]
    """
    return spc_chart(frame, chart="c", value=value, **kw)  # type: ignore[arg-type]


def t_chart(frame: pl.DataFrame, *, value: str = "value", **kw: object) -> SPCResult:
    """t-chart of times between rare events (Nelson's transformation).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"date": ["2024-01-01", "2024-01-08", "2024-01-15"],
    ...                       "value": [8.0, 8.0, 8.0]})
    >>> [round(m, 9) for m in t_chart(frame).points["mean"]]
    [8.0, 8.0, 8.0]
    """
    return spc_chart(frame, chart="t", value=value, **kw)  # type: ignore[arg-type]


def g_chart(frame: pl.DataFrame, *, value: str = "value", **kw: object) -> SPCResult:
    """g-chart of opportunities (or days) between rare events.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"date": ["2024-01-01", "2024-01-08", "2024-01-15"],
    ...                       "value": [10, 30, 20]})
    >>> g_chart(frame).points["mean"].to_list()
    [20.0, 20.0, 20.0]
    """
    return spc_chart(frame, chart="g", value=value, **kw)  # type: ignore[arg-type]
