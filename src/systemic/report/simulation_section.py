"""Report sections for step 1's experiment and step 2's ten-year comparison."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from systemic.measures import ExperimentEvidence, read_chart
from systemic.measures.chart import chart_spec
from systemic.measures.experiment import RULE_WORDS, change_words
from systemic.report.build import Charted, spc_caption
from systemic.report.charts import to_svg
from systemic.report.document import Figure, KeyFigure, Section, Table
from systemic.simulate.charts import band_chart
from systemic.simulate.ensemble import QUANTILES
from systemic.simulate.result import KEY_METRICS, MEAN_COLUMNS

#: What each conclusion says, with ``{measure}`` the measure's name in words.
CONCLUSIONS = {
    "improvement": "{measure} fell, beyond what happened in the other localities",
    "concern": "{measure} rose, beyond what happened in the other localities",
    "shared_change": "{measure} changed, but not clearly more than in the other localities, "
    "so the change cannot be credited to the experiment",
    "no_change": "no change in {measure} that chance would not explain",
    "inconclusive": "the chart of {measure} and the comparison with other localities disagree: "
    "inconclusive",
}
SHARE = "the failure-demand share"
VOLUME = "failure-demand contacts a week"


def _experiment_reading(evidence: ExperimentEvidence, measure: str) -> str:
    words = CONCLUSIONS.get(evidence.conclusion, evidence.conclusion.replace("_", " "))
    did = evidence.did
    if did is None:
        return words.format(measure=measure)
    if did.scale == "relative":
        interval = (
            f" ({_percent(did.change_in_locality)} against {_percent(did.change_in_others)} "
            f"elsewhere; relative difference {_percent(did.estimate)}, {did.confidence:.0%} "
            f"interval {_percent(did.lower)} to {_percent(did.upper)})"
        )
    else:
        interval = (
            f" (difference in differences {_points(did.estimate)}, {did.confidence:.0%} "
            f"interval {_points(did.lower, '')} to {_points(did.upper, '')})"
        )
    return words.format(measure=measure) + interval


def experiment_headline(
    evidence: ExperimentEvidence, volume: ExperimentEvidence | None = None
) -> str:
    """One sentence for the top of a report: what the experiment's evidence says.

    ``evidence`` reads the failure-demand share; ``volume``, when given, the
    failure-demand contacts a week (compared as relative changes).
    """
    said = _experiment_reading(evidence, SHARE)
    if volume is not None:
        said += "; " + _experiment_reading(volume, VOLUME)
    return f"The experiment in {evidence.locality}: {said}."


def _points(x: float, unit: str = " percentage points") -> str:
    value = round(100 * x, 1) + 0.0  # no "-0.0"
    return (f"{value:+.1f}" if value else "0.0") + unit


def _percent(x: float) -> str:
    return change_words(x, scale="relative")


def experiment_section(
    evidence: ExperimentEvidence, volume: ExperimentEvidence | None = None, volume_problem: str = ""
) -> Section:
    """Step 1: did the experiment's locality change, and did the others not?

    ``evidence`` reads the failure-demand share; ``volume``, when given, the
    failure-demand contacts a week, compared as relative changes (the places
    differ in size). A share can stand still while the volume falls, when a
    team prevents value and failure demand alike, so both are read.
    ``volume_problem`` says why the volume could not be read, when it could not.
    """
    did = evidence.did
    section = Section(
        id="experiment",
        title=f"Step 1: the experiment in {evidence.locality}",
        intro=(
            f"The charts are rebased at the start of the experiment ({evidence.start.date()}): "
            "limits before and after are computed separately, so a shift shows as a new "
            "mean with its own limits. The comparison with the other localities over the "
            "same weeks guards against mistaking a change everywhere for the experiment's effect."
            + (
                " Two measures are read: the share of contacts that are failure demand, and "
                "how many failure-demand contacts there are a week. A team that prevents need "
                "cuts value and failure demand alike, which leaves the share where it was "
                "while the volume falls; the volume is compared as relative changes, since "
                "the localities differ in size."
                if volume is not None
                else ""
            )
        ),
        paragraphs=[evidence.verdict, *([volume.verdict] if volume is not None else [])],
    )
    if volume is None and volume_problem:
        section.paragraphs.append(
            f"Failure-demand contacts a week could not be compared with the other localities "
            f"({volume_problem}); only the share is read."
        )
    if did is not None:
        section.key_figures += [
            KeyFigure(
                "change in " + evidence.locality,
                _points(did.change_in_locality, " pts"),
                "percentage points of the failure-demand share, after vs before",
            ),
            KeyFigure(
                "change elsewhere",
                _points(did.change_in_others, " pts"),
                f"percentage points; {did.n_other_localities} other localities",
            ),
            KeyFigure(
                "difference in differences",
                _points(did.estimate, " pts"),
                f"percentage points; {did.confidence:.0%} interval "
                f"{_points(did.lower, '')} to {_points(did.upper, '')}",
            ),
        ]
    moved = volume.did if volume is not None else None
    if moved is not None:
        section.key_figures += [
            KeyFigure(
                "failure-demand contacts a week, " + evidence.locality,
                _percent(moved.change_in_locality),
                "after vs before",
            ),
            KeyFigure(
                "failure-demand contacts a week, elsewhere",
                _percent(moved.change_in_others),
                f"after vs before; {moved.n_other_localities} other localities",
            ),
            KeyFigure(
                "relative difference",
                _percent(moved.estimate),
                f"{evidence.locality}'s change relative to the others'; {moved.confidence:.0%} "
                f"interval {_percent(moved.lower)} to {_percent(moved.upper)}",
            ),
        ]
    section.figures.append(
        _rebased_figure(
            evidence,
            f"Failure-demand share in {evidence.locality}, rebased at the experiment",
            f"Rebased, the share in {evidence.locality}",
            f"Failure-demand share of contacts, {evidence.locality}",
            "share of contacts",
            "share",
        )
    )
    if volume is not None:
        section.figures.append(
            _rebased_figure(
                volume,
                f"Failure-demand contacts a week in {volume.locality}, rebased at the experiment",
                f"Rebased, failure-demand contacts a week in {volume.locality}",
                f"Failure-demand contacts a week, {volume.locality}",
                "contacts a week",
                "contacts",
            )
        )
    return section


def _rebased_figure(
    evidence: ExperimentEvidence, title: str, what: str, chart_title: str, y_title: str, unit: str
) -> Figure:
    """The experiment's rebased chart, its caption read from the same result."""
    chart = evidence.rebased_chart
    charted = Charted(chart, (), read_chart(chart))
    against = {
        "improvement": "special-cause improvement",
        "concern": "special-cause concern",
        "mixed": "special causes in both directions",
        "none": "no special cause",
    }.get(evidence.signal, evidence.signal)
    rules = ", ".join(RULE_WORDS[r] for r in evidence.signal_rules)
    return Figure(
        title,
        f"Against the limits set before the start, the weeks since show {against}"
        + (f" ({rules}). " if rules else ". ")
        + spc_caption(what, charted, unit),
        to_svg(chart_spec(chart, title=chart_title, y_title=y_title)),
        charted,
    )


