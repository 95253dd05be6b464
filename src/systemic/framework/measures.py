"""A measure read as its definition says: the chart, its icons and its reading in words.

A workspace measure names its chart type, which way is better, a baseline
period, rebase dates with reasons, an optional target and annotations.
:func:`chart_measure` computes the SPC result from a :class:`MeasureData`
with those choices, and writes the page's sentences from that same result,
so the words cannot disagree with the chart. Pages only present it.

>>> import polars as pl
>>> from datetime import date, timedelta
>>> from types import SimpleNamespace
>>> from systemic.framework.measure_data import MeasureData
>>> weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(6)]
>>> data = MeasureData("m1", pl.DataFrame({"date": weeks, "value": [5.0, 6, 5, 6, 5, 6]}))
>>> m = SimpleNamespace(name="Repeat calls", chart="xmr", improvement="decrease", target=None,
...     baseline_start=None, baseline_end=None, rebases=[], annotations=[], series_name=None)
>>> chart = chart_measure(m, data)
>>> chart.variation, chart.sentences[0][:60]
('common_cause', 'The latest value shows common cause variation: no sign of ch')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import polars as pl

from systemic.framework.measure_data import MeasureData
from systemic.measures import (
    MeasuresError,
    SPCResult,
    assurance_icon,
    read_chart,
    spc_chart,
    variation_icon,
)

#: Fewer values than this make no useful chart.
MIN_POINTS = 3

#: The variation icon's meaning, in words (the improvement direction decides which).
VARIATION_WORDS: dict[str, str] = {
    "common_cause": "common cause variation: no sign of change beyond the usual ups and downs",
    "special_cause_improvement": "special cause variation in the direction of improvement",
    "special_cause_concern": "special cause variation in the direction of concern",
    "special_cause_neutral_high": "a shift upwards, beyond the usual variation",
    "special_cause_neutral_low": "a shift downwards, beyond the usual variation",
}

#: The assurance icon's meaning, in words.
ASSURANCE_WORDS: dict[str, str] = {
    "consistent_pass": "the target lies outside the limits on the side of improvement: "
    "as it runs now, the process will meet it",
    "consistent_fail": "the target lies outside the limits on the side of concern: "
    "the process will not meet it unless the system changes",
    "inconsistent": "the target lies within the limits: the process will meet it "
    "in some periods and miss it in others, by chance alone",
}

#: Which way is better, in words.
DIRECTION_WORDS: dict[str, str] = {
    "increase": "higher is better",
    "decrease": "lower is better",
    "neutral": "no direction is set, so change is shown, not whether it is good",
}

#: Series whose values are shares (shown as percentages).
SHARES = frozenset({"failure_demand_share"})

MarkerKind = Literal["experiment", "annotation", "rebase"]


@dataclass(frozen=True)
class ChartMarker:
    """A date marked on a measure's chart, with what happened then."""

    on: date
    label: str
    kind: MarkerKind


@dataclass(frozen=True)
class MeasureChart:
    """A measure's chart as computed: the SPC result, marks, icons and reading.

    ``result`` is None when no chart can be drawn; ``problem`` then says why
    and what to do. ``sentences`` are written from ``result``; ``notes`` say
    what was suppressed or left out and how the limits were set.
    """

    data: MeasureData
    result: SPCResult | None
    markers: tuple[ChartMarker, ...] = ()
    sentences: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    problem: str = ""
    variation: str | None = None
    assurance: str | None = None
    share: bool = False
    groups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reading(self) -> str:
        """The sentences as one paragraph."""
        return " ".join(self.sentences)


def format_value(value: float | None, *, share: bool = False) -> str:
    """A value as the page shows it: shares as percentages, others to 3 figures.

    >>> format_value(0.4132, share=True), format_value(12.345), format_value(None)
    ('41.3%', '12.3', '—')
    """
    if value is None:
        return "—"
    if share:
        return f"{100 * value:.1f}%"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def experiment_markers(experiments: Iterable[Any], measure_id: str) -> list[ChartMarker]:
    """The start of every experiment linked to the measure, as chart markers."""
    return [
        ChartMarker(e.start_date, f"Experiment: {e.title}", "experiment")
        for e in experiments
        if measure_id in (e.measure_ids or []) and e.start_date is not None
    ]


def _frame_for_chart(measure: Any, data: MeasureData) -> tuple[pl.DataFrame, dict[str, Any]]:
    chart = measure.chart
    if chart in ("p", "u"):
        if "denominator" not in data.series.columns:
            raise MeasuresError(
                f"a {chart}-chart needs a count with its denominator, and this series has none "
                "(the failure-demand share has one); choose the XmR chart"
            )
        return data.series, {"value": "numerator", "denominator": "denominator"}
    return data.series, {"value": "value"}


