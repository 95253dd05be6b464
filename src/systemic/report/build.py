"""Build a report from a dataset (and optionally a workspace): compute, then present.

:func:`dataset_report` learns from the dataset, builds the purpose-derived
measures per locality, reads the workspace (purpose, system conditions,
localities, stories, experiments, audit) when one is given, and returns a
:class:`ReportDocument`. Every count in it is published: counts from 1 to 4
are suppressed, and figures are drawn from suppressed tables.

>>> import tempfile, datetime as dt, polars as pl
>>> from systemic.data import write_dataset
>>> t = lambda d: dt.datetime(2025, 1, d, tzinfo=dt.UTC)
>>> ev = pl.DataFrame({"person_id": [f"p{i % 40}" for i in range(200)],
...     "service": ["Housing", "Benefits"] * 100, "activity": ["call"] * 200,
...     "kind": ["contact"] * 200, "locality": ["North", "South"] * 100,
...     "timestamp": [t(1 + i % 28) for i in range(200)]})
>>> ds = write_dataset(ev, tempfile.mkdtemp() + "/d", source_name="example")
>>> doc = dataset_report(ds.path)
>>> [s.id for s in doc.sections]
['learn', 'measures']
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from systemic.data.disclosure import DEFAULT_THRESHOLD
from systemic.learn import (
    LearnConfig,
    LearnResult,
    UnitCostTable,
    learn,
    learn_charts,
    published_summary,
    published_tables,
)
from systemic.learn.headlines import headline_sentences
from systemic.learn.journeys import UNKNOWN
from systemic.learn.series import ALL_LOCALITIES, published_series
from systemic.measures import (
    FunnelResult,
    MeasuresError,
    SPCResult,
    funnel_plot,
    spc_chart,
)
from systemic.measures.chart import chart_spec, funnel_spec, widening_words
from systemic.measures.learnt import learnt_series
from systemic.measures.summary import ChartReading, read_chart
from systemic.report.charts import to_svg
from systemic.report.document import Figure, KeyFigure, ReportDocument, Section, Table

ICON_WORDS = {
    "common_cause": "common cause only",
    "special_cause_improvement": "special cause: improvement",
    "special_cause_concern": "special cause: concern",
    "special_cause_neutral_high": "special cause (high)",
    "special_cause_neutral_low": "special cause (low)",
    None: "too few points",
}


#: How a reading names each kind of special cause.
SPECIAL_WORDS = {
    "special_cause_improvement": "improvement",
    "special_cause_concern": "concern",
    "special_cause_neutral_high": "high (neutral)",
    "special_cause_neutral_low": "low (neutral)",
}

#: How a reading names the latest point's type.
LATEST_WORDS = {
    "common_cause": "common cause",
    **{t: f"special cause ({w})" for t, w in SPECIAL_WORDS.items()},
}

#: A locality's chart needs at least this many points with a value.
MIN_POINTS = 2


@dataclass
class Charted:
    """An SPC chart with the notes on its data and the reading its caption is written from."""

    result: SPCResult
    notes: tuple[str, ...]
    reading: ChartReading


@dataclass
class FunnelView:
    """The funnel plot, the same without widening, and the localities left out of it."""

    result: FunnelResult
    unwidened: FunnelResult
    left_out: list[str]


@dataclass
class MeasuresView:
    """The per-locality measures behind the report's measures section.

    ``series`` is the weekly series table learn publishes (small numbers
    suppressed): every chart and caption is drawn from it.
    """

    series: pl.DataFrame
    failure_charts: dict[str, Charted]
    end_to_end_charts: dict[str, Charted]
    funnel: FunnelView | None


def pct(x: float | None, digits: int = 0) -> str:
    """A share as a percentage ("42%", or "42.3%" with ``digits=1``), or "n/a"."""
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def money(x: float | None, currency: str | None) -> str:
    """An amount with its currency symbol, rounded for reading."""
    if x is None:
        return "n/a"
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency or "", "")
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x >= 1e6:
        return f"{sign}{symbol}{x / 1e6:.1f}m"
    if x >= 1e3:
        return f"{sign}{symbol}{x / 1e3:.0f}k"
    return f"{sign}{symbol}{x:.0f}"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _chart(frame: pl.DataFrame, notes: tuple[str, ...], **options: Any) -> Charted | None:
    if frame["value"].is_not_null().sum() < MIN_POINTS:
        return None
    result = spc_chart(frame, **options)
    return Charted(result, notes, read_chart(result))


def measures_view(result: LearnResult, threshold: int = DEFAULT_THRESHOLD) -> MeasuresView:
    """Weekly failure-demand share (p-chart) and end-to-end time (XmR) per locality, and a funnel.

    Read from the published series (:func:`systemic.learn.series.published_series`)
    exactly as ``systemic spc --from`` reads them: suppressed weeks are gaps,
    and the end-to-end series leaves out the weeks the record's edges cut short.
    """
    series = published_series(result, threshold)["series_weekly"]
    localities = [
        loc
        for loc in series["locality"].unique(maintain_order=True).to_list()
        if loc not in (ALL_LOCALITIES, UNKNOWN)
    ]
    if not localities:  # no locality in the records: chart the whole
        localities = [ALL_LOCALITIES]
    failure_charts: dict[str, Charted] = {}
    e2e_charts: dict[str, Charted] = {}
    for loc in localities:
        share = learnt_series(series, "failure_demand_share", locality=loc)
        charted = _chart(share.frame, share.notes, chart="p", value="value",
                         denominator="denominator", improvement="decrease")  # fmt: skip
        if charted:
            failure_charts[loc] = charted
        try:
            days = learnt_series(series, "end_to_end_days_per_need", locality=loc)
        except MeasuresError:  # no week left once the record's edges are left out
            continue
        charted = _chart(days.frame, days.notes, chart="xmr", value="value",
                         improvement="decrease")  # fmt: skip
        if charted:
            e2e_charts[loc] = charted
    return MeasuresView(series, failure_charts, e2e_charts, _funnel(result, threshold))


def _funnel(result: LearnResult, threshold: int) -> FunnelView | None:
    """Failure-demand share by locality, from the published table: hidden counts stay out."""
    table = published_tables(result, threshold)["demand_by_locality"].filter(
        pl.col("locality") != UNKNOWN
    )
    counts = table.select(
        "locality",
        pl.col("failure").cast(pl.Float64, strict=False).alias("numerator"),
        pl.col("contacts").cast(pl.Float64, strict=False).alias("denominator"),
    )
    shown = counts.filter(pl.col("numerator").is_not_null() & (pl.col("denominator") > 0))
    left_out = sorted(set(counts["locality"]) - set(shown["locality"]))
    if shown.height < 2:
        return None
    return FunnelView(
        funnel_plot(shown, overdispersion="multiplicative"),
        funnel_plot(shown, overdispersion="none"),
        left_out,
    )


def learn_section(result: LearnResult, threshold: int = DEFAULT_THRESHOLD) -> Section:
    """Journeys across silos, failure demand and its cost, from the person's point of view."""
    summary = result.summary()
    pub = published_summary(summary, threshold)
    tables = published_tables(result, threshold)
    charts = learn_charts(tables)
    cur = summary.currency
    section = Section(
        id="learn",
        title="Learn: the system as people meet it",
        intro=(
            "Each person's records from every service, joined into one journey and cut into "
            "episodes of need. A hand-off is a move from one service to another; failure "
            "demand is a contact caused by something not done, or not done right."
        ),
        key_figures=[
            KeyFigure("people", _count(pub["people"])),
            KeyFigure("needs (episodes)", _count(pub["needs"])),
            KeyFigure("contacts", _count(pub["contacts"])),
            KeyFigure(
                "failure demand (classified)",
                pct(summary.failure_demand_share),
                f"share of {_count(pub['classified_contacts'])} classified contacts",
            ),
            KeyFigure(
                "median case time",
                "n/a" if pub["median_case_days"] is None else f"{pub['median_case_days']:.1f} days",
                "first to last event per case" if summary.case_ids_mapped else "no case id mapped",
            ),
            KeyFigure(
                "median need time",
                "n/a" if pub["median_need_days"] is None else f"{pub['median_need_days']:.1f} days",
                "first to last event per need",
            ),
            KeyFigure(
                "median hand-offs",
                "n/a" if pub["median_hand_offs"] is None else f"{pub['median_hand_offs']:g}",
                "per need",
            ),
        ],
    )
    if summary.cost_of_failure_demand is not None:
        section.key_figures.append(
            KeyFigure(
                "cost of failure demand (classified, with the work it causes)",
                money(summary.cost_of_failure_demand, cur),
                f"of {money(summary.total_cost, cur)} in all"
                + (f" ({summary.price_year} prices)" if summary.price_year else ""),
            )
        )
    pareto = result.demand.pareto
    top = pareto.head(3)
    top_share = float(top["share"].sum()) if top.height else 0.0
    names = ", ".join(str(x) for x in top["demand_type"].to_list())
    section.figures.append(
        Figure(
            "Failure demand by type",
            f"The three largest types ({names}) make up {pct(top_share)} of classified "
            "failure demand: start there."
            if top.height
            else "No contact was classified as failure demand.",
            to_svg(charts["failure_demand_pareto"]),
        )
    )
    edges = tables["service_edges"].filter(pl.col("count").cast(pl.Int64, strict=False) > 0)
    if edges.height:
        first = edges.sort(pl.col("count").cast(pl.Int64), descending=True).row(0, named=True)
        reading = (
            f"The busiest hand-off is {first['from']} → {first['to']} "
            f"({int(first['count']):,} times); thicker lines are more frequent moves between "
            "services."
        )
    else:
        reading = "No moves between services were recorded."
    section.figures.append(
        Figure("The journey map across services", reading, to_svg(charts["journey_map"]))
    )
    e = result.episodes
    long = float((e["end_to_end_days"] > 90).mean()) if e.height else 0.0
    section.figures.append(
        Figure(
            "How long needs take, end to end",
            f"{pct(long)} of episodes of need took more than 90 days from first to last contact.",
            to_svg(charts["end_to_end_times"]),
        )
    )
    reading = hand_offs_reading(tables["localities"])
    section.figures.append(
        Figure("Hand-offs by locality", reading, to_svg(charts["hand_offs_by_locality"]))
    )
    loc_table = tables["localities"].select(
        [
            c
            for c in (
                "locality",
                "people",
                "episodes",
                "contacts",
                "failure_contacts",
                "failure_share",
                "median_hand_offs",
                "median_end_to_end_days",
                "cost",
                "failure_cost",
            )
            if c in tables["localities"].columns
        ]
    )
    section.tables.append(
        Table(
            "By locality", loc_table, "Shares and medians are hidden where a count is suppressed."
        )
    )
    return section


