"""Evidence for the workspace from the other capabilities, when they are there.

A measure's uploaded series is read as variation with ``systemic.measures``
(an XmR chart with the Making Data Count rules), so pages can show whether a
measure is stable or changing rather than whether it hit a number.

An experiment's evidence (:func:`analyse_experiment`) reads each of its measures'
:class:`~systemic.framework.measure_data.MeasureData` with the same analysis as
``systemic experiment`` (:func:`systemic.measures.experiment_evidence`): the
signal since the start against limits set by the points before it, and the
difference in differences against the other localities, put into words. The
comparison's scale follows the command line's rule (:attr:`MeasureData.scale
<systemic.framework.measure_data.MeasureData.scale>`): a learnt count of whole
periods as relative changes, anything else as a difference; the evidence records
it, and :func:`comparison_words` shows it. The
result, an :class:`~systemic.framework.model.EvidenceAnalysis`, is what the
experiment's page shows and what the store keeps (one version per run).

>>> from systemic.framework.snapshot import WorkspaceSnapshot
>>> snap = WorkspaceSnapshot.empty()
>>> m = snap.add("measure", {"name": "Days at home", "series": [
...     {"period": f"2026-01-0{d}", "value": v} for d, v in zip(range(1, 6), [1, 2, 3, 2, 1])]},
...     "m1")
>>> measure_spc(m).points.select("mean", "upl").row(0)
(1.8, 4.46)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

import polars as pl

from systemic.framework.measure_data import MeasureData
from systemic.framework.model import EvidenceAnalysis, MeasureEvidence
from systemic.measures import (
    ExperimentEvidence,
    MeasuresError,
    SPCResult,
    experiment_evidence,
    xmr_chart,
)
from systemic.measures.experiment import RULE_WORDS, Scale, change_words
from systemic.measures.spc import ChartKind

#: Fewest points for which an XmR chart is drawn (one moving range needs two).
MIN_POINTS = 2


def measure_series(measure: Any) -> pl.DataFrame:
    """A measure's uploaded series as a table of ``date`` and ``value``, in date order."""
    return pl.DataFrame(
        {
            "date": [p.period for p in measure.series],
            "value": [float(p.value) for p in measure.series],
        },
        schema={"date": pl.Date, "value": pl.Float64},
    ).sort("date")


def measure_spc(
    measure: Any, improvement: Literal["increase", "decrease", "neutral"] = "increase"
) -> SPCResult | None:
    """The XmR chart of a measure's series (with its target, if any), or None when too short."""
    if len(measure.series) < MIN_POINTS:
        return None
    return xmr_chart(measure_series(measure), improvement=improvement, target=measure.target)


#: How the series of a whole area (a measure with no locality) is named in sentences.
WHOLE_AREA = "the whole area"


class EvidenceError(ValueError):
    """An experiment cannot be analysed as it stands; the message says what to fill in."""


def _by_locality(data: MeasureData) -> dict[str, pl.DataFrame]:
    """Every series the data holds, by locality name ('' for a whole area's series)."""
    series = {name: frame for name, frame in data.others.items()}
    series[data.locality or ""] = data.series
    return series


def _not_analysed(data: MeasureData, name: str, why: str, **read: Any) -> MeasureEvidence:
    return MeasureEvidence(
        measure_id=data.measure_id,
        measure_name=name,
        source=data.source,
        source_version=data.source_version,
        improvement=data.improvement,
        conclusion="not_analysed",
        verdict=f"{name} could not be analysed: {why}",
        **read,
    )


