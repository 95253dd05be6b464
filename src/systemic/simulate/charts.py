"""Charts of simulated series with uncertainty bands (Vega-Lite, rendered offline).

Compute first, draw second: these functions take the band tables of
:func:`systemic.simulate.run_ensemble` or :func:`systemic.simulate.compare`
and return Vega-Lite specifications; :func:`save_chart` renders them to SVG
and PNG with ``vl_convert`` (no network).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

#: What each metric is called on a chart.
METRIC_TITLES: dict[str, str] = {
    "contacts": "Contacts (all demand)",
    "value_demand": "Value demand (contacts)",
    "failure_demand": "Failure demand (contacts)",
    "crises": "Crisis episodes (A&E)",
    "hand_offs": "Hand-offs",
    "waiting": "People waiting",
    "cost": "Cost per step (£)",
    "wellbeing_mean": "Mean wellbeing (0-1)",
    "below_need": "People below the need threshold",
    "residential_care": "People in residential care",
}

CHART_METRICS = ("contacts", "failure_demand", "crises", "cost", "wellbeing_mean", "waiting")


def band_chart(
    band: pl.DataFrame,
    *,
    metrics: tuple[str, ...] = CHART_METRICS,
    title: str = "",
    series_column: str | None = None,
) -> dict[str, Any]:
    """A grid of line-and-band charts, one per metric: median, 80% and 95% bands.

    ``band`` has columns ``date``, ``metric``, ``median``, ``p10``, ``p90``,
    ``p2_5``, ``p97_5`` (and ``series_column`` to draw several series).

    >>> f = pl.DataFrame({"date": ["2025-01-06"], "metric": ["cost"], "median": [1.0],
    ...     "p10": [0.5], "p90": [1.5], "p2_5": [0.2], "p97_5": [1.8]})
    >>> band_chart(f, metrics=("cost",))["facet"]["field"]
    'title'
    """
    data = band.filter(pl.col("metric").is_in(list(metrics))).with_columns(
        pl.col("date").cast(pl.String),
        pl.col("metric").replace_strict(METRIC_TITLES, default=pl.col("metric")).alias("title"),
    )
    color: dict[str, Any] = (
        {"field": series_column, "type": "nominal", "title": None}
        if series_column
        else {"value": "#1f5f8b"}
    )
    x = {"field": "date", "type": "temporal", "title": None}
    layers = [
        {
            "mark": {"type": "area", "opacity": 0.15},
            "encoding": {
                "x": x,
                "y": {"field": "p2_5", "type": "quantitative", "title": None},
                "y2": {"field": "p97_5"},
                "color": color,
            },
        },
        {
            "mark": {"type": "area", "opacity": 0.3},
            "encoding": {
                "x": x,
                "y": {"field": "p10", "type": "quantitative"},
                "y2": {"field": "p90"},
                "color": color,
            },
        },
        {
            "mark": {"type": "line", "strokeWidth": 1.5},
            "encoding": {
                "x": x,
                "y": {"field": "median", "type": "quantitative"},
                "color": color,
            },
        },
    ]
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": data.to_dicts()},
        "facet": {"field": "title", "type": "nominal", "title": None},
        "columns": 2,
        "spec": {"width": 320, "height": 160, "layer": layers},
        "resolve": {"scale": {"y": "independent"}},
        "config": {"font": "sans-serif"},
    }
    if title:
        spec["title"] = title
    return spec


def save_chart(spec: dict[str, Any], stem: str | Path) -> list[Path]:
    """Render ``spec`` to ``<stem>.svg`` and ``<stem>.png``; returns both paths."""
    import vl_convert

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    svg = stem.with_suffix(".svg")
    png = stem.with_suffix(".png")
    svg.write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    png.write_bytes(vl_convert.vegalite_to_png(spec, scale=1.5))
    return [svg, png]