def hand_offs_reading(published_localities: pl.DataFrame) -> str:
    """The hand-offs caption, from the published localities table (never a hidden figure).

    A locality whose episodes are too few to publish has its mean hidden in
    the table, so it is left out of the sentence too.
    """
    locs = published_localities.filter(
        pl.col("locality").is_not_null() & (pl.col("locality") != UNKNOWN)
    ).with_columns(pl.col("mean_hand_offs").cast(pl.Float64, strict=False))
    shown = locs.filter(pl.col("mean_hand_offs").is_not_null())
    hidden = locs.height - shown.height
    note = (
        f" ({hidden} {'locality has' if hidden == 1 else 'localities have'} too few episodes "
        "to show.)"
        if hidden
        else ""
    )
    if shown.height < 2:
        return "Fewer than two localities can be shown: compare localities when the data has " \
            "them." + note  # fmt: skip
    hi = shown.sort("mean_hand_offs", descending=True).row(0, named=True)
    lo = shown.sort("mean_hand_offs").row(0, named=True)
    return (
        f"{hi['locality']} averages {hi['mean_hand_offs']:.1f} hand-offs per episode, "
        f"{lo['locality']} {lo['mean_hand_offs']:.1f}." + note
    )


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "share":
        return pct(value, 1)
    return f"{value:,.1f} {unit}"


