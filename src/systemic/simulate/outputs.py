"""Write simulation results to a folder: tables (Parquet and CSV) and charts (SVG, PNG)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from systemic.simulate.charts import band_chart, save_chart
from systemic.simulate.compare import Comparison
from systemic.simulate.ensemble import EnsembleResult, bands
from systemic.simulate.result import SimulationResult


def write_table(frame: pl.DataFrame, stem: Path) -> list[Path]:
    """``frame`` as ``<stem>.parquet`` and ``<stem>.csv``."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    pq, csv = stem.with_suffix(".parquet"), stem.with_suffix(".csv")
    frame.write_parquet(pq)
    frame.write_csv(csv)
    return [pq, csv]


def write_run(result: SimulationResult, out: str | Path) -> list[Path]:
    """Tables of one run (steps, services, wellbeing, summary) and its chart."""
    out = Path(out)
    files = write_table(result.steps, out / "steps")
    files += write_table(result.services, out / "services")
    files += write_table(result.wellbeing, out / "wellbeing")
    summary = pl.DataFrame(
        {"measure": list(result.summary()), "value": list(result.summary().values())}
    )
    files += write_table(summary, out / "summary")
    single = bands(result.totals().with_columns(pl.lit(0).alias("run")))
    title = f"{result.scenario.name} (seed {result.seed})"
    files += save_chart(band_chart(single, title=title), out / "chart")
    return files


def write_ensemble(ensemble: EnsembleResult, out: str | Path) -> list[Path]:
    """Tables of an ensemble (runs, parameters, bands) and its banded chart."""
    out = Path(out)
    files = write_table(ensemble.runs, out / "runs")
    files += write_table(ensemble.parameters, out / "parameters")
    files += write_table(ensemble.bands, out / "bands")
    n = ensemble.runs["run"].n_unique()
    title = f"{ensemble.scenario.name}: {n} runs, median with 80% and 95% bands"
    files += save_chart(band_chart(ensemble.bands, title=title), out / "chart")
    return files


def write_comparison(comparison: Comparison, out: str | Path) -> list[Path]:
    """Tables of a comparison and charts of both designs and of their difference."""
    out = Path(out)
    files = write_table(comparison.runs, out / "runs")
    files += write_table(comparison.bands, out / "bands")
    files += write_table(comparison.summary, out / "summary")
    a, b = comparison.a.name, comparison.b.name
    both = comparison.bands.filter(pl.col("series") != "difference").with_columns(
        pl.col("series").replace({"a": f"A: {a}", "b": f"B: {b}"})
    )
    files += save_chart(
        band_chart(both, title=f"A: {a} and B: {b}", series_column="series"), out / "designs"
    )
    diff = comparison.bands.filter(pl.col("series") == "difference")
    files += save_chart(
        band_chart(diff, title=f"Difference B - A ({b} minus {a}), common random numbers"),
        out / "difference",
    )
    meta = {"a": a, "b": b, "seed": comparison.seed, "runs": comparison.runs["run"].n_unique()}
    (out / "comparison.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return files
