"""Tables fit to leave the team: small numbers suppressed, rare paths pooled.

Every count from 1 to ``threshold - 1`` shows as ``<5``, with secondary
suppression (``*``) so a hidden count cannot be worked out from totals (see
:mod:`systemic.data.disclosure`). Shares, medians and costs computed from a
hidden count are hidden too. Variants seen fewer than ``threshold`` times are
pooled into one row, because a rare path can itself identify a person.
Row-level tables (episodes, cases) are never published.
"""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl

from systemic.data.disclosure import primary_mark, suppress_counts
from systemic.learn.result import LearnResult, Summary
from systemic.learn.shared_cells import (
    CONTACT_COUNTS,
    CONTACT_LINKED,
    CONTACT_ROW_TOTALS,
    published_shared_tables,
)

#: Bin edges (days) of the end-to-end time distribution.
END_TO_END_BINS_DAYS: tuple[float, ...] = (0, 1, 2, 7, 14, 30, 60, 90, 180, 365, 730)

_DURATIONS = ("median_hours", "mean_hours", "p90_hours")


def end_to_end_distribution(episodes: pl.DataFrame) -> pl.DataFrame:
    """Episodes counted by end-to-end time band (days), bands from :data:`END_TO_END_BINS_DAYS`.

    >>> import polars as pl
    >>> end_to_end_distribution(pl.DataFrame({"end_to_end_days": [0.5, 3.0, 3.5]}))[
    ...     "episodes"].to_list()[:4]
    [1, 0, 2, 0]
    """
    edges = list(END_TO_END_BINS_DAYS)
    labels = [f"{_days(a)}-{_days(b)} days" for a, b in itertools.pairwise(edges)] + [
        f"{_days(edges[-1])}+ days"
    ]
    # band i holds [edges[i], edges[i+1]): the number of upper edges <= the value
    band = pl.lit(pl.Series(edges[1:], dtype=pl.Float64)).search_sorted(
        pl.col("end_to_end_days"), side="right"
    )
    counts = (
        episodes.select(band.cast(pl.Int64).alias("order"))
        .group_by("order")
        .agg(pl.len().cast(pl.Int64).alias("episodes"))
    )
    return (
        pl.DataFrame(
            {
                "order": list(range(len(labels))),
                "band": labels,
                "from_days": edges,
                "to_days": [*edges[1:], None],
            },
            schema={
                "order": pl.Int64,
                "band": pl.String,
                "from_days": pl.Float64,
                "to_days": pl.Float64,
            },
        )
        .join(counts, on="order", how="left", maintain_order="left")
        .with_columns(pl.col("episodes").fill_null(0))
        .drop("order")
    )


def _days(x: float) -> str:
    return f"{x:g}"