def measure_evidence(
    data: MeasureData,
    *,
    name: str,
    start: date,
    locality: str | None,
    chart: ChartKind = "xmr",
    n_boot: int = 2000,
    seed: int = 0,
) -> MeasureEvidence:
    """What one measure says about an experiment that started on ``start`` in ``locality``.

    The experiment's locality's series is read when the data has one (the measure's
    own, or one of ``others``); the other localities' series are the comparison.
    When there is none (an experiment with no locality, or a measure of another
    place or of the whole area) the measure's own series is read without a
    comparison, and the verdict says so first. ``chart`` is the measure's chart
    type: a p or u chart reads the count and its denominator, as the measure's
    own chart does.

    >>> import polars as pl
    >>> from datetime import date, timedelta
    >>> weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(8)]
    >>> flat = pl.DataFrame({"date": weeks, "value": [4.0, 5, 4, 5, 4, 5, 4, 5]})
    >>> ev = measure_evidence(MeasureData("m", flat), name="Repeat calls",
    ...                       start=weeks[4], locality=None)
    >>> ev.signal, ev.conclusion, ev.n_before, ev.n_after
    ('none', 'no_change', 4, 4)
    """
    if data.problem:
        return _not_analysed(data, name, f"{data.problem}.", locality=data.locality or "")
    per = ["numerator", "denominator"] if chart in ("p", "u") else []
    if per and not set(per) <= set(data.series.columns):
        why = f"a {chart}-chart needs a count with its denominator, and this series has none."
        return _not_analysed(data, name, why, locality=data.locality or "")
    series = _by_locality(data)
    note = ""
    if locality is not None and locality in series:
        read_as = locality
        # A whole area's series includes the locality: it is no comparison for it.
        series.pop("", None)
    else:
        read_as = data.locality or ""
        place = data.locality or WHOLE_AREA
        if locality is None:
            note = f"The experiment names no locality, so {place}'s series was read. "
        else:
            note = (
                f"This measure has no series for {locality}, so {place}'s series was read: "
                f"a change in {locality} alone is diluted or missed there. "
            )
        series = {read_as: data.series}
    shown = read_as or WHOLE_AREA
    rows = [
        frame.select(
            pl.col("date").cast(pl.Date), *(pl.col(c).cast(pl.Float64) for c in ["value", *per])
        ).with_columns(pl.lit(where or WHOLE_AREA).alias("locality"))
        for where, frame in series.items()
        if frame.height
    ]
    compared = sorted(where for where, frame in series.items() if where != read_as and frame.height)
    read = {"locality": read_as, "compared_with": compared}
    if not series[read_as]["value"].drop_nulls().len():
        return _not_analysed(data, name, f"it has no values for {shown} yet.", **read)
    frame = pl.concat(rows)

    def compared_on(scale: Scale) -> ExperimentEvidence:
        return experiment_evidence(
            frame,
            locality=shown,
            start=start,
            value="numerator" if per else "value",
            denominator="denominator" if per else None,
            chart=chart,
            improvement=data.improvement,
            n_boot=n_boot,
            seed=seed,
            scale=scale,
        )

    try:
        found = compared_on(data.scale)
    except MeasuresError as error:
        if data.scale != "relative":
            return _not_analysed(data, name, f"{error}.", **read)
        # A count of zero before the start has no relative change. `systemic experiment`
        # stops there and is told `--scale difference`; the workspace has no such switch,
        # so it reads the difference in counts and says why first.
        try:
            found = compared_on("difference")
        except MeasuresError as second:
            return _not_analysed(data, name, f"{second}.", **read)
        why = str(error).removesuffix(": use the difference scale")
        note += f"This count is compared as a difference, not as relative changes: {why}. "
    baseline = found.baseline_chart.points.row(0, named=True)
    did = found.did
    return MeasureEvidence(
        measure_id=data.measure_id,
        measure_name=name,
        source=data.source,
        source_version=data.source_version,
        locality=read_as,
        compared_with=compared if did is not None else [],
        improvement=data.improvement,
        chart=chart,
        n_before=found.baseline_chart.options.fix_after_n_points or 0,
        n_after=found.baseline_chart.points.filter(
            pl.col("date").cast(pl.Datetime("us")) >= found.start
        ).height,
        baseline_mean=baseline["mean"],
        baseline_lower=baseline["lpl"],
        baseline_upper=baseline["upl"],
        signal=found.signal,
        signal_rules=[RULE_WORDS.get(rule, rule) for rule in found.signal_rules],
        scale="difference" if did is None else did.scale,
        change_in_locality=None if did is None else did.change_in_locality,
        change_in_others=None if did is None else did.change_in_others,
        did=None if did is None else did.estimate,
        did_lower=None if did is None else did.lower,
        did_upper=None if did is None else did.upper,
        conclusion=found.conclusion,
        verdict=note + found.verdict,
        notes=list(data.notes),
    )


def analyse_experiment(
    experiment: Any,
    data: Sequence[MeasureData],
    *,
    names: Mapping[str, str],
    locality: str | None,
    charts: Mapping[str, ChartKind] | None = None,
    analysed_by: str,
    analysed_at: datetime,
    n_boot: int = 2000,
    seed: int = 0,
) -> EvidenceAnalysis:
    """The evidence of every measure of an experiment, as the next stored version.

    ``data`` holds one :class:`MeasureData` per linked measure (in the order to
    show them), ``names`` each measure's name by id, ``locality`` the name of the
    experiment's locality, ``charts`` each measure's chart type by id (XmR when not
    given). The version is one more than the experiment's last.

    >>> import polars as pl
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from systemic.framework.snapshot import WorkspaceSnapshot
    >>> weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(8)]
    >>> snap = WorkspaceSnapshot.empty()
    >>> e = snap.add("experiment", {"title": "One call", "start_date": weeks[4]}, "e")
    >>> flat = MeasureData("m", pl.DataFrame({"date": weeks, "value": [4.0, 5] * 4}))
    >>> run = analyse_experiment(e, [flat], names={"m": "Repeat calls"}, locality=None,
    ...                          analysed_by="ana", analysed_at=datetime(2026, 3, 2, tzinfo=UTC))
    >>> run.version, [m.conclusion for m in run.measures]
    (1, ['no_change'])
    """
    if experiment.start_date is None:
        raise EvidenceError(
            f"experiment '{experiment.title}' has no start date: set it, then analyse "
            "(the points before the start set the limits)."
        )
    if not data:
        raise EvidenceError(
            f"experiment '{experiment.title}' has no measure: link one, then analyse."
        )
    return EvidenceAnalysis(
        version=len(experiment.analyses) + 1,
        analysed_at=analysed_at,
        analysed_by=analysed_by,
        start_date=experiment.start_date,
        locality=locality or "",
        measures=[
            measure_evidence(
                d,
                name=names.get(d.measure_id, d.measure_id),
                start=experiment.start_date,
                locality=locality,
                chart=(charts or {}).get(d.measure_id, "xmr"),
                n_boot=n_boot,
                seed=seed,
            )
            for d in data
        ],
    )