#: Stocks (how many on an average week), averaged rather than summed over steps.
STOCKS = ("residential_care", "waiting", "below_need")

#: The comparison's rows in words, and how each is scaled.
ROWS: dict[str, tuple[str, str]] = {
    "failure_demand": ("Failure-demand contacts", "flow"),
    "crises": ("Crisis episodes (A&E)", "flow"),
    "cost": ("Cost (£)", "flow"),
    "contacts": ("Contacts (all demand)", "flow"),
    "residential_care": ("People in residential care, on an average week", "stock"),
    "wellbeing_mean": ("Mean wellbeing (0 to 1)", "mean"),
}


def post_switch_summary(comparison: Any, switch: dt.date) -> pl.DataFrame:
    """Totals from ``switch`` on per run, as median and bands (stocks and wellbeing: means).

    Columns: metric, series (a, b, difference), p2_5, p10, median, p90, p97_5, runs.
    The difference is taken run by run (common random numbers pair the runs).
    """
    runs = comparison.runs.filter(pl.col("date").cast(pl.Date) >= switch)
    return _per_run_quantiles(runs)


def _per_run_quantiles(runs: pl.DataFrame) -> pl.DataFrame:
    metrics = [m for m in KEY_METRICS if m in runs.columns]
    agg = [
        pl.col(m).mean() if m in MEAN_COLUMNS or m in STOCKS else pl.col(m).sum() for m in metrics
    ]
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


