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
from systemic.measures import funnel_plot, spc_chart, summarise, variation_icon
from systemic.measures.chart import chart_spec, funnel_spec
from systemic.report.charts import to_svg
from systemic.report.document import Figure, KeyFigure, ReportDocument, Section, Table
from systemic.report.measures_section import MIN_WEEKLY_CONTACTS, weekly_series

ICON_WORDS = {
    "common_cause": "common cause only",
    "special_cause_improvement": "special cause: improvement",
    "special_cause_concern": "special cause: concern",
    "special_cause_neutral_high": "special cause (high)",
    "special_cause_neutral_low": "special cause (low)",
    None: "too few points",
}


@dataclass
class MeasuresView:
    """The per-locality measures behind the report's measures section."""

    series: pl.DataFrame
    failure_charts: dict[str, Any]
    end_to_end_charts: dict[str, Any]
    funnel: Any


def pct(x: float | None) -> str:
    """A share as a whole percentage ("42%"), or "n/a"."""
    return "n/a" if x is None else f"{100 * x:.0f}%"


def money(x: float | None, currency: str | None) -> str:
    """An amount with its currency symbol, rounded for reading."""
    if x is None:
        return "n/a"
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency or "", "")
    if abs(x) >= 1e6:
        return f"{symbol}{x / 1e6:.1f}m"
    if abs(x) >= 1e3:
        return f"{symbol}{x / 1e3:.0f}k"
    return f"{symbol}{x:.0f}"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def measures_view(result: LearnResult) -> MeasuresView:
    """Weekly failure-demand share (p-chart) and end-to-end time (XmR) per locality."""
    series = weekly_series(
        result.demand.by_locality_week,
        result.episodes,
        settled_days=result.config.episode_gap_days,
    )
    failure_charts: dict[str, Any] = {}
    e2e_charts: dict[str, Any] = {}
    for loc in series["locality"].unique(maintain_order=True).to_list():
        rows = series.filter(pl.col("locality") == loc)
        p_rows = rows.filter(pl.col("contacts") >= MIN_WEEKLY_CONTACTS)
        if p_rows.height >= 2:
            failure_charts[loc] = spc_chart(
                p_rows,
                chart="p",
                date="week",
                value="failure",
                denominator="contacts",
                improvement="decrease",
            )
        x_rows = rows.filter(pl.col("episodes_ended") >= MIN_WEEKLY_CONTACTS)
        if x_rows.height >= 2:
            e2e_charts[loc] = spc_chart(
                x_rows,
                chart="xmr",
                date="week",
                value="median_end_to_end_days",
                improvement="decrease",
            )
    totals = series.group_by("locality").agg(
        pl.col("failure").sum().alias("numerator"), pl.col("contacts").sum().alias("denominator")
    )
    funnel = (
        funnel_plot(totals.filter(pl.col("denominator") > 0), overdispersion="multiplicative")
        if totals.height >= 2
        else None
    )
    return MeasuresView(series, failure_charts, e2e_charts, funnel)


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
            f"The busiest hand-off is {first['from']} → {first['to']} ({first['count']} times); "
            "thicker lines are more frequent moves between services."
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
    locs = result.localities.filter(pl.col("locality").is_not_null())
    if locs.height >= 2:
        hi = locs.sort("mean_hand_offs", descending=True).row(0, named=True)
        lo = locs.sort("mean_hand_offs").row(0, named=True)
        reading = (
            f"{hi['locality']} averages {hi['mean_hand_offs']:.1f} hand-offs per episode, "
            f"{lo['locality']} {lo['mean_hand_offs']:.1f}."
        )
    else:
        reading = "One locality only: compare localities when the data has them."
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


def _spc_reading(name: str, result: Any, unit: str) -> str:
    icon = variation_icon(result)
    s = summarise(result)
    last = s["groups"][-1] if s["groups"] else None
    mean = "" if not last else f" around a mean of {last['mean']:.2f}{unit}"
    return f"{name}: {ICON_WORDS.get(icon, icon)}{mean}."


