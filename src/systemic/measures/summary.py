"""Read an SPC result: variation icon, assurance icon and a summary, apart from charts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from systemic.measures.spc import SPCResult

Assurance = Literal["consistent_pass", "consistent_fail", "inconsistent"]


def variation_icon(result: SPCResult) -> str | None:
    """The variation icon: the point type of the last point that has a value.

    >>> import polars as pl
    >>> from systemic.measures import xmr_chart
    >>> frame = pl.DataFrame({"date": pl.date_range(
    ...     pl.date(2024, 1, 1), pl.date(2024, 1, 5), eager=True), "value": [1, 2, 3, 2, 1]})
    >>> variation_icon(xmr_chart(frame))
    'common_cause'
    """
    typed = result.points.filter(result.points["point_type"].is_not_null())
    return typed["point_type"][-1] if typed.height else None


def assurance_icon(result: SPCResult) -> Assurance | None:
    """Can the process reliably meet its target? From the latest group's limits.

    With an increase-is-better measure, a target above the upper limit is
    ``consistent_fail`` and one below the lower limit ``consistent_pass``
    (the other way round for decrease); anything between is ``inconsistent``.
    ``None`` without a target, for a neutral measure, or when the latest group
    has no limits (a single point).

    >>> import polars as pl
    >>> from systemic.measures import xmr_chart
    >>> frame = pl.DataFrame({"date": pl.date_range(
    ...     pl.date(2024, 1, 1), pl.date(2024, 1, 5), eager=True), "value": [1, 2, 3, 2, 1]})
    >>> assurance_icon(xmr_chart(frame, target=10))
    'consistent_fail'
    """
    target = result.options.target
    if target is None or result.options.improvement == "neutral":
        return None
    latest = result.points["group"].max()
    last = result.points.filter(result.points["group"] == latest).row(-1, named=True)
    lpl, upl = last["lpl"], last["upl"]
    if lpl is None or upl is None or not (math.isfinite(lpl) and math.isfinite(upl)):
        return None
    increasing = result.options.improvement == "increase"
    if target > upl:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"


def summarise(result: SPCResult) -> dict[str, Any]:
    """A JSON-ready summary: options, groups with mean and limits, icons, warnings.

    >>> import polars as pl
    >>> from systemic.measures import xmr_chart
    >>> frame = pl.DataFrame({"date": pl.date_range(
    ...     pl.date(2024, 1, 1), pl.date(2024, 1, 5), eager=True), "value": [1, 2, 3, 2, 1]})
    >>> summarise(xmr_chart(frame))["groups"][0]["mean"]
    1.8
    """
    options = result.options
    groups = [
        {k: (str(v) if k in ("start", "end") else v) for k, v in row.items()}
        for row in result.groups.iter_rows(named=True)
    ]
    counts = result.points["point_type"].value_counts(sort=True).drop_nulls()
    return {
        "chart": options.chart,
        "rules": options.rules,
        "improvement": options.improvement,
        "target": options.target,
        "screen_outliers": options.screen_outliers,
        "fix_after_n_points": options.fix_after_n_points,
        "rebase": [str(d.date()) if d.time() == d.min.time() else str(d) for d in options.rebase],
        "n_points": result.points.height,
        "groups": groups,
        "point_types": {row[0]: row[1] for row in counts.iter_rows()},
        "variation_icon": variation_icon(result),
        "assurance_icon": assurance_icon(result),
        "warnings": list(result.warnings),
    }


#: Point types that are special causes, in the order a reading names them.
SPECIAL_CAUSES: tuple[str, ...] = (
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)


@dataclass(frozen=True)
class ChartReading:
    """What a whole chart says, for a caption: the same numbers the chart draws.

    ``points`` have a value, ``gaps`` do not (missing or suppressed);
    ``special`` counts the special-cause points by type (types with none are
    left out); ``latest`` is the latest point's type and ``mean`` the latest
    group's centre line.
    """

    points: int
    gaps: int
    special: dict[str, int] = field(default_factory=dict)
    latest: str | None = None
    mean: float | None = None
    improvement: str = "neutral"

    @property
    def special_points(self) -> int:
        """How many points show a special cause, of any kind."""
        return sum(self.special.values())


def read_chart(result: SPCResult) -> ChartReading:
    """Read a whole chart: points, gaps, special causes by type, the latest point, the mean.

    >>> import polars as pl
    >>> from systemic.measures import xmr_chart
    >>> frame = pl.DataFrame({"date": pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 1, 10),
    ...     eager=True), "value": [1, 2, 1, 2, 1, 2, 1, 2, 1, 40]})
    >>> r = read_chart(xmr_chart(frame))
    >>> r.points, r.special, r.latest  # the last point is high; the nine before, a run below
    (10, {'special_cause_improvement': 1, 'special_cause_concern': 9}, 'special_cause_improvement')
    """
    types = result.points["point_type"]
    counts = dict(types.drop_nulls().value_counts().iter_rows())
    groups = result.groups
    mean = groups["mean"][-1] if groups.height else None
    return ChartReading(
        points=int(types.is_not_null().sum()),
        gaps=int(types.is_null().sum()),
        special={t: int(counts[t]) for t in SPECIAL_CAUSES if counts.get(t)},
        latest=variation_icon(result),
        mean=None if mean is None else float(mean),
        improvement=result.options.improvement,
    )
