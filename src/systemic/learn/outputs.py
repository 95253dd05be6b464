"""Write a learn run to a folder: tables (Parquet and CSV), summary.json, charts.

Layout::

    OUT/
      summary.json                 headline numbers (small counts as <5)
      tables/<name>.parquet|.csv   published tables (suppressed)
      charts/<name>.svg|.png       the four charts
      row_level/                   for the team only, never published:
        episodes.parquet           one row per need (person-episode), pseudonymised
        cases.parquet              one row per case: first event's person, people,
                                   start, end, case_days
        <table>.parquet|.csv       the unsuppressed activity and service edges,
                                   starts, ends and variants
      README.txt                   what is here and what may leave the team
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from systemic.data.export import neutralise_formulas
from systemic.learn.charts import learn_charts, render_chart, warm_up_renderer
from systemic.learn.publish import published_summary, published_tables
from systemic.learn.result import LearnResult
from systemic.learn.series import learn_series, table_name

_README = """systemic learn output

summary.json   headline numbers; counts under {t} shown as "<{t}".
tables/        aggregate tables, Parquet and CSV. Counts under {t} are shown as
               "<{t}"; "*" marks a count hidden so that a small count cannot be
               worked out from totals or from another table; shares, medians
               and costs built on a hidden count are left empty. Variants seen fewer than {t} times
               are pooled in one row. series_weekly and series_monthly hold
               the headline figures per locality and period, for
               `systemic spc --from` and `systemic experiment --from`.
               These may leave the team.
charts/        SVG and PNG charts drawn from the published tables.
row_level/     for the team's own analysis only: do not publish. One row per
               need (person-episode) and per case, with pseudonymised ids,
               the unsuppressed activity and service edges, starts, ends
               and variants (every count, however small), and the series
               unsuppressed.
"""


#: Unsuppressed tables written to ``row_level/`` for the team's own view.
ROW_LEVEL_TABLES: tuple[str, ...] = tuple(
    f"{level}_{what}"
    for level in ("activity", "service")
    for what in ("edges", "starts", "ends", "variants")
)


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    durations = [c for c, t in frame.schema.items() if isinstance(t, pl.Duration)]
    return frame.with_columns(
        [pl.col(c).list.join(" > ").alias(c) for c in lists]
        + [(pl.col(c).dt.total_microseconds() / 86_400e6).alias(c + "_days") for c in durations]
    ).drop(durations)


def write_outputs(
    result: LearnResult,
    out: str | os.PathLike[str],
    *,
    threshold: int | None = None,
    charts: bool = True,
) -> dict[str, object]:
    """Write every output of ``result`` under ``out``; returns the published summary."""
    if charts:  # the renderer starts while the tables are written
        warm_up_renderer()
    t = threshold or result.config.suppression_threshold
    root = Path(out)
    for sub in ("tables", "charts", "row_level"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    published = published_tables(result, t, series=True)  # with the series measures read
    for name, table in published.items():
        table.write_parquet(root / "tables" / f"{name}.parquet")
        neutralise_formulas(_csv_ready(table)).write_csv(root / "tables" / f"{name}.csv")
    result.episodes.write_parquet(root / "row_level" / "episodes.parquet")
    result.cases.write_parquet(root / "row_level" / "cases.parquet")
    for period, frame in learn_series(result).items():
        frame.write_parquet(root / "row_level" / f"{table_name(period)}.parquet")
    team = result.tables()
    for name in ROW_LEVEL_TABLES:
        team[name].write_parquet(root / "row_level" / f"{name}.parquet")
        neutralise_formulas(_csv_ready(team[name])).write_csv(root / "row_level" / f"{name}.csv")
    summary = published_summary(result.summary(), t)
    body = {
        **summary,
        "settings": {
            **result.config.settings(),
            "suppression_threshold": t,
            "unit_costs": result.unit_costs.title if result.unit_costs else None,
        },
    }
    (root / "summary.json").write_text(json.dumps(body, indent=2, default=str), encoding="utf-8")
    (root / "README.txt").write_text(_README.format(t=t), encoding="utf-8")
    if charts:
        for name, spec in learn_charts(published).items():
            render_chart(spec, root / "charts" / name)
    return body