def spc_caption(what: str, charted: Charted, unit: str) -> str:
    """A chart's caption, from the same reading as the chart: every claim is checkable.

    Says how many weeks are charted (and left as gaps), whether any point shows
    a special cause (how many, of which kind, which way is better), what the
    latest week shows, the mean, and the notes on what was left out.
    """
    r = charted.reading
    weeks = f"{r.points} weeks" + (f", {r.gaps} left as gaps" if r.gaps else "")
    if r.special_points:
        kinds = ", ".join(f"{n} {SPECIAL_WORDS[t]}" for t, n in r.special.items())
        body = f"special cause at {r.special_points} of {r.points} points ({kinds})"
    else:
        body = "common cause only: no point breaks a rule"
    better = {"decrease": "lower is better", "increase": "higher is better"}.get(
        r.improvement, "neither way is better"
    )
    latest = LATEST_WORDS.get(r.latest, "no point")
    notes = "".join(f" {n[:1].upper()}{n[1:]}." for n in charted.notes)
    return (
        f"{what} ({weeks}; {better}): {body}. The latest week: {latest}. "
        f"Mean {_number(r.mean, unit)}.{notes}"
    )


def funnel_caption(view: FunnelView) -> str:
    """The funnel's caption: where localities sit, whether and how much the limits were widened."""
    f = view.result.localities
    outside = f.filter(pl.col("position") != "within")["locality"].to_list()
    plain = view.unwidened.localities
    plain_outside = plain.filter(pl.col("position") != "within")["locality"].to_list()
    widening = widening_words(view.result)
    where = (
        "Outside the 95% limits: " + ", ".join(outside) + "."
        if outside
        else "Every locality sits within the 95% limits."
    )
    where += f" {widening[:1].upper()}{widening[1:]}."
    if view.result.overdispersion != "none" and view.result.widening(1.0) > 1.0 + 1e-9:
        where += (
            " From chance alone (limits not widened), "
            + (
                f"{len(plain_outside)} of {plain.height} would be outside the 95% limits"
                if plain_outside
                else "none would be outside the 95% limits"
            )
            + ": the localities differ by more than chance, and the widened limits ask "
            "which differ by more than localities usually do."
        )
    if view.left_out:
        where += " Left out, as their counts are suppressed: " + ", ".join(view.left_out) + "."
    return where