#: The model's cost heads that recorded events carry, one cost per event row (the
#: demo's records are the model's event log): contacts and progress chases, assessments
#: (eligible or not), A&E attendances and emergency admissions.
EVENT_COST_HEADS: dict[str, str] = {
    "cost_contact": "contacts and progress chases",
    "cost_assessment": "assessments",
    "cost_crisis": "A&E attendances and emergency admissions",
}

#: The model's cost heads no event row carries: they are costs of time (a week in a
#: service, a week in residential care, a year of prevention), so records of events
#: hold none of them.
TIME_COST_HEADS: dict[str, str] = {
    "cost_intervention": "weeks in a service",
    "cost_residential": "weeks in residential care",
    "cost_prevention": "prevention",
}


def recorded_cost_heads(events: pl.DataFrame) -> dict[str, float]:
    """The records' own event costs by the model's heads (:data:`EVENT_COST_HEADS`).

    An event at A&E or hospital is a crisis; otherwise its ``kind`` decides
    (``contact``, ``assessment``). A cost on any other event is kept under
    ``"other"`` so the heads always add up to the records' total.

    >>> events = pl.DataFrame({"service": ["Housing", "Housing", "A&E", "Housing"],
    ...     "kind": ["contact", "assessment", "contact", "closure"],
    ...     "cost": [10.0, 200.0, 150.0, None]})
    >>> recorded_cost_heads(events)
    {'cost_contact': 10.0, 'cost_assessment': 200.0, 'cost_crisis': 150.0, 'other': 0.0}
    """
    head = (
        pl.when(pl.col("service").is_in(["A&E", "hospital"]))
        .then(pl.lit("cost_crisis"))
        .when(pl.col("kind") == "contact")
        .then(pl.lit("cost_contact"))
        .when(pl.col("kind") == "assessment")
        .then(pl.lit("cost_assessment"))
        .otherwise(pl.lit("other"))
    )
    sums = dict(
        events.group_by(head.alias("head")).agg(pl.col("cost").fill_null(0.0).sum()).iter_rows()
    )
    return {h: float(sums.get(h, 0.0)) for h in (*EVENT_COST_HEADS, "other")}


@dataclass(frozen=True)
class RecordedRates:
    """What the town's records say, for setting the model beside them.

    ``cost`` is the records' total (every event's own cost); ``cost_heads``
    the same total by :data:`EVENT_COST_HEADS` (:func:`recorded_cost_heads`).
    """

    residents: int
    years: float
    contacts: int
    failure_demand_share: float | None
    cost: float | None
    cost_heads: dict[str, float] | None = None


@dataclass(frozen=True)
class Reconciliation:
    """One row of the model-against-records table: the same figure, recorded and simulated."""

    measure: str
    recorded: str
    simulated: str
    calibrated: bool


@dataclass(frozen=True)
class CostGap:
    """Cost per resident-year, the model's (mean of runs) against the records', by head.

    ``recorded`` and ``simulated`` are keyed by head (:data:`EVENT_COST_HEADS`,
    :data:`TIME_COST_HEADS`, and ``"other"`` for recorded costs on other events).
    Means of runs add up, so the heads' differences add up to the whole gap.
    """

    recorded: dict[str, float]
    simulated: dict[str, float]

    @property
    def recorded_total(self) -> float:
        return sum(self.recorded.values())

    @property
    def simulated_total(self) -> float:
        return sum(self.simulated.values())

    @property
    def gap(self) -> float:
        """The model's total less the records' total."""
        return self.simulated_total - self.recorded_total

    @property
    def time_costs(self) -> float:
        """What the model costs that no record holds (:data:`TIME_COST_HEADS`)."""
        return sum(self.simulated.get(h, 0.0) for h in TIME_COST_HEADS)

    @property
    def event_gap(self) -> float:
        """The model's costs of recorded kinds of event less the records' (the rest of the gap)."""
        return self.gap - self.time_costs

    def sentence(self) -> str:
        """The gap in words, from this object's figures alone."""
        time_parts = _and(
            [
                f"{TIME_COST_HEADS[h]} ({_money(self.simulated.get(h, 0.0))})"
                for h in TIME_COST_HEADS
            ]
        )
        by_head = [
            f"{EVENT_COST_HEADS[h]} "
            + _money(self.simulated.get(h, 0.0) - self.recorded.get(h, 0.0), sign=True)
            for h in EVENT_COST_HEADS
        ]
        if self.recorded.get("other"):
            by_head.append(f"other recorded events {_money(-self.recorded['other'], sign=True)}")
        # The rest is the gap less the costs of time, as both are shown (in pence), so
        # the sentence's own figures add up.
        rest = round(self.gap, 2) - round(self.time_costs, 2)
        return (
            f"In all the model costs {_money(self.simulated_total)} per resident-year and the "
            f"records {_money(self.recorded_total)}, a difference of "
            f"{_money(self.gap, sign=True)}. Of that, {_money(self.time_costs, sign=True)} is "
            f"cost the records cannot hold: they cost events, while {time_parts} are costs "
            f"of time, with no event to carry them. The other {_money(rest, sign=True)} is the "
            f"model costing contacts, assessments and crises {'more' if rest >= 0 else 'less'} "
            f"than the records do ({', '.join(by_head)})."
        )


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _money(x: float, sign: bool = False) -> str:
    value = round(x, 2) + 0.0  # no "-0.00"
    lead = "-" if value < 0 else ("+" if sign and value > 0 else "")
    return f"{lead}£{abs(value):,.2f}"