def _compute(measure: Any, data: MeasureData) -> SPCResult:
    frame, columns = _frame_for_chart(measure, data)
    baseline = None
    if measure.baseline_start is not None or measure.baseline_end is not None:
        baseline = (measure.baseline_start, measure.baseline_end)
    last = frame["date"].max()
    return spc_chart(
        frame,
        chart=measure.chart,
        improvement=measure.improvement,
        target=measure.target,
        rebase=[r.on for r in measure.rebases if last is not None and r.on <= last],
        baseline=baseline,
        **columns,
    )


def _group_sentence(
    group: dict[str, Any], measure: Any, reasons: dict[date, str], share: bool
) -> str:
    start = group["start"]
    if group["group"] == 1:
        opening = f"From {start}"
        if measure.baseline_start is not None or measure.baseline_end is not None:
            first = measure.baseline_start or start
            last = measure.baseline_end or group["end"]
            opening += f", with limits fixed on the baseline {first} to {last},"
    else:
        reason = next((r for on, r in sorted(reasons.items()) if on <= start), "")
        opening = f"From {start} (limits recalculated: {reason})"
    if group["lpl"] is None or group["upl"] is None:
        mean = format_value(group["mean"], share=share)
        return f"{opening} the mean is {mean}; too few values for limits."
    return (
        f"{opening} the mean is {format_value(group['mean'], share=share)} and the usual range "
        f"{format_value(group['lpl'], share=share)} to {format_value(group['upl'], share=share)}."
    )


def _reading(measure: Any, data: MeasureData, result: SPCResult, share: bool) -> list[str]:
    read = read_chart(result)
    unit = {"week": "weeks", "month": "months"}.get(data.period, "values")
    sentences = [f"The latest value shows {VARIATION_WORDS.get(read.latest or '', 'no reading')}."]
    if read.special_points:
        kinds = {
            "special_cause_improvement": "improvement",
            "special_cause_concern": "concern",
            "special_cause_neutral_high": "a shift upwards",
            "special_cause_neutral_low": "a shift downwards",
        }
        parts = ", ".join(f"{n} {kinds[k]}" for k, n in read.special.items())
        sentences.append(
            f"{read.special_points} of the {read.points} {unit} charted show special cause "
            f"({parts}); {DIRECTION_WORDS[measure.improvement]}."
        )
    else:
        sentences.append(
            f"None of the {read.points} {unit} charted shows special cause; "
            f"{DIRECTION_WORDS[measure.improvement]}."
        )
    if read.gaps:
        noun, verb = (unit, "are gaps") if read.gaps != 1 else (unit[:-1], "is a gap")
        sentences.append(
            f"{read.gaps} {noun} {verb} (suppressed to protect small numbers, or missing): "
            "not zeros, and no line is drawn across them."
        )
    reasons = {r.on: r.reason for r in measure.rebases}
    for group in result.groups.iter_rows(named=True):
        sentences.append(_group_sentence(group, measure, reasons, share))
    assurance = assurance_icon(result)
    if assurance is not None:
        sentences.append(
            f"Against the target of {format_value(measure.target, share=share)}, "
            f"{ASSURANCE_WORDS[assurance]}."
        )
    elif measure.target is not None:
        sentences.append(
            f"A target of {format_value(measure.target, share=share)} is recorded; with no "
            "direction of improvement set, the chart cannot say whether it will be met."
        )
    return sentences


def chart_measure(measure: Any, data: MeasureData, experiments: Iterable[Any] = ()) -> MeasureChart:
    """Compute a measure's chart as it is defined, with its marks and its reading.

    ``experiments`` are the workspace's experiments; those linked to the measure
    have their start marked. Annotations and rebase dates are marked too.
    """
    share = getattr(measure, "series_name", None) in SHARES
    markers = sorted(
        [
            *experiment_markers(experiments, data.measure_id),
            *(ChartMarker(a.on, a.text, "annotation") for a in measure.annotations),
            *(ChartMarker(r.on, f"Rebased: {r.reason}", "rebase") for r in measure.rebases),
        ],
        key=lambda m: m.on,
    )
    base = {"data": data, "markers": tuple(markers), "share": share, "notes": data.notes}
    if data.problem:
        return MeasureChart(result=None, problem=data.problem, **base)
    present = int(data.series["value"].is_not_null().sum()) if data.series.height else 0
    if present < MIN_POINTS:
        return MeasureChart(
            result=None, problem=f"a chart needs at least {MIN_POINTS} values", **base
        )
    try:
        result = _compute(measure, data)
    except MeasuresError as error:
        return MeasureChart(result=None, problem=str(error), **base)
    groups = list(result.groups.iter_rows(named=True))
    return MeasureChart(
        result=result,
        sentences=tuple(_reading(measure, data, result, share)),
        variation=variation_icon(result),
        assurance=assurance_icon(result),
        groups=groups,
        **{**base, "notes": (*data.notes, *result.warnings)},
    )


__all__ = [
    "ASSURANCE_WORDS",
    "DIRECTION_WORDS",
    "MIN_POINTS",
    "VARIATION_WORDS",
    "ChartMarker",
    "MeasureChart",
    "chart_measure",
    "experiment_markers",
    "format_value",
]
