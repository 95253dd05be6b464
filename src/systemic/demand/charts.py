"""Charts of a demand study as Vega-Lite specs (rendered offline by vl-convert).

Every chart draws an estimate *with* its 95% interval: a point and a line
from low to high. Groups with too few labels for an estimate are left out
and the subtitle says so.

>>> import polars as pl
>>> t = pl.DataFrame({"group": ["A", "B"], "share": [0.4, None], "low": [0.3, None],
...                   "high": [0.5, None], "labelled": [40, 3]})
>>> spec = share_chart(t, "service", overall=0.42)
>>> len(spec["layer"][0]["data"]["values"]), "1 group" in spec["title"]["subtitle"]
(1, True)
"""

from __future__ import annotations

from typing import Any

import polars as pl

Spec = dict[str, Any]

_CONFIG: Spec = {
    "font": "sans-serif",
    "view": {"stroke": None},
    "axis": {"labelFontSize": 11, "titleFontSize": 12},
    "title": {"fontSize": 14, "anchor": "start"},
}


def _base(title: str, subtitle: str) -> Spec:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": title, "subtitle": subtitle},
        "config": _CONFIG,
        "background": "white",
        "width": 420,
    }


def share_chart(
    table: pl.DataFrame, dimension: str, overall: float | None = None, *, value: str = "share"
) -> Spec:
    """Failure-demand share by ``dimension``, each with its 95% interval.

    ``table`` has group, ``value`` (default ``share``: classifier-corrected)
    and low/high, or pass ``value="labelled_share"`` with labelled_low/high.
    """
    low, high = ("low", "high") if value == "share" else ("labelled_low", "labelled_high")
    shown = table.filter(pl.col(value).is_not_null())
    left_out = table.height - shown.height
    note = f"; {left_out} group{'s' if left_out != 1 else ''} with too few labels left out"
    values = [
        {"group": str(r["group"]), "share": r[value], "low": r[low], "high": r[high]}
        for r in shown.iter_rows(named=True)
    ]
    x = {
        "type": "quantitative",
        "axis": {"format": "%", "title": "failure demand share"},
        "scale": {"domain": [0, 1]},
    }
    y = {"field": "group", "type": "nominal", "sort": "-x", "title": dimension}
    layers: list[Spec] = [
        {
            "data": {"values": values},
            "mark": {"type": "rule", "strokeWidth": 2, "color": "#5b7a99"},
            "encoding": {"y": y, "x": {"field": "low", **x}, "x2": {"field": "high"}},
        },
        {
            "data": {"values": values},
            "mark": {"type": "point", "filled": True, "size": 60, "color": "#1f3b57"},
            "encoding": {
                "y": y,
                "x": {"field": "share", **x},
                "tooltip": [
                    {"field": "group"},
                    {"field": "share", "format": ".0%"},
                    {"field": "low", "format": ".0%"},
                    {"field": "high", "format": ".0%"},
                ],
            },
        },
    ]
    if overall is not None:
        layers.append(
            {
                "data": {"values": [{"overall": overall}]},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#b04a2f"},
                "encoding": {"x": {"field": "overall", **x}},
            }
        )
    what = "corrected classifier estimate" if value == "share" else "labelled sample alone"
    spec = _base(
        f"Failure demand by {dimension}",
        f"{what}, 95% intervals; dashed: all contacts" + (note if left_out else ""),
    )
    spec["layer"] = layers
    spec["height"] = max(60, 24 * len(values))
    return spec


def pareto_chart(pareto: pl.DataFrame, field: str = "demand_type") -> Spec:
    """Failure demand types as shares of labelled failure demand, with Wilson intervals."""
    shown = pareto.filter(pl.col("share").is_not_null())
    values = [
        {"type": str(r[field]), "share": r["share"], "low": r["low"], "high": r["high"]}
        for r in shown.iter_rows(named=True)
    ]
    x = {"type": "quantitative", "axis": {"format": "%", "title": "share of failure demand"}}
    y = {"field": "type", "type": "nominal", "sort": None, "title": None}
    spec = _base(
        "What the failure demand is",
        "share of labelled failure contacts by type, 95% intervals (Wilson)",
    )
    spec["height"] = max(60, 22 * len(values))
    spec["layer"] = [
        {
            "data": {"values": values},
            "mark": {"type": "bar", "color": "#c9d6e3"},
            "encoding": {"y": y, "x": {"field": "share", **x}},
        },
        {
            "data": {"values": values},
            "mark": {"type": "rule", "color": "#1f3b57"},
            "encoding": {"y": y, "x": {"field": "low", **x}, "x2": {"field": "high"}},
        },
    ]
    return spec