def _silo_over_records(comparison: Any, switch: dt.date, years: float) -> pl.DataFrame:
    """The silo design's runs summed over the recorded period: one row per run."""
    end = switch + dt.timedelta(days=round(years * 365.25))
    heads = [h for h in (*EVENT_COST_HEADS, *TIME_COST_HEADS) if h in comparison.runs.columns]
    return (
        comparison.runs.filter(
            (pl.col("design") == "a")
            & (pl.col("date").cast(pl.Date) >= switch)
            & (pl.col("date").cast(pl.Date) < end)
        )
        .group_by("run")
        .agg(pl.col("contacts", "failure_demand", "cost", *heads).cast(pl.Float64).sum())
        .sort("run")
    )


def cost_gap(
    comparison: Any, switch: dt.date, recorded: RecordedRates, residents: int
) -> CostGap | None:
    """The model's cost per resident-year against the records', head by head.

    None when the records give no cost by head. The model's side is the silo
    design over the recorded years from ``switch``, the mean of runs.
    """
    if recorded.cost_heads is None:
        return None
    silo = _silo_over_records(comparison, switch, recorded.years)
    per_model = 1.0 / (residents * recorded.years)
    per_town = 1.0 / (recorded.residents * recorded.years)
    simulated = {
        h: float(silo[h].mean() or 0.0) * per_model  # type: ignore[arg-type]
        for h in (*EVENT_COST_HEADS, *TIME_COST_HEADS)
        if h in silo.columns
    }
    return CostGap({h: v * per_town for h, v in recorded.cost_heads.items()}, simulated)


def reconcile(
    comparison: Any,
    switch: dt.date,
    recorded: RecordedRates,
    residents: int,
    calibrated: tuple[str, ...],
) -> list[Reconciliation]:
    """The silo design over the recorded years, per resident-year, beside the records.

    The comparison's first ``recorded.years`` from ``switch`` are the recorded
    period under the design the town had; means of runs (so that a cost's
    heads add up to it). Cost is compared on the same basis as the records
    hold it: the costs of the kinds of event the records cost
    (:data:`EVENT_COST_HEADS`); what the model costs beyond them is
    :func:`cost_gap`'s.
    """
    silo = _silo_over_records(comparison, switch, recorded.years)
    resident_years = residents * recorded.years
    town_years = recorded.residents * recorded.years
    contacts = float(silo["contacts"].mean() or 0.0) / resident_years  # type: ignore[arg-type]
    share = float((silo["failure_demand"] / silo["contacts"]).mean() or 0.0)  # type: ignore[arg-type]
    heads = [h for h in EVENT_COST_HEADS if h in silo.columns]
    event_cost = float(silo.select(pl.sum_horizontal(heads)).to_series().mean() or 0.0)  # type: ignore[arg-type]
    rows = [
        Reconciliation(
            "Contacts per resident-year",
            f"{recorded.contacts / town_years:.2f}",
            f"{contacts:.2f}",
            "contacts_per_1000" in calibrated,
        ),
        Reconciliation(
            "Failure-demand share of contacts",
            "n/a"
            if recorded.failure_demand_share is None
            else f"{100 * recorded.failure_demand_share:.1f}%",
            f"{100 * share:.1f}%",
            "failure_demand_share" in calibrated,
        ),
        Reconciliation(
            "Cost of the events recorded, per resident-year (£)",
            "n/a" if recorded.cost is None else _money(recorded.cost / town_years),
            _money(event_cost / resident_years),
            False,
        ),
    ]
    return rows


