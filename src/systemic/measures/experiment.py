"""Evidence from an experiment in one locality: did the system change, or is it noise?

Two readings, put into words together:

1. **SPC in the experiment's locality.** The points before the start set the
   limits (the baseline), which are carried forward over the points since the
   start; special causes among those later points are the signal. (A chart
   rebased at the start is returned as well, for the new period's own mean and
   limits: a rebased group has its own limits, so a step change never shows as
   a signal *inside* it, which is why the signal is read against the baseline.)
2. **Difference in differences against the other localities** over the same
   dates: (mean after − mean before) in the experiment's locality minus the
   same in the mean of the others, with a seeded bootstrap interval (dates
   resampled with replacement within each period, keeping each date's pair of
   values together). A change that happened everywhere is not credited to the
   experiment.

   For counts (contacts a week, failure demand a week) in localities of
   different sizes, a difference of means compares a big place with a small
   one: ``scale="relative"`` compares relative changes instead (the
   experiment's after/before ratio of means over the others', less one), so
   "-40% against -5% elsewhere" reads as it should whatever the sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import polars as pl

from systemic.measures.attribute import spc_chart
from systemic.measures.errors import SeriesError, SPCOptionError
from systemic.measures.rules import Improvement, RuleSet
from systemic.measures.spc import ChartKind, DateLike, SPCResult, _as_datetime

#: ``shift``: special causes on a measure with no direction of improvement (neither
#: better nor worse, only changed).
Signal = Literal["improvement", "concern", "mixed", "shift", "none"]
Conclusion = Literal[
    "improvement", "concern", "change", "shared_change", "no_change", "inconclusive"
]
#: ``difference``: changes in the measure's own units (percentage points of a share);
#: ``relative``: changes as fractions of the level before (counts in places of any size).
Scale = Literal["difference", "relative"]


def default_scale(*, whole_periods: bool) -> Scale:
    """The scale an experiment is compared with the other localities on, unless one is chosen.

    ``whole_periods`` is true for a learnt count of whole periods (contacts, failure
    contacts or needs ended a week or month: :attr:`SeriesDefinition.whole_periods
    <systemic.learn.series.SeriesDefinition.whole_periods>`): localities of different
    sizes make a raw difference of counts misleading, so they are compared as
    relative changes. Everything else (a share, a median, an uploaded series, a
    column of a CSV file) is compared as a difference in its own units. The one
    rule for ``systemic experiment``, the demo and the workspace's "Analyse".

    >>> default_scale(whole_periods=True), default_scale(whole_periods=False)
    ('relative', 'difference')
    """
    return "relative" if whole_periods else "difference"


def change_words(x: float, *, scale: Scale, share: bool = False, unit: bool = True) -> str:
    """A change (or a difference in differences) in words, as every page and sentence shows it.

    On the relative scale a whole per cent; a share's difference in percentage
    points (``unit=False`` leaves the words off, for an interval's ends); anything
    else to three significant digits in the measure's units.

    >>> change_words(-0.2236, scale="relative"), change_words(-0.0004, scale="relative")
    ('-22%', '0%')
    >>> change_words(0.031, scale="difference", share=True), change_words(-19.0, scale="difference")
    ('+3.1 percentage points', '-19')
    """
    if scale == "relative":
        percent = round(100 * x) + 0  # no "-0"
        return f"{percent:+d}%" if percent else "0%"
    if share:
        points = round(100 * x, 1) + 0.0  # no "-0.0"
        return (f"{points:+.1f}" if points else "0.0") + (" percentage points" if unit else "")
    return f"{x:+.3g}"


@dataclass(frozen=True)
class DifferenceInDifferences:
    """The experiment's change minus the other localities' change, with its interval."""

    estimate: float
    lower: float
    upper: float
    confidence: float
    n_boot: int
    seed: int
    n_before: int
    n_after: int
    n_other_localities: int
    change_in_locality: float
    change_in_others: float
    scale: Scale = "difference"


@dataclass(frozen=True)
class ExperimentEvidence:
    """What the measure says about an experiment, with the verdict in words."""

    locality: str
    start: datetime
    improvement: Improvement
    signal: Signal
    signal_rules: tuple[str, ...]
    baseline_chart: SPCResult
    rebased_chart: SPCResult
    did: DifferenceInDifferences | None
    conclusion: Conclusion
    verdict: str


def _per_date(frame: pl.DataFrame, value: str, denominator: str | None) -> pl.DataFrame:
    """One value per date: the ratio of sums when there is a denominator, else the mean."""
    if denominator:
        return frame.group_by("date").agg(
            (pl.col(value).sum() / pl.col(denominator).sum()).alias("value")
        )
    return frame.group_by("date").agg(pl.col(value).mean().alias("value"))


def difference_in_differences(
    experiment: np.ndarray,
    others: np.ndarray,
    after: np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """DiD estimate and percentile bootstrap interval from aligned per-date series.

    ``after`` marks the dates since the start. Dates are resampled with
    replacement within each period; each date keeps its pair of values, so a
    shock shared by all localities on a date stays shared.

    >>> import numpy as np
    >>> e = np.array([1.0, 1, 1, 3, 3, 3]); o = np.array([1.0, 1, 1, 1, 1, 1])
    >>> difference_in_differences(e, o, np.array([0, 0, 0, 1, 1, 1], bool))[0]
    2.0
    """
    gap = experiment - others
    estimate = float(gap[after].mean() - gap[~after].mean())
    before, since = _resampled_dates(after, n_boot, seed)
    draws = gap[since].mean(axis=1) - gap[before].mean(axis=1)
    return estimate, *_interval(draws, confidence)


def _resampled_dates(after: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of dates drawn with replacement within each period, one row a resample:
    (dates before the start, dates since)."""
    rng = np.random.default_rng(seed)
    before, since = np.flatnonzero(~after), np.flatnonzero(after)
    return (
        before[rng.integers(0, before.size, (n_boot, before.size))],
        since[rng.integers(0, since.size, (n_boot, since.size))],
    )


def _interval(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """The percentile interval of the bootstrap's draws."""
    tail = (1 - confidence) / 2
    lower, upper = np.quantile(draws, [tail, 1 - tail])
    return float(lower), float(upper)


def relative_difference_in_differences(
    experiment: np.ndarray,
    others: np.ndarray,
    after: np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Relative DiD: the experiment's after/before ratio of means over the others', less one.

    Dates are resampled as in :func:`difference_in_differences`. A level of zero
    before the start has no relative change: ``ValueError``.

    >>> import numpy as np
    >>> e = np.array([100.0, 100, 60, 60]); o = np.array([10.0, 10, 9, 9])
    >>> round(relative_difference_in_differences(e, o, np.array([0, 0, 1, 1], bool))[0], 4)
    -0.3333
    """

    def change(x: np.ndarray, before: np.ndarray, since: np.ndarray) -> np.ndarray:
        return x[since].mean(axis=-1) / x[before].mean(axis=-1)

    if experiment[~after].mean() <= 0 or others[~after].mean() <= 0:
        raise ValueError("a relative change needs a level above zero before the start")
    dates = (np.flatnonzero(~after), np.flatnonzero(after))
    estimate = float(change(experiment, *dates) / change(others, *dates) - 1)
    picks = _resampled_dates(after, n_boot, seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = change(experiment, *picks) / change(others, *picks) - 1
    # A resample whose before-mean is zero has no relative change: it is left out.
    draws = draws[np.isfinite(draws)]
    if not draws.size:
        raise ValueError("no resample has a level above zero before the start")
    return estimate, *_interval(draws, confidence)


def experiment_evidence(
    frame: pl.DataFrame,
    *,
    locality: str,
    start: DateLike,
    date: str = "date",
    value: str = "value",
    locality_column: str = "locality",
    denominator: str | None = None,
    chart: ChartKind = "xmr",
    improvement: Improvement = "increase",
    rules: RuleSet = "mdc",
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
    scale: Scale = "difference",
) -> ExperimentEvidence:
    """Judge an experiment that started on ``start`` in ``locality``.

    ``frame`` is long: one row per locality and date (other localities give the
    comparison; without them only the SPC reading is made). ``scale`` says how
    the comparison is made (:data:`Scale`; ``relative`` for counts).

    >>> import polars as pl, numpy as np
    >>> weeks = pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 12, 23), "1w", eager=True)
    >>> rng = np.random.default_rng(1)
    >>> rows = [{"date": d, "locality": loc, "value": 50 + rng.normal(0, 3)
    ...          - (12 if loc == "North" and i >= 26 else 0)}
    ...         for i, d in enumerate(weeks) for loc in ["North", "South", "East"]]
    >>> evidence = experiment_evidence(pl.DataFrame(rows), locality="North",
    ...     start="2024-07-01", improvement="decrease")
    >>> evidence.conclusion
    'improvement'
    """
    if n_boot < 100:
        raise SPCOptionError("n_boot must be at least 100 for a usable interval")
    if scale not in ("difference", "relative"):
        raise SPCOptionError(f"scale must be 'difference' or 'relative', not {scale!r}")
    for column in (date, value, locality_column):
        if column not in frame.columns:
            raise SeriesError(
                f"no column {column!r} (columns are: {', '.join(frame.columns)})",
                field=column,
                hint="name the date, value and locality columns",
            )
    started = _as_datetime(start)
    table = frame.rename({date: "date"}) if date != "date" else frame
    if table.schema["date"] == pl.String:
        table = table.with_columns(pl.col("date").str.to_datetime(strict=False))
    table = table.with_columns(pl.col("date").cast(pl.Datetime("us")))
    local = table.filter(pl.col(locality_column).cast(pl.String) == locality)
    if not local.height:
        known = ", ".join(sorted(map(str, table[locality_column].unique().drop_nulls())))
        raise SeriesError(
            f"no rows for locality {locality!r} (localities: {known})",
            field=locality_column,
            hint="name a locality that is in the data",
        )
    before = local.filter(pl.col("date") < started)
    n_before = int(before[value].drop_nulls().len())
    after_rows = local.filter(pl.col("date") >= started).height
    if n_before < 2 or after_rows < 1:
        raise SPCOptionError(
            f"the experiment needs points before and after {started.date()} in {locality!r} "
            f"(found {n_before} before and {after_rows} after)"
        )
    series = local.select("date", value, *([denominator] if denominator else []))
    common = {
        "chart": chart,
        "value": value,
        "denominator": denominator,
        "improvement": improvement,
        "rules": rules,
    }
    baseline = spc_chart(series, fix_after_n_points=n_before, **common)  # type: ignore[arg-type]
    rebased = spc_chart(series, rebase=[started], **common)  # type: ignore[arg-type]
    later = baseline.points.filter(pl.col("date").cast(pl.Datetime("us")) >= started)
    types = set(later["point_type"].drop_nulls())
    rules_seen = tuple(sorted(set(later["special_cause_rule"].drop_nulls())))
    good = "special_cause_improvement" in types
    bad = "special_cause_concern" in types
    neutral = any(t.startswith("special_cause_neutral") for t in types)
    signal: Signal = (
        "mixed" if good and bad else "improvement" if good else "concern" if bad else "none"
    )
    if improvement == "neutral" and neutral:
        signal = "shift"

    did = _did(table, locality, locality_column, value, denominator, started,
               n_boot=n_boot, seed=seed, confidence=confidence, scale=scale)  # fmt: skip
    conclusion = _conclude(signal, did, improvement)
    verdict = _verdict(
        locality, started, n_before, later.height, signal, rules_seen, did, conclusion,
        improvement, rebased,
    )  # fmt: skip
    return ExperimentEvidence(
        locality, started, improvement, signal, rules_seen, baseline, rebased, did,
        conclusion, verdict,
    )  # fmt: skip


def _did(
    table: pl.DataFrame,
    locality: str,
    locality_column: str,
    value: str,
    denominator: str | None,
    started: datetime,
    *,
    n_boot: int,
    seed: int,
    confidence: float,
    scale: Scale = "difference",
) -> DifferenceInDifferences | None:
    name = pl.col(locality_column).cast(pl.String)
    usable = table.filter(pl.col(value).is_not_null())
    others_rows = usable.filter(name != locality)
    if not others_rows.height:
        return None
    mine = _per_date(usable.filter(name == locality), value, denominator)
    others = _per_date(others_rows, value, denominator).rename({"value": "others"})
    # A date with nothing to divide (0 of 0 in a share) has no value: NaN is left out too.
    aligned = (
        mine.join(others, on="date")
        .sort("date")
        .drop_nulls()
        .filter(pl.col("value").is_finite() & pl.col("others").is_finite())
    )
    after = (aligned["date"] >= started).to_numpy()
    if after.sum() < 2 or (~after).sum() < 2:
        return None
    experiment = aligned["value"].to_numpy().astype(float)
    rest = aligned["others"].to_numpy().astype(float)
    if scale == "relative":
        if experiment[~after].mean() <= 0 or rest[~after].mean() <= 0 or rest[after].mean() <= 0:
            raise SPCOptionError(
                "a relative comparison needs the measure above zero before the start, in "
                f"{locality!r} and in the other localities, and in the others after it: use "
                "the difference scale"
            )
        try:
            estimate, lower, upper = relative_difference_in_differences(
                experiment, rest, after, n_boot=n_boot, seed=seed, confidence=confidence
            )
        except ValueError as error:
            raise SPCOptionError(f"{error}: use the difference scale") from None
        moved = experiment[after].mean() / experiment[~after].mean() - 1
        moved_others = rest[after].mean() / rest[~after].mean() - 1
    else:
        estimate, lower, upper = difference_in_differences(
            experiment, rest, after, n_boot=n_boot, seed=seed, confidence=confidence
        )
        moved = experiment[after].mean() - experiment[~after].mean()
        moved_others = rest[after].mean() - rest[~after].mean()
    return DifferenceInDifferences(
        estimate=estimate,
        lower=lower,
        upper=upper,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
        n_before=int((~after).sum()),
        n_after=int(after.sum()),
        n_other_localities=others_rows[locality_column].n_unique(),
        change_in_locality=float(moved),
        change_in_others=float(moved_others),
        scale=scale,
    )


def _direction(x: float, improvement: Improvement) -> int:
    """+1 when a change of sign ``x`` is better, -1 worse, 0 for neutral measures."""
    if improvement == "neutral" or x == 0:
        return 0
    return int(np.sign(x)) * (1 if improvement == "increase" else -1)


def _conclude(
    signal: Signal, did: DifferenceInDifferences | None, improvement: Improvement
) -> Conclusion:
    if signal == "shift":
        # A neutral measure changed: beyond the others (or with none to compare), or with them.
        if did is None or did.lower > 0 or did.upper < 0:
            return "change"
        return "shared_change"
    if did is None:
        if signal in ("improvement", "concern"):
            return signal
        return "no_change" if signal == "none" else "inconclusive"
    excludes_zero = did.lower > 0 or did.upper < 0
    did_direction = _direction(did.estimate, improvement) if excludes_zero else 0
    if signal == "improvement" and did_direction == 1:
        return "improvement"
    if signal == "concern" and did_direction == -1:
        return "concern"
    if signal in ("improvement", "concern") and not excludes_zero:
        return "shared_change"
    if signal == "none" and not excludes_zero:
        return "no_change"
    return "inconclusive"


#: The special-cause rules in words, for sentences (never the rule ids).
RULE_WORDS: dict[str, str] = {
    "outside_limits": "points outside the limits",
    "trend": "a trend of seven",
    "two_in_three": "two of three points near a limit",
    "run": "a run of seven or more on one side of the mean",
}


def _verdict(
    locality: str,
    started: datetime,
    n_before: int,
    n_after: int,
    signal: Signal,
    rules_seen: tuple[str, ...],
    did: DifferenceInDifferences | None,
    conclusion: Conclusion,
    improvement: Improvement,
    rebased: SPCResult,
) -> str:
    day = started.date().isoformat()
    said = ", ".join(RULE_WORDS[r] for r in rules_seen)
    share = rebased.options.chart == "p"

    def level(x: float) -> str:
        return f"{100 * x:.1f}%" if share else f"{x:.4g}"

    def change(x: float) -> str:
        return change_words(x, scale=did.scale if did is not None else "difference", share=share)

    spc = (
        f"Against limits set by the {n_before} points before {day}, the {n_after} points "
        f"since in {locality} show "
        + {
            "improvement": f"special-cause improvement ({said}).",
            "concern": f"special-cause concern ({said}).",
            "mixed": f"special causes in both directions ({said}).",
            "shift": f"special-cause variation ({said}): a shift beyond the baseline's usual "
            "variation.",
            "none": "no special cause: they stay within the variation of the baseline.",
        }[signal]
    )
    if n_before < 13:
        spc += f" The baseline has only {n_before} points, so its limits are trial limits."
    means = rebased.groups["mean"].to_list()
    if len(means) >= 2 and means[0] is not None and means[-1] is not None:
        spc += f" Rebased at {day}, the mean moved from {level(means[0])} to {level(means[-1])}."
    if did is None:
        comparison = (
            "No other localities were given over the same dates, so a change that happened "
            "everywhere cannot be told apart from the experiment's effect."
        )
    else:
        pct = round(did.confidence * 100)
        n = did.n_other_localities
        others = "the other locality" if n == 1 else f"the other {n} localities"
        them, theirs = ("it", "its") if n == 1 else ("them", "theirs")
        versus = (
            f"{locality} moved {change(did.estimate)} relative to {them} (the ratio of its "
            f"after/before means to {theirs}, less one"
            if did.scale == "relative"
            else f"a difference in differences of {change(did.estimate)} ("
        )
        comparison = (
            f"Over the same dates {locality} changed by {change(did.change_in_locality)} and "
            f"{others} by {change(did.change_in_others)}: "
            f"{versus}{'; ' if did.scale == 'relative' else ''}{pct}% bootstrap interval "
            f"{change(did.lower)} to {change(did.upper)}, {did.n_boot} resamples, "
            f"seed {did.seed})."
        )
    conclusion_text = {
        "improvement": f"Together this is evidence that the system in {locality} improved "
        "after the experiment started, beyond what happened elsewhere.",
        "concern": f"Together this is evidence that the measure in {locality} got worse after "
        "the experiment started, beyond what happened elsewhere.",
        "change": f"The measure in {locality} changed after the experiment started"
        + (", beyond what happened elsewhere" if did is not None else "")
        + "; it has no direction of improvement set, so whether that is better or worse is "
        "for you to judge.",
        "shared_change": (
            "The shift is real but the other localities moved in the same way: it cannot be "
            "credited to the experiment."
            if did is None
            or (
                did.change_in_locality * did.change_in_others > 0
                and abs(did.change_in_others) >= abs(did.change_in_locality) / 2
            )
            else "The shift is real, but the difference from the other localities could be "
            "chance (its interval includes zero): it cannot yet be credited to the experiment."
        ),
        "no_change": "There is no evidence that the experiment changed this measure.",
        "inconclusive": "The two readings disagree, so the evidence is inconclusive: look at "
        "the chart and the other measures before deciding.",
    }[conclusion]
    caveat = (
        "This does not show that the experiment caused the change: anything else that changed "
        f"only in {locality} at the same time would look the same, and dates are resampled as "
        "if independent, so a strongly autocorrelated series gets too narrow an interval. It "
        "reads one measure; check the others derived from purpose."
    )
    return " ".join([spc, comparison, conclusion_text, caveat])
