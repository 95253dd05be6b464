"""Report sections for step 1's experiment and step 2's ten-year comparison."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from systemic.measures import ExperimentEvidence
from systemic.measures.chart import chart_spec
from systemic.report.charts import to_svg
from systemic.report.document import Figure, KeyFigure, Section, Table
from systemic.simulate.charts import METRIC_TITLES, band_chart
from systemic.simulate.ensemble import QUANTILES
from systemic.simulate.result import KEY_METRICS, MEAN_COLUMNS

#: Metrics shown in the comparison's table, in order.
COMPARED = ("failure_demand", "crises", "cost", "contacts", "residential_care", "wellbeing_mean")


CONCLUSIONS = {
    "improvement": "the failure-demand share fell, beyond what happened in the other localities",
    "concern": "the failure-demand share rose, beyond what happened in the other localities",
    "shared_change": "the failure-demand share changed, but the other localities moved the same "
    "way, so the change cannot be credited to the experiment",
    "no_change": "no change in the failure-demand share that chance would not explain",
    "inconclusive": "the chart and the comparison with other localities disagree: inconclusive",
}


def experiment_headline(evidence: ExperimentEvidence) -> str:
    """One sentence for the top of a report: what the experiment's evidence says."""
    words = CONCLUSIONS.get(evidence.conclusion, evidence.conclusion.replace("_", " "))
    did = evidence.did
    interval = (
        f" (difference in differences {100 * did.estimate:+.1f} percentage points, "
        f"{did.confidence:.0%} interval {100 * did.lower:+.1f} to {100 * did.upper:+.1f})"
        if did is not None
        else ""
    )
    return f"The experiment in {evidence.locality}: {words}{interval}."


def experiment_section(evidence: ExperimentEvidence) -> Section:
    """Step 1: did the experiment's locality change, and did the others not?"""
    did = evidence.did
    section = Section(
        id="experiment",
        title=f"Step 1: the experiment in {evidence.locality}",
        intro=(
            f"The chart is rebased at the start of the experiment ({evidence.start.date()}): "
            "limits before and after are computed separately, so a shift shows as a new "
            "mean with its own limits. The comparison with the other localities over the "
            "same weeks guards against mistaking a change everywhere for the experiment's effect."
        ),
        paragraphs=[evidence.verdict],
    )
    if did is not None:
        section.key_figures += [
            KeyFigure(
                "change in " + evidence.locality,
                f"{100 * did.change_in_locality:+.1f} pts",
                "failure-demand share, after vs before",
            ),
            KeyFigure(
                "change elsewhere",
                f"{100 * did.change_in_others:+.1f} pts",
                f"{did.n_other_localities} other localities",
            ),
            KeyFigure(
                "difference in differences",
                f"{100 * did.estimate:+.1f} pts",
                f"percentage points; {did.confidence:.0%} interval "
                f"{100 * did.lower:+.1f} to {100 * did.upper:+.1f}",
            ),
        ]
    section.figures.append(
        Figure(
            f"Failure-demand share in {evidence.locality}, rebased at the experiment",
            f"Signal after the change: {evidence.signal}"
            + (f" ({', '.join(evidence.signal_rules)})" if evidence.signal_rules else "")
            + ".",
            to_svg(
                chart_spec(
                    evidence.rebased_chart,
                    title=f"Failure-demand share of contacts, {evidence.locality}",
                    y_title="share of contacts",
                )
            ),
        )
    )
    return section


def post_switch_summary(comparison: Any, switch: dt.date) -> pl.DataFrame:
    """Totals from ``switch`` on (means for wellbeing) per run, as median and bands.

    Columns: metric, series (a, b, difference), p2_5, p10, median, p90, p97_5, runs.
    """
    runs = comparison.runs.filter(pl.col("date").cast(pl.Date) >= switch)
    metrics = [m for m in KEY_METRICS if m in runs.columns]
    agg = [pl.col(m).mean() if m in MEAN_COLUMNS else pl.col(m).sum() for m in metrics]
    per_run = runs.group_by("design", "run").agg(agg).sort("run")
    a = per_run.filter(pl.col("design") == "a").sort("run")
    b = per_run.filter(pl.col("design") == "b").sort("run")
    frames = {
        "a": a,
        "b": b,
        "difference": b.select(
            "run", *[(b[m].cast(pl.Float64) - a[m].cast(pl.Float64)).alias(m) for m in metrics]
        ),
    }
    rows = []
    for series, frame in frames.items():
        for m in metrics:
            col = frame[m].cast(pl.Float64)
            row: dict[str, Any] = {"metric": m, "series": series}
            row.update(
                {name: col.quantile(q, interpolation="linear") for name, q in QUANTILES.items()}
            )
            row["runs"] = col.len()
            rows.append(row)
    return pl.DataFrame(rows)