def cost_gap_table(gap: CostGap, years: float) -> Table:
    """The cost gap head by head: recorded, simulated and the difference, with the totals."""
    heads = {**EVENT_COST_HEADS, **TIME_COST_HEADS}
    if gap.recorded.get("other"):
        heads["other"] = "other recorded events"
    rows = []
    for head, words in heads.items():
        recorded = gap.recorded.get(head)
        simulated = gap.simulated.get(head, 0.0)
        in_records = head not in TIME_COST_HEADS
        rows.append(
            {
                "cost of": words[:1].upper() + words[1:],
                "recorded": _money(recorded or 0.0) if in_records else "no events to hold it",
                "simulated (mean of runs)": _money(simulated),
                "simulated − recorded": _money(simulated - (recorded or 0.0), sign=True),
            }
        )
    rows.append(
        {
            "cost of": "All",
            "recorded": _money(gap.recorded_total),
            "simulated (mean of runs)": _money(gap.simulated_total),
            "simulated − recorded": _money(gap.gap, sign=True),
        }
    )
    return Table(
        f"Cost per resident-year, the model beside the town's records, head by head (the "
        f"silo design over the {years:g} recorded years)",
        pl.DataFrame(rows),
        "The records hold a cost on each event; the model also costs time (a week in a "
        "service or in residential care, a year of prevention), which no event carries. "
        "Pence are rounded, so a column may differ from its total by a penny.",
        formatted=True,
    )


def _row_format(values: list[float], money: bool) -> Any:
    """One format for every cell of a row, chosen by the row's largest magnitude."""
    top = max((abs(v) for v in values), default=0.0)
    digits = 0 if top >= 100 else 1 if top >= 10 else 2 if top >= 1 else 3
    prefix = "£" if money else ""

    def fmt(x: float, sign: bool = False) -> str:
        text = f"{abs(x):,.{digits}f}"
        lead = "-" if x < 0 else ("+" if sign and x > 0 else "")
        return f"{lead}{prefix}{text}"

    return fmt


