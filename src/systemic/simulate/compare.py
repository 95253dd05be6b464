"""Compare two designs on common random numbers, with uncertainty bands.

Run ``r`` of design A and run ``r`` of design B share their engine seed (so
the same people meet the same life events) and the same draw of every
uncertain parameter the two scenarios share. The difference B - A per run
and step is then summarised across runs as a median with 80% and 95% bands.

>>> from systemic.simulate import load_scenario
>>> a = load_scenario({"preset": "silo", "population": {"people": 400}, "years": 0.5})
>>> b = load_scenario({"preset": "local", "population": {"people": 400}, "years": 0.5})
>>> c = compare(a, b, runs=2, seed=3)
>>> set(c.summary["metric"]) >= {"failure_demand", "cost", "crises"}
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from systemic.simulate.ensemble import QUANTILES, DaskTarget, bands, map_runs, run_member
from systemic.simulate.result import KEY_METRICS
from systemic.simulate.scenario import Scenario, load_scenario, scenario_to_dict


def run_pair(
    a: dict[str, Any], b: dict[str, Any], seed: int, run_index: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run ``run_index`` of both designs on the same random numbers."""
    return run_member(a, seed, run_index), run_member(b, seed, run_index)


@dataclass
class Comparison:
    """Two designs run side by side.

    - ``runs``: per-run totals per step of both (column ``design`` is ``a`` or ``b``);
    - ``bands``: per step and metric, bands of A, B and of the difference B - A
      (column ``series`` is ``a``, ``b`` or ``difference``);
    - ``summary``: whole-horizon totals (means for wellbeing) per metric with
      bands of A, B and B - A.
    """

    a: Scenario
    b: Scenario
    seed: int
    runs: pl.DataFrame
    bands: pl.DataFrame
    summary: pl.DataFrame


def _horizon(frame: pl.DataFrame) -> pl.DataFrame:
    sums = [pl.col(m).sum() for m in KEY_METRICS if m not in ("wellbeing_mean",)]
    return frame.group_by("run", maintain_order=True).agg(*sums, pl.col("wellbeing_mean").mean())


def _summary(a_runs: pl.DataFrame, b_runs: pl.DataFrame) -> pl.DataFrame:
    ha, hb = _horizon(a_runs).sort("run"), _horizon(b_runs).sort("run")
    diff = hb.select("run", *[(hb[m] - ha[m]).alias(m) for m in KEY_METRICS])
    rows = []
    for series, frame in (("a", ha), ("b", hb), ("difference", diff)):
        for m in KEY_METRICS:
            col = frame[m].cast(pl.Float64)
            row: dict[str, Any] = {"metric": m, "series": series}
            for name, q in QUANTILES.items():
                row[name] = col.quantile(q, interpolation="linear")
            row["runs"] = col.len()
            rows.append(row)
    return pl.DataFrame(rows)


def compare(
    a: Scenario | dict[str, Any] | str,
    b: Scenario | dict[str, Any] | str,
    runs: int = 20,
    seed: int = 0,
    *,
    dask: DaskTarget = None,
    on_run: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run designs ``a`` and ``b`` ``runs`` times each on common random numbers."""
    sa, sb = load_scenario(a), load_scenario(b)
    if sa.steps != sb.steps or sa.population.people != sb.population.people:
        raise ValueError(
            "compare needs the same horizon and population in both scenarios "
            f"(A: {sa.steps} steps, {sa.population.people} people; "
            f"B: {sb.steps} steps, {sb.population.people} people)"
        )
    da, db = scenario_to_dict(sa), scenario_to_dict(sb)
    pairs = map_runs(run_pair, [(da, db, seed, r) for r in range(runs)], dask=dask, on_done=on_run)
    a_runs = pl.concat([p[0] for p in pairs])
    b_runs = pl.concat([p[1] for p in pairs])
    keys = ["run", "step", "date"]
    diff = b_runs.select(
        *keys,
        *[(b_runs[m].cast(pl.Float64) - a_runs[m].cast(pl.Float64)).alias(m) for m in KEY_METRICS],
    )
    band = pl.concat(
        [
            bands(a_runs).with_columns(pl.lit("a").alias("series")),
            bands(b_runs).with_columns(pl.lit("b").alias("series")),
            bands(diff).with_columns(pl.lit("difference").alias("series")),
        ]
    )
    both = pl.concat(
        [
            a_runs.with_columns(pl.lit("a").alias("design")),
            b_runs.with_columns(pl.lit("b").alias("design")),
        ],
        how="diagonal_relaxed",
    )
    return Comparison(
        a=sa, b=sb, seed=seed, runs=both, bands=band, summary=_summary(a_runs, b_runs)
    )