def conclusion_words(conclusion: str) -> str:
    """A stored conclusion in words, as forms and pages label it (``no_change`` -> "No change")."""
    extra = MeasureEvidence.model_fields["conclusion"].json_schema_extra
    labels = extra.get("choice_labels", {}) if isinstance(extra, dict) else {}
    return str(labels.get(conclusion, conclusion.replace("_", " ")))


def _changed(found: MeasureEvidence, x: float, *, unit: bool = True) -> str:
    return change_words(x, scale=found.scale, share=found.chart == "p", unit=unit)


def comparison_words(found: MeasureEvidence) -> str:
    """Stored evidence's difference in differences with its interval, on the scale it was read.

    Relative changes read in per cent, differences in the measure's units
    (percentage points for a share); ``""`` when there was no comparison. Pages,
    the report and summaries show this, from the stored figures.

    >>> found = MeasureEvidence(measure_id="m", measure_name="Contacts", source="town",
    ...     conclusion="improvement", verdict="", scale="relative", compared_with=["South"],
    ...     did=-0.2236, did_lower=-0.271, did_upper=-0.158)
    >>> comparison_words(found)
    '-22% [-27%, -16%] relative to the other localities (South)'
    >>> print(comparison_words(found.model_copy(update={"scale": "difference", "did": -19.0,
    ...     "did_lower": -21.2, "did_upper": -16.9})))
    -19 [-21.2, -16.9] against the other localities (South), in the measure's units
    """
    if found.did is None or found.did_lower is None or found.did_upper is None:
        return ""
    share = found.chart == "p"
    estimate, lower, upper = (
        _changed(found, x, unit=False) for x in (found.did, found.did_lower, found.did_upper)
    )
    interval = f"{estimate} [{lower}, {upper}]" + (" percentage points" if share else "")
    others = f"the other localities ({', '.join(found.compared_with)})"
    if found.scale == "relative":
        return f"{interval} relative to {others}"
    units = "" if share else ", in the measure's units"
    return f"{interval} against {others}{units}"


def change_since_start(found: MeasureEvidence) -> str:
    """Stored evidence's change since the start, here and in the other localities, in words.

    >>> found = MeasureEvidence(measure_id="m", measure_name="Contacts", source="town",
    ...     conclusion="improvement", verdict="", scale="relative", locality="North",
    ...     change_in_locality=-0.2, change_in_others=-0.1)
    >>> change_since_start(found)
    '-20% in North, -10% in the other localities'
    """
    if found.change_in_locality is None or found.change_in_others is None:
        return ""
    return (
        f"{_changed(found, found.change_in_locality)} in {found.locality or WHOLE_AREA}, "
        f"{_changed(found, found.change_in_others)} in the other localities"
    )


def evidence_summary(analysis: EvidenceAnalysis | None) -> str:
    """One line for the latest stored evidence of an experiment (pages and the report).

    Each measure's conclusion, with its difference in differences when there was a
    comparison (:func:`comparison_words`).

    >>> from datetime import UTC, date, datetime
    >>> a = EvidenceAnalysis(version=2, analysed_at=datetime(2026, 5, 1, tzinfo=UTC),
    ...     start_date=date(2026, 3, 2), measures=[MeasureEvidence(measure_id="m",
    ...     measure_name="Repeat calls", source="upload", conclusion="no_change", verdict="")])
    >>> evidence_summary(a)
    'version 2 of 2026-05-01: Repeat calls: no change'
    >>> evidence_summary(None)
    'not analysed'
    """
    if analysis is None:
        return "not analysed"
    read = "; ".join(
        f"{m.measure_name}: {conclusion_words(m.conclusion).lower()}"
        + (f", {comparison_words(m)}" if m.did is not None else "")
        for m in analysis.measures
    )
    return f"version {analysis.version} of {analysis.analysed_at.date().isoformat()}: {read}"