def comparison_section(
    comparison: Any,
    summary: pl.DataFrame,
    switch: dt.date,
    calibration: Any | None = None,
    *,
    residents: int,
    recorded: RecordedRates | None = None,
) -> Section:
    """Step 2: the silo and local designs from ``switch`` on, with uncertainty bands.

    ``summary`` is :func:`post_switch_summary` of the comparison; ``residents``
    the simulated population. Figures are per 1,000 residents per year, so
    they read the same at any scale; with ``recorded`` (the town's records)
    the silo design over the recorded years is set beside them.
    """
    years = (comparison.a.date_of(comparison.a.steps).date() - switch).days / 365.25
    scale = (
        ""
        if recorded is None or recorded.residents == residents
        else f" (the records are of {recorded.residents:,})"
    )
    section = Section(
        id="redesign",
        title=f"Step 2: what a local design would do over {years:.0f} years",
        intro=(
            f"From {switch}, the town simulated with {residents:,} residents{scale} under the "
            "silo design and under the local, preventive design, on common random numbers "
            "(the same people meet the same life events in both). "
            f"{comparison.runs['run'].n_unique()} runs sample the uncertain parameters; bands "
            "show 80% and 95% of runs. Figures are per 1,000 residents per year, so they "
            "compare with the records at any scale. The model's mechanisms and every default "
            "are set out in docs/model.md."
        ),
    )
    if recorded is not None:
        rows = reconcile(
            comparison,
            switch,
            recorded,
            residents,
            tuple(calibration.fit["aggregate"].to_list()) if calibration is not None else (),
        )
        section.tables.append(
            Table(
                f"The model beside the town's records, per resident-year (the silo design "
                f"over the {recorded.years:g} recorded years)",
                pl.DataFrame(
                    [
                        {
                            "measure": r.measure,
                            "recorded": r.recorded,
                            "simulated (mean of runs)": r.simulated,
                            "calibrated to it": "yes" if r.calibrated else "no",
                        }
                        for r in rows
                    ]
                ),
                formatted=True,
            )
        )
        fitted = [r for r in rows if r.calibrated]
        other = [r for r in rows if not r.calibrated]
        sentence = (
            "Calibrated to the town's records on "
            + " and ".join(
                f"{r.measure.lower()} (recorded {r.recorded}, simulated {r.simulated})"
                for r in fitted
            )
            if fitted
            else "Not calibrated to the town's records"
        )
        if other:
            sentence += "; not calibrated on " + " and ".join(
                f"{r.measure.removesuffix(' (£)').lower()} (recorded {r.recorded}, "
                f"simulated {r.simulated})"
                for r in other
            )
        section.paragraphs.append(sentence + ".")
        gap = cost_gap(comparison, switch, recorded, residents)
        if gap is not None:
            section.tables.append(cost_gap_table(gap, recorded.years))
            section.paragraphs.append(gap.sentence())
    per = residents / 1000
    rows_out = []
    for metric, (label, kind) in ROWS.items():
        get = {
            series: summary.filter((pl.col("metric") == metric) & (pl.col("series") == series))
            for series in ("a", "b", "difference")
        }
        if any(v.height == 0 for v in get.values()):
            continue
        divide = {"flow": per * years, "stock": per, "mean": 1.0}[kind]
        cells = {
            "a": get["a"]["median"][0] / divide,
            "b": get["b"]["median"][0] / divide,
            "d": get["difference"]["median"][0] / divide,
            "lo": get["difference"]["p2_5"][0] / divide,
            "hi": get["difference"]["p97_5"][0] / divide,
        }
        fmt = _row_format(list(cells.values()), money=metric == "cost")
        rows_out.append(
            {
                "per 1,000 residents per year": label,
                "silo (median)": fmt(cells["a"]),
                "local (median)": fmt(cells["b"]),
                "local − silo (median of runs)": fmt(cells["d"], sign=True),
                "95% of runs": f"{fmt(cells['lo'], sign=True)} to {fmt(cells['hi'], sign=True)}",
            }
        )
    section.tables.append(
        Table(
            f"The two designs over {years:.0f} years, per 1,000 residents per year",
            pl.DataFrame(rows_out),
            "Each run simulates the same people and life events under both designs, so the "
            "difference is taken run by run: the difference column is the median of the runs' "
            "differences (not the difference of the two medians), and the last column the "
            "range that holds 95% of them. A range that excludes zero means the designs differ "
            "in nearly every run. People in residential care are counted on an average week; "
            "wellbeing is a mean over residents, not scaled.",
            formatted=True,
        )
    )
    bands = comparison.bands.filter(
        pl.col("series").is_in(["a", "b"]) & (pl.col("date").cast(pl.Date) >= switch)
    ).with_columns(pl.col("series").replace_strict({"a": "silo", "b": "local"}).alias("design"))
    section.figures.append(
        Figure(
            "Silo and local designs over time",
            _reading(summary, "failure_demand", "failure demand")
            + " "
            + _reading(summary, "crises", "crises")
            + f" (The chart shows the simulated town of {residents:,} residents, per week.)",
            to_svg(
                band_chart(
                    bands,
                    series_column="design",
                    title="Silo (NPM) and local designs: median, 80% and 95% bands",
                )
            ),
        )
    )
    if calibration is not None and calibration.not_identified:
        section.paragraphs.append(
            "The records cannot pin down: "
            + ", ".join(_parameter_words(p) for p in calibration.not_identified)
            + ". Treat results that depend on them with care."
        )
    return section


#: Calibrated parameters in words.
PARAMETER_WORDS = {
    "population.seek_per_week": "how often residents seek help",
    "population.re_present_per_week": "how often unmet needs come back",
}


def _parameter_words(name: str) -> str:
    return PARAMETER_WORDS.get(name, name.rsplit(".", 1)[-1].replace("_", " "))


def _reading(summary: pl.DataFrame, metric: str, words: str) -> str:
    a = summary.filter((pl.col("metric") == metric) & (pl.col("series") == "a"))
    d = summary.filter((pl.col("metric") == metric) & (pl.col("series") == "difference"))
    if a.height == 0 or d.height == 0 or not a["median"][0]:
        return ""
    change = d["median"][0] / a["median"][0]
    return f"The local design changes {words} by {change:+.0%} (median of runs' differences)."