def comparison_section(
    comparison: Any, summary: pl.DataFrame, switch: dt.date, calibration: Any | None = None
) -> Section:
    """Step 2: the silo and local designs from ``switch`` on, with uncertainty bands.

    ``summary`` is :func:`post_switch_summary` of the comparison.
    """
    years = round((comparison.a.date_of(comparison.a.steps).date() - switch).days / 365.25)
    section = Section(
        id="redesign",
        title=f"Step 2: what a local design would do over {years:g} years",
        intro=(
            f"From {switch}, the same town simulated under the silo design and under the local, "
            "preventive design, on common random numbers (the same people meet the same life "
            "events). "
            f"{comparison.runs['run'].n_unique()} runs sample the uncertain parameters; bands "
            "show 80% and 95% of runs. The model's mechanisms and every default are set out "
            "in docs/model.md."
        ),
    )
    s = summary
    rows = []
    for metric in COMPARED:
        get = {
            series: s.filter((pl.col("metric") == metric) & (pl.col("series") == series))
            for series in ("a", "b", "difference")
        }
        if any(v.height == 0 for v in get.values()):
            continue
        d = get["difference"]
        rows.append(
            {
                "measure": METRIC_TITLES.get(metric, metric),
                "silo (median)": _n(get["a"]["median"][0]),
                "local (median)": _n(get["b"]["median"][0]),
                "local − silo": _n(d["median"][0]),
                "95% band of the difference": f"{_n(d['p2_5'][0])} to {_n(d['p97_5'][0])}",
            }
        )
    section.tables.append(
        Table(
            f"Totals over {years:g} years (wellbeing: mean)",
            pl.DataFrame(rows),
            "A band that excludes zero means the designs differ in nearly every run.",
        )
    )
    bands = comparison.bands.filter(
        pl.col("series").is_in(["a", "b"]) & (pl.col("date").cast(pl.Date) >= switch)
    ).with_columns(pl.col("series").replace_strict({"a": "silo", "b": "local"}).alias("design"))
    section.figures.append(
        Figure(
            "Silo and local designs over time",
            _reading(s, "failure_demand", "failure demand") + " " + _reading(s, "crises", "crises"),
            to_svg(
                band_chart(
                    bands,
                    series_column="design",
                    title="Silo (NPM) and local designs: median, 80% and 95% bands",
                )
            ),
        )
    )
    if calibration is not None:
        fit = calibration.fit
        section.paragraphs.append(
            "Calibrated to the town's own records before comparing: "
            + "; ".join(
                f"{r['aggregate']} observed {r['target']:.3g}, simulated {r['simulated']:.3g}"
                for r in fit.iter_rows(named=True)
            )
            + "."
        )
        if calibration.not_identified:
            section.paragraphs.append(
                "The records cannot pin down: "
                + ", ".join(calibration.not_identified)
                + " — treat results that depend on them with care."
            )
    return section


def _n(x: float) -> str:
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.1f}m"
    if abs(x) >= 1e3:
        return f"{x:,.0f}"
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.0f}"


def _reading(summary: pl.DataFrame, metric: str, words: str) -> str:
    a = summary.filter((pl.col("metric") == metric) & (pl.col("series") == "a"))
    d = summary.filter((pl.col("metric") == metric) & (pl.col("series") == "difference"))
    if a.height == 0 or d.height == 0 or not a["median"][0]:
        return ""
    change = d["median"][0] / a["median"][0]
    return f"The local design changes {words} by {change:+.0%} (median of runs)."