def measures_section(view: MeasuresView, focus: str | None = None) -> Section:
    """SPC charts of the purpose-derived measures, per locality, and the funnel plot."""
    section = Section(
        id="measures",
        title="Measures: read as variation, not against targets",
        intro=(
            "Two measures derived from purpose, per locality and week, read from the series "
            "learn publishes (small numbers suppressed: a suppressed week is a gap): the "
            "failure-demand share of contacts (p-chart) and the median end-to-end time of "
            "needs ended that week (XmR chart), with the NHS Making Data Count rules. Only "
            "needs known to be whole are timed, and the weeks the record's edges cut short "
            "are left out: at its start, long needs ending then would have begun before the "
            "first record; at its end, needs may still be open. Grey points are common-cause "
            "variation; blue is improvement; orange is concern."
        ),
    )
    locs = list(view.failure_charts)
    shown = [focus] if focus in view.failure_charts else locs[:1]
    for loc in shown:
        c = view.failure_charts[loc]
        section.figures.append(
            Figure(
                f"Failure-demand share, {loc} (p-chart)",
                spc_caption(f"Failure-demand share in {loc}", c, "share"),
                to_svg(
                    chart_spec(
                        c.result,
                        title=f"Failure-demand share of contacts, {loc}",
                        y_title="share of contacts",
                        notes=c.notes,
                    )
                ),
                c,
            )
        )
        if loc in view.end_to_end_charts:
            x = view.end_to_end_charts[loc]
            section.figures.append(
                Figure(
                    f"End-to-end time, {loc} (XmR)",
                    spc_caption(f"End-to-end time in {loc}", x, "days"),
                    to_svg(
                        chart_spec(
                            x.result,
                            title=f"Median end-to-end days of needs ended, {loc}",
                            y_title="days",
                            notes=x.notes,
                        )
                    ),
                    x,
                )
            )
    if view.funnel is not None:
        section.figures.append(
            Figure(
                "Failure-demand share by locality (funnel plot)",
                funnel_caption(view.funnel),
                to_svg(
                    funnel_spec(
                        view.funnel.result,
                        title="Failure-demand share by locality",
                        y_title="share of contacts",
                        x_title="contacts",
                    )
                ),
                view.funnel,
            )
        )
    rows = [
        {
            "locality": loc,
            "failure-demand share": LATEST_WORDS.get(view.failure_charts[loc].reading.latest),
            "end-to-end time": LATEST_WORDS.get(view.end_to_end_charts[loc].reading.latest)
            if loc in view.end_to_end_charts
            else "too few points",
        }
        for loc in locs
    ]
    if rows:
        section.tables.append(
            Table(
                "What the latest week's point says, by locality",
                pl.DataFrame(rows),
                "The latest point only; the captions above read each chart as a whole.",
            )
        )
    return section


def dataset_report(
    dataset: str | os.PathLike[str],
    *,
    workspace: str | Path | None = None,
    workspace_name: str | None = None,
    config: LearnConfig | None = None,
    unit_costs: UnitCostTable | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    title: str | None = None,
    result: LearnResult | None = None,
    focus_locality: str | None = None,
) -> ReportDocument:
    """The report of a dataset (and of a workspace when its database is given).

    ``workspace_name`` picks one workspace of that database by its short name or id
    (default: the one named ``default``, or the only one).
    """
    result = result or learn(dataset, config, unit_costs)
    s = result.summary()
    doc = ReportDocument(
        title=title or f"What the records show: {Path(dataset).name}",
        subtitle="Journeys across services, failure demand and its cost, read as variation.",
    )
    doc.summary.extend(headline_sentences(result, threshold))
    doc.sections.append(learn_section(result, threshold))
    doc.sections.append(measures_section(measures_view(result, threshold), focus_locality))
    if workspace is not None:
        from systemic.report.workspace_sections import workspace_sections

        doc.sections.extend(workspace_sections(workspace, workspace_name))
    doc.sources.append(
        f"Dataset {Path(dataset).name}: {s.events:,} events; learnt with an episode gap of "
        f"{result.config.episode_gap_days:g} days on {dt.date.today().isoformat()}."
    )
    return doc


__all__ = [
    "Charted",
    "FunnelView",
    "MeasuresView",
    "dataset_report",
    "learn_section",
    "measures_section",
    "measures_view",
]