def measures_section(view: MeasuresView, focus: str | None = None) -> Section:
    """SPC charts of the purpose-derived measures, per locality, and the funnel plot."""
    section = Section(
        id="measures",
        title="Measures: read as variation, not against targets",
        intro=(
            "Two measures derived from purpose, per locality and week: the failure-demand share "
            "of contacts (p-chart) and the median end-to-end time of needs that ended that week "
            "(XmR chart), with the NHS Making Data Count rules. Needs that may have begun "
            "before the first record or may still be open at the last (within one episode gap "
            "of either end) are left out of the end-to-end time, which they would make look "
            "shorter. Grey points are common-cause variation; blue is improvement; orange is "
            "concern."
        ),
    )
    locs = list(view.failure_charts)
    shown = [focus] if focus in view.failure_charts else locs[:1]
    for loc in shown:
        r = view.failure_charts[loc]
        section.figures.append(
            Figure(
                f"Failure-demand share, {loc} (p-chart)",
                _spc_reading(f"Failure-demand share in {loc}", r, ""),
                to_svg(
                    chart_spec(
                        r,
                        title=f"Failure-demand share of contacts, {loc}",
                        y_title="share of contacts",
                    )
                ),
            )
        )
        if loc in view.end_to_end_charts:
            x = view.end_to_end_charts[loc]
            section.figures.append(
                Figure(
                    f"End-to-end time, {loc} (XmR)",
                    _spc_reading(f"End-to-end time in {loc}", x, " days"),
                    to_svg(
                        chart_spec(
                            x, title=f"Median end-to-end days of needs ended, {loc}", y_title="days"
                        )
                    ),
                )
            )
    if view.funnel is not None:
        f = view.funnel.localities
        outside = f.filter(~pl.col("position").str.starts_with("within"))["locality"].to_list()
        section.figures.append(
            Figure(
                "Failure-demand share by locality (funnel plot)",
                (
                    "Outside the 99.8% limits: " + ", ".join(outside) + "."
                    if outside
                    else "Every locality sits within the limits: the differences between them "
                    "are what chance would give."
                ),
                to_svg(
                    funnel_spec(
                        view.funnel,
                        title="Failure-demand share by locality",
                        y_title="share of contacts",
                    )
                ),
            )
        )
    rows = [
        {
            "locality": loc,
            "failure-demand share": ICON_WORDS.get(variation_icon(view.failure_charts[loc])),
            "end-to-end time": ICON_WORDS.get(variation_icon(view.end_to_end_charts[loc]))
            if loc in view.end_to_end_charts
            else "too few points",
        }
        for loc in locs
    ]
    if rows:
        section.tables.append(
            Table("What the latest week's point says, by locality", pl.DataFrame(rows))
        )
    return section


def dataset_report(
    dataset: str | os.PathLike[str],
    *,
    workspace: str | Path | None = None,
    config: LearnConfig | None = None,
    unit_costs: UnitCostTable | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    title: str | None = None,
    result: LearnResult | None = None,
    focus_locality: str | None = None,
) -> ReportDocument:
    """The report of a dataset (and of a workspace when its database is given)."""
    result = result or learn(dataset, config, unit_costs)
    s = result.summary()
    doc = ReportDocument(
        title=title or f"What the records show: {Path(dataset).name}",
        subtitle="Journeys across services, failure demand and its cost, read as variation.",
    )
    doc.summary.extend(headline_sentences(result, threshold))
    doc.sections.append(learn_section(result, threshold))
    doc.sections.append(measures_section(measures_view(result), focus_locality))
    if workspace is not None:
        from systemic.report.workspace_sections import workspace_sections

        doc.sections.extend(workspace_sections(workspace))
    doc.sources.append(
        f"Dataset {Path(dataset).name}: {s.events:,} events; learnt with an episode gap of "
        f"{result.config.episode_gap_days:g} days on {dt.date.today().isoformat()}."
    )
    return doc


__all__ = [
    "MeasuresView",
    "dataset_report",
    "learn_section",
    "measures_section",
    "measures_view",
]