def pooled_variants(variants: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Variants as text, those seen fewer than ``threshold`` times pooled in one row."""
    text = variants.with_columns(pl.col("variant").list.join(" > ").alias("variant"))
    common = text.filter(pl.col("count") >= threshold)
    rare = text.filter(pl.col("count") < threshold)
    if rare.height == 0:
        return common
    pooled = pl.DataFrame(
        {
            "variant": [f"(other variants, each seen fewer than {threshold} times: {rare.height})"],
            "steps": [None],
            "count": [int(rare["count"].sum())],
            "share": [float(rare["share"].sum())],
            "median_days": [None],
        },
        schema=common.schema,
    )
    return pl.concat([common, pooled])


def published_tables(
    result: LearnResult, threshold: int | None = None, *, series: bool = False
) -> dict[str, pl.DataFrame]:
    """Every aggregate table with small numbers suppressed, ready to leave the team.

    With ``series``, also ``series_weekly`` and ``series_monthly`` (as
    :func:`systemic.learn.series.published_series` gives them, from the same
    suppression of the counts they share with the demand tables).
    """
    t = threshold or result.config.suppression_threshold
    tables = result.tables()

    def counts(frame: pl.DataFrame, cols: list[str], **kw: Any) -> pl.DataFrame:
        return suppress_counts(frame, cols, threshold=t, **kw)

    out: dict[str, pl.DataFrame] = {}
    for level in ("service", "activity"):
        out[f"{level}_edges"] = counts(
            tables[f"{level}_edges"], ["count"], linked={d: ["count"] for d in _DURATIONS}
        )
        out[f"{level}_starts"] = counts(tables[f"{level}_starts"], ["count"])
        out[f"{level}_ends"] = counts(tables[f"{level}_ends"], ["count"])
        out[f"{level}_variants"] = counts(
            pooled_variants(tables[f"{level}_variants"], t),
            ["count"],
            linked={"share": ["count"], "median_days": ["count"]},
        )
    out["demand_by_class"] = counts(
        tables["demand_by_class"], ["contacts"], linked={"share": ["contacts"]}
    )
    for name in ("type", "service", "channel"):
        out[f"demand_by_{name}"] = counts(
            tables[f"demand_by_{name}"],
            list(CONTACT_COUNTS),
            row_totals=CONTACT_ROW_TOTALS,
            linked=CONTACT_LINKED,
        )
    # These share their counts with the series: suppressed with them, in one place.
    shared = published_shared_tables(result, t)
    out["demand_by_locality"] = shared["demand_by_locality"]
    out["demand_by_week"] = shared["demand_by_week"]
    out["preventable_by_locality"] = shared["preventable_by_locality"]
    if series:
        out.update({name: shared[name] for name in ("series_weekly", "series_monthly")})
    for name in ("failure_demand_pareto", "inferred_failure_pareto"):
        out[name] = counts(
            tables[name],
            ["contacts"],
            linked={"cost": ["contacts"], "share": ["contacts"], "cumulative_share": ["contacts"]},
        )
    out["failure_work_pareto"] = counts(
        tables["failure_work_pareto"],
        ["events"],
        linked={"cost": ["events"], "share": ["events"], "cumulative_share": ["events"]},
    )
    out["failure_signals"] = counts(tables["failure_signals"], ["contacts"])
    cost_links = {
        c: ["events"] for c in ("cost", "failure_cost", "failure_work_cost", "hand_off_cost")
    }
    for name in ("cost_by_service", "cost_by_locality"):
        out[name] = counts(
            tables[name],
            ["events", "pieces", "costed_events", "uncosted_events", "hand_offs"],
            linked=cost_links,
        )
    loc_counts = [
        "people",
        "episodes",
        "events",
        "contacts",
        "classified_contacts",
        "failure_contacts",
        "preventable_contacts",
        "repeat_contacts",
        "hand_offs",
    ]
    out["localities"] = counts(
        tables["localities"],
        loc_counts,
        linked={
            "median_hand_offs": ["episodes"],
            "mean_hand_offs": ["episodes"],
            "median_end_to_end_days": ["episodes"],
            "cost": ["episodes"],
            "failure_cost": ["episodes", "failure_contacts"],
            "hand_off_cost": ["episodes", "hand_offs"],
            "failure_share": ["classified_contacts", "failure_contacts"],
            "preventable_share": ["contacts", "preventable_contacts"],
        },
    )
    out["end_to_end_distribution"] = counts(end_to_end_distribution(result.episodes), ["episodes"])
    return out


#: Summary counts that are hidden (as ``<5``) when under the threshold.
SUMMARY_COUNTS: tuple[str, ...] = (
    "people",
    "events",
    "pieces",
    "cases",
    "cases_spanning_people",
    "needs",
    "contacts",
    "classified_contacts",
    "failure_contacts",
    "value_contacts",
    "inferred_failure_contacts",
    "inferred_value_contacts",
    "unknown_contacts",
    "work_pieces",
    "timed_pieces",
    "failure_work_events",
    "costed_events",
    "uncosted_events",
)

#: Figures computed from few people or needs, hidden with them.
_FROM_PEOPLE = ("median_need_days", "p90_need_days", "median_hand_offs", "need_flow_efficiency")
_FROM_CASES = ("median_case_days", "p90_case_days", "case_flow_efficiency")


def published_summary(summary: Summary, threshold: int = 5) -> dict[str, Any]:
    """The summary as a dict, counts below ``threshold`` shown as ``<5``.

    Medians of needs are hidden when people or needs are too few, medians of
    cases when cases are.
    """
    body = summary.to_dict()
    small = primary_mark(threshold)
    for key in SUMMARY_COUNTS:
        if body[key] is not None and 0 < body[key] < threshold:
            body[key] = small
    if isinstance(body["people"], str) or isinstance(body["needs"], str):
        for key in _FROM_PEOPLE:
            body[key] = None
    if isinstance(body["cases"], str) or isinstance(body["people"], str):
        for key in _FROM_CASES:
            body[key] = None
    return body
