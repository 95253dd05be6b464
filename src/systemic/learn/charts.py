"""Charts of a learn run, as Vega-Lite specs rendered offline (SVG and PNG).

Each chart is built from a *published* table (small numbers already
suppressed), so a chart never shows what a table would hide. Building a spec
and rendering it are separate: :func:`learn_charts` returns specs,
:func:`render_chart` writes files with ``vl_convert`` (no network).

>>> import polars as pl
>>> spec = end_to_end_chart(pl.DataFrame({"band": ["0-1 days", "1-2 days"],
...     "episodes": ["12", "<5"]}))
>>> spec["mark"]["type"]
'bar'
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import polars as pl

Spec = dict[str, Any]

_FONT = "sans-serif"
_CONFIG: Spec = {
    "font": _FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 11, "titleFontSize": 12},
    "title": {"fontSize": 14, "anchor": "start"},
}


def _visible(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    """Rows whose published value is a number (suppressed cells are left out)."""
    return frame.filter(pl.col(col).cast(pl.Float64, strict=False).is_not_null()).with_columns(
        pl.col(col).cast(pl.Float64)
    )


def _base(title: str, subtitle: str | None = None) -> Spec:
    t: Spec = {"text": title}
    if subtitle:
        t["subtitle"] = subtitle
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": t,
        "config": _CONFIG,
        "background": "white",
    }


def _empty(title: str, message: str) -> Spec:
    spec = _base(title)
    spec.update(
        {
            "width": 480,
            "height": 120,
            "data": {"values": [{"message": message}]},
            "mark": {"type": "text", "fontSize": 13, "color": "#555"},
            "encoding": {"text": {"field": "message", "type": "nominal"}},
        }
    )
    return spec


def pareto_chart(pareto: pl.DataFrame, top: int = 15) -> Spec:
    """Pareto of failure-demand types: bars of contacts and the cumulative share."""
    title = "Classified failure demand by type (Pareto)"
    rows = _visible(pareto, "contacts").head(top)
    if rows.height == 0:
        return _empty(title, "No contact classified as failure demand (or all counts under 5)")
    total = rows["contacts"].sum()
    values = rows.select(
        pl.col("demand_type").cast(pl.String),
        "contacts",
        (pl.col("contacts").cum_sum() / total).alias("cumulative"),
    ).to_dicts()
    spec = _base(title, "Contacts classed as failure demand; line: cumulative share of those shown")
    order = [v["demand_type"] for v in values]
    x = {
        "field": "demand_type",
        "type": "nominal",
        "sort": order,
        "title": None,
        "axis": {"labelAngle": -40, "labelLimit": 160},
    }
    spec.update(
        {
            "width": max(320, 36 * len(values)),
            "height": 260,
            "data": {"values": values},
            "layer": [
                {
                    "mark": {"type": "bar", "color": "#b8473e"},
                    "encoding": {
                        "x": x,
                        "y": {"field": "contacts", "type": "quantitative", "title": "Contacts"},
                    },
                },
                {
                    "mark": {"type": "line", "color": "#333", "point": True},
                    "encoding": {
                        "x": x,
                        "y": {
                            "field": "cumulative",
                            "type": "quantitative",
                            "title": "Cumulative share",
                            "axis": {"format": "%"},
                            "scale": {"domain": [0, 1]},
                        },
                    },
                },
            ],
            "resolve": {"scale": {"y": "independent"}},
        }
    )
    return spec


def end_to_end_chart(distribution: pl.DataFrame) -> Spec:
    """Distribution of the time of needs (episodes), first to last event, by time band."""
    title = "Time of needs, first to last event"
    rows = distribution.with_columns(
        pl.col("episodes").cast(pl.Float64, strict=False).alias("shown")
    )
    if rows["shown"].drop_nulls().sum() == 0:
        return _empty(title, "No needs to show")
    values = rows.select(pl.col("band"), pl.col("shown").alias("episodes")).to_dicts()
    spec = _base(
        title,
        "Needs (a person's events with no long gap, never cutting a case) by time from "
        "first to last event (bands under 5 not shown)",
    )
    spec.update(
        {
            "width": 520,
            "height": 240,
            "data": {"values": values},
            "mark": {"type": "bar", "color": "#3e6fb8"},
            "encoding": {
                "x": {
                    "field": "band",
                    "type": "ordinal",
                    "sort": [v["band"] for v in values],
                    "title": "Time of the need",
                    "axis": {"labelAngle": -30},
                },
                "y": {"field": "episodes", "type": "quantitative", "title": "Needs"},
            },
        }
    )
    return spec


def hand_offs_chart(localities: pl.DataFrame) -> Spec:
    """Mean hand-offs per need by locality."""
    title = "Hand-offs per need by locality"
    rows = _visible(localities, "mean_hand_offs")
    if rows.height == 0:
        return _empty(title, "No locality with enough needs to show")
    values = rows.select(pl.col("locality"), pl.col("mean_hand_offs")).to_dicts()
    spec = _base(
        title, "Mean hand-offs between services per need (localities under 5 needs hidden)"
    )
    spec.update(
        {
            "width": 480,
            "height": max(80, 26 * len(values)),
            "data": {"values": values},
            "mark": {"type": "bar", "color": "#6a8f3e"},
            "encoding": {
                "y": {"field": "locality", "type": "nominal", "sort": "-x", "title": None},
                "x": {
                    "field": "mean_hand_offs",
                    "type": "quantitative",
                    "title": "Mean hand-offs per need",
                },
                "tooltip": [{"field": "locality"}, {"field": "mean_hand_offs", "format": ".2f"}],
            },
        }
    )
    return spec


def journey_map_chart(edges: pl.DataFrame, starts: pl.DataFrame, top: int = 40) -> Spec:
    """The service-level journey map: services on a circle, hand-offs as weighted arrows."""
    title = "Journey map across services"
    shown = _visible(edges, "count").head(top)
    if shown.height == 0:
        return _empty(title, "No hand-offs between services (or all counts under 5)")
    nodes = sorted(set(shown["from"].to_list()) | set(shown["to"].to_list()))
    volume = {n: 0.0 for n in nodes}
    for row in shown.iter_rows(named=True):  # a few dozen edges, not events
        volume[row["from"]] += row["count"]
        volume[row["to"]] += row["count"]
    order = sorted(nodes, key=lambda n: (-volume[n], n))
    pos = {
        n: (math.cos(2 * math.pi * i / len(order)), math.sin(2 * math.pi * i / len(order)))
        for i, n in enumerate(order)
    }
    starts_v = {r["service"]: r["count"] for r in _visible(starts, "count").iter_rows(named=True)}
    node_values = [
        {
            "service": n,
            "x": pos[n][0],
            "y": pos[n][1],
            "volume": volume[n],
            "starts": starts_v.get(n, 0),
            "label_x": pos[n][0] * 1.12,
            "label_y": pos[n][1] * 1.12,
            "align": "left" if pos[n][0] > 0.2 else ("right" if pos[n][0] < -0.2 else "center"),
        }
        for n in order
    ]
    edge_values = []
    for row in shown.iter_rows(named=True):
        (x1, y1), (x2, y2) = pos[row["from"]], pos[row["to"]]
        # offset each direction sideways so A->B and B->A do not overlap
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        ox, oy = -dy / length * 0.025, dx / length * 0.025
        edge_values.append(
            {
                "from": row["from"],
                "to": row["to"],
                "count": row["count"],
                "x": x1 + ox,
                "y": y1 + oy,
                "x2": x2 + ox,
                "y2": y2 + oy,
                "ax": x1 + ox + dx * 0.8,
                "ay": y1 + oy + dy * 0.8,
                "lx": x1 + ox + dx * 0.55,
                "ly": y1 + oy + dy * 0.55,
                "angle": math.degrees(math.atan2(dx, dy)) % 360,
            }
        )
    scale = {"domain": [-1.6, 1.6]}
    axis_off = {"axis": None, "scale": scale}
    xq = lambda f: {"field": f, "type": "quantitative", **axis_off}  # noqa: E731
    width = {
        "field": "count",
        "type": "quantitative",
        "title": "Hand-offs",
        "scale": {"range": [0.8, 9]},
    }
    spec = _base(
        title, "Hand-offs between services within episodes; line width = number of hand-offs"
    )
    spec.update(
        {
            "width": 640,
            "height": 640,
            "layer": [
                {
                    "data": {"values": edge_values},
                    "mark": {"type": "rule", "color": "#7d8fa8", "opacity": 0.7},
                    "encoding": {
                        "x": xq("x"),
                        "y": xq("y"),
                        "x2": {"field": "x2"},
                        "y2": {"field": "y2"},
                        "strokeWidth": width,
                        "tooltip": [{"field": "from"}, {"field": "to"}, {"field": "count"}],
                    },
                },
                {
                    "data": {"values": edge_values},
                    "mark": {
                        "type": "point",
                        "shape": "triangle-up",
                        "filled": True,
                        "color": "#4a5d78",
                        "size": 70,
                    },
                    "encoding": {
                        "x": xq("ax"),
                        "y": xq("ay"),
                        "angle": {
                            "field": "angle",
                            "type": "quantitative",
                            "scale": {"domain": [0, 360], "range": [0, 360]},
                        },
                    },
                },
                {
                    "data": {"values": edge_values},
                    "mark": {"type": "text", "fontSize": 9, "color": "#222", "dy": -4},
                    "encoding": {"x": xq("lx"), "y": xq("ly"), "text": {"field": "count"}},
                },
                {
                    "data": {"values": node_values},
                    "mark": {"type": "circle", "color": "#e0a030", "opacity": 0.9},
                    "encoding": {
                        "x": xq("x"),
                        "y": xq("y"),
                        "size": {
                            "field": "volume",
                            "type": "quantitative",
                            "scale": {"range": [80, 900]},
                            "legend": None,
                        },
                    },
                },
                *[
                    {
                        "data": {"values": node_values},
                        "transform": [{"filter": f"datum.align == '{align}'"}],
                        "mark": {
                            "type": "text",
                            "fontSize": 10,
                            "fontWeight": "bold",
                            "align": align,
                        },
                        "encoding": {
                            "x": xq("label_x"),
                            "y": xq("label_y"),
                            "text": {"field": "service"},
                        },
                    }
                    for align in ("left", "right", "center")
                ],
            ],
        }
    )
    return spec


def learn_charts(published: dict[str, pl.DataFrame]) -> dict[str, Spec]:
    """The four charts of a learn run, from its published tables."""
    return {
        "failure_demand_pareto": pareto_chart(published["failure_demand_pareto"]),
        "end_to_end_times": end_to_end_chart(published["end_to_end_distribution"]),
        "journey_map": journey_map_chart(published["service_edges"], published["service_starts"]),
        "hand_offs_by_locality": hand_offs_chart(published["localities"]),
    }


_warm_up: threading.Thread | None = None


def warm_up_renderer() -> threading.Thread:
    """Start the chart renderer in the background, once; returns the thread.

    ``vl_convert`` spends its first call (0.4-2 s) starting its JavaScript
    engine. A command that will draw charts after learning starts it here
    first, so that start-up overlaps learning instead of following it;
    :func:`systemic.learn.write_outputs` starts it before writing tables.
    A second call returns the first call's thread.

    >>> warm_up_renderer().join()
    """
    global _warm_up
    if _warm_up is not None:
        return _warm_up

    def start() -> None:
        import vl_convert as vlc

        vlc.vegalite_to_svg(_empty("", ""))

    _warm_up = threading.Thread(target=start, name="systemic-chart-warm-up", daemon=True)
    _warm_up.start()
    return _warm_up


def render_chart(spec: Spec, stem: str | Path, scale: float = 2.0) -> tuple[Path, Path]:
    """Write ``<stem>.svg`` and ``<stem>.png`` from a Vega-Lite spec, offline."""
    import vl_convert as vlc

    stem = Path(stem)
    svg, png = stem.with_suffix(".svg"), stem.with_suffix(".png")
    # the PNG is rasterised from the SVG, not laid out a second time
    text = vlc.vegalite_to_svg(spec)
    svg.write_text(text, encoding="utf-8")
    png.write_bytes(vlc.svg_to_png(text, scale=scale))
    return svg, png
