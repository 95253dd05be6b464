"""Write a demand study to a folder: estimate.json, contacts.csv, tables and charts.

- ``estimate.json``: the share, its 95% interval, labelled and all contacts,
  the method, the classifier's cross-validated quality, labels needed for
  narrower intervals, and the breakdowns;
- ``contacts.csv``: id, demand_class, p_failure, source (labelled or
  classified) and the contact's dimensions; no text (the words can hold
  personal data and stay where they came from);
- ``by_<dimension>.csv``, ``pareto.csv``, ``what_failed.csv``;
- ``suggest.csv``: the unlabelled contacts to label next, most uncertain
  first, with their words, identifiers masked;
- ``rejected_labels.csv`` when any label could not be used;
- ``charts/``: share by each dimension and the Pareto of failure types (SVG, PNG).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from systemic.data.export import neutralise_formulas
from systemic.demand.charts import pareto_chart, share_chart
from systemic.demand.mask import mask_identifiers
from systemic.demand.study import DemandStudy


def write_study(
    study: DemandStudy, out: str | os.PathLike[str], *, charts: bool = True
) -> dict[str, Path]:
    """Write the study's files into ``out`` (created if needed); returns them by name."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    path = out / "estimate.json"
    path.write_text(json.dumps(study.to_dict(), indent=2, default=str), encoding="utf-8")
    written["estimate"] = path
    path = out / "contacts.csv"
    first = ["id", "demand_class", "p_failure", "source"]
    rest = [c for c in study.contacts.columns if c not in first]
    neutralise_formulas(study.contacts.select(*first, *rest)).write_csv(path)
    written["contacts"] = path
    for dim, table in study.by.items():
        path = out / f"by_{dim}.csv"
        neutralise_formulas(table.rename({"group": dim})).write_csv(path)
        written[f"by_{dim}"] = path
    for name, table in (("pareto", study.pareto), ("what_failed", study.what_failed)):
        path = out / f"{name}.csv"
        neutralise_formulas(table).write_csv(path)
        written[name] = path
    path = out / "suggest.csv"
    neutralise_formulas(
        study.suggestions.with_columns(
            pl.col("text").map_elements(mask_identifiers, return_dtype=pl.String)
        )
    ).write_csv(path)
    written["suggest"] = path
    if study.rejected_labels.height:
        path = out / "rejected_labels.csv"
        neutralise_formulas(study.rejected_labels).write_csv(path)
        written["rejected_labels"] = path
    if charts:
        from systemic.learn import render_chart

        folder = out / "charts"
        folder.mkdir(exist_ok=True)
        specs = {
            f"failure_share_by_{d}": share_chart(t, d, study.estimate.share)
            for d, t in study.by.items()
        }
        specs["failure_demand_pareto"] = pareto_chart(study.pareto)
        for name, spec in specs.items():
            svg, _png = render_chart(spec, folder / name)
            written[f"chart_{name}"] = svg
    return written
