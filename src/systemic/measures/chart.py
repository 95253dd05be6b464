"""SPC charts in the Making Data Count style, as Vega-Lite rendered offline.

Grey dots are common cause, blue special-cause improvement, orange concern and
purple neutral; limits are dashed, the mean solid, the target red; the
variation and assurance icons are drawn in the top right corner. Rendering
uses ``vl_convert``: no browser, no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import vl_convert

from systemic.measures.funnel import FunnelResult
from systemic.measures.spc import SPCResult
from systemic.measures.summary import assurance_icon, variation_icon

#: Point colours (Making Data Count palette, as in NHSRplotthedots).
COLOURS: dict[str, str] = {
    "common_cause": "#7B7D7D",
    "special_cause_improvement": "#289DE0",
    "special_cause_concern": "#FAB428",
    "special_cause_neutral_high": "#361475",
    "special_cause_neutral_low": "#361475",
}
LABELS: dict[str, str] = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Improvement",
    "special_cause_concern": "Concern",
    "special_cause_neutral_high": "Neutral (high)",
    "special_cause_neutral_low": "Neutral (low)",
}
LINE_GREY = "#A6A6A6"
TARGET_RED = "#DE1B1B"
WIDTH, HEIGHT = 720, 360

_CHART_NAMES = {
    "xmr": "XmR chart",
    "p": "p-chart (proportion)",
    "u": "u-chart (rate)",
    "c": "c-chart (count)",
    "t": "t-chart (time between events)",
    "g": "g-chart (opportunities between events)",
}


def _variation_glyph(result: SPCResult) -> tuple[str, str]:
    """(letter, colour) of the variation icon: H or L for the signal's side."""
    kind = variation_icon(result)
    if kind is None or kind == "common_cause":
        return "~", COLOURS["common_cause"]
    if kind.startswith("special_cause_neutral"):
        return ("H" if kind.endswith("high") else "L"), COLOURS[kind]
    up = result.options.improvement == "increase"
    improving = kind == "special_cause_improvement"
    return ("H" if up == improving else "L"), COLOURS[kind]


def _icon_rows(result: SPCResult) -> list[dict[str, Any]]:
    letter, colour = _variation_glyph(result)
    rows = [
        {"x": WIDTH - 80, "glyph": letter, "colour": colour, "name": "variation"},
    ]
    assurance = assurance_icon(result)
    if assurance is not None:
        glyph, colour = {
            "consistent_pass": ("P", COLOURS["special_cause_improvement"]),
            "consistent_fail": ("F", COLOURS["special_cause_concern"]),
            "inconsistent": ("?", COLOURS["common_cause"]),
        }[assurance]
        rows.append({"x": WIDTH - 30, "glyph": glyph, "colour": colour, "name": "assurance"})
    return rows


def chart_spec(
    result: SPCResult,
    *,
    title: str | None = None,
    y_title: str = "value",
    markers: Sequence[date | datetime] = (),
    notes: Sequence[str] = (),
    events: Sequence[tuple[date | datetime, str, str]] = (),
) -> dict[str, Any]:
    """The Vega-Lite specification of an SPC chart (render it with :func:`render_svg`).

    Rebase dates, and any ``markers`` (an experiment's start), are drawn as thin
    vertical lines. ``events`` are labelled lines: ``(date, label, kind)`` with
    kind ``"experiment"`` (a dark dashed line) or anything else (a dotted one,
    e.g. an annotation), the label written along the line. A baseline period
    (``result.options.baseline``) is shaded. ``notes`` (what was suppressed or
    left out) are printed under the title. A missing or suppressed point is a
    gap: neither the value line nor the limits are drawn across it.

    >>> import polars as pl
    >>> from systemic.measures import xmr_chart
    >>> frame = pl.DataFrame({"date": pl.date_range(
    ...     pl.date(2024, 1, 1), pl.date(2024, 1, 5), eager=True), "value": [1, 2, 3, 2, 1]})
    >>> chart_spec(xmr_chart(frame))["$schema"].startswith("https://vega.github.io")
    True
    """
    points = result.points.with_columns(
        pl.col("date").cast(pl.String),
        pl.col("point_type")
        .replace_strict(LABELS, default=None, return_dtype=pl.String)
        .alias("point_label"),
    )
    columns = ["date", "value", "group", "mean", "lpl", "upl", "point_type", "point_label"]
    records = points.select(columns).to_dicts()
    x = {"field": "date", "type": "temporal", "title": None}
    legend_order = [LABELS[k] for k in COLOURS]
    line = {"type": "line", "strokeWidth": 1.5}

    def limit_layer(field: str, dash: list[int] | None) -> dict[str, Any]:
        mark: dict[str, Any] = {
            **line,
            "color": "#333333" if dash is None else LINE_GREY,
            "invalid": "break-paths-filter-domains",
        }
        if result.options.chart in ("p", "u"):
            mark["interpolate"] = "step"  # each point's own limits, centred on it
        if dash:
            mark["strokeDash"] = dash
        return {
            "mark": mark,
            "encoding": {
                "x": x,
                "y": {"field": field, "type": "quantitative"},
                "detail": {"field": "group", "type": "nominal"},
            },
        }

    layers: list[dict[str, Any]] = [
        limit_layer("upl", [6, 4]),
        limit_layer("lpl", [6, 4]),
        limit_layer("mean", None),
        {
            "mark": {
                "type": "line",
                "color": LINE_GREY,
                "strokeWidth": 1.5,
                "invalid": "break-paths-filter-domains",
            },
            "encoding": {
                "x": x,
                "y": {
                    "field": "value",
                    "type": "quantitative",
                    "title": y_title,
                    "scale": {"zero": False},
                },
            },
        },
        {
            "mark": {"type": "circle", "size": 60, "opacity": 1},
            "transform": [{"filter": "datum.point_label != null"}],
            "encoding": {
                "x": x,
                "y": {"field": "value", "type": "quantitative"},
                "color": {
                    "field": "point_label",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": legend_order, "range": list(COLOURS.values())},
                    "legend": {"orient": "bottom"},
                },
                "tooltip": [
                    {"field": "date", "type": "temporal"},
                    {"field": "value", "type": "quantitative"},
                    {"field": "point_label", "type": "nominal", "title": "point"},
                ],
            },
        },
    ]
    if result.options.target is not None:
        layers.append(
            {
                "data": {"values": [{"target": result.options.target}]},
                "mark": {"type": "rule", "color": TARGET_RED, "strokeDash": [2, 2]},
                "encoding": {"y": {"field": "target", "type": "quantitative"}},
            }
        )
    lines = [*result.options.rebase, *markers]
    if lines:
        layers.append(
            {
                "data": {"values": [{"at": str(d)} for d in lines]},
                "mark": {"type": "rule", "color": "#BBBBBB", "strokeWidth": 1},
                "encoding": {"x": {"field": "at", "type": "temporal"}},
            }
        )
    if result.options.baseline is not None:
        first, last = result.options.baseline
        dates = result.points["date"]
        start = max(first.date(), _as_date(dates.min()))
        end = min(last.date(), _as_date(dates.max()))
        layers.insert(
            0,
            {
                "data": {"values": [{"start": str(start), "end": str(end), "label": "baseline"}]},
                "mark": {"type": "rect", "color": "#EEEEEE"},
                "encoding": {
                    "x": {"field": "start", "type": "temporal"},
                    "x2": {"field": "end"},
                },
            },
        )
    if events:
        rows = [
            {"at": str(_as_date(at)), "label": label, "kind": kind} for at, label, kind in events
        ]
        for kind, colour, dash in (("experiment", "#333333", [5, 3]), ("other", "#8A6D3B", [1, 3])):
            chosen = [r for r in rows if (r["kind"] == "experiment") == (kind == "experiment")]
            if not chosen:
                continue
            layers.append(
                {
                    "data": {"values": chosen},
                    "mark": {"type": "rule", "color": colour, "strokeDash": dash},
                    "encoding": {"x": {"field": "at", "type": "temporal"}},
                }
            )
            layers.append(
                {
                    "data": {"values": chosen},
                    "mark": {
                        "type": "text",
                        "angle": 270,
                        "align": "right",
                        "baseline": "bottom",
                        "dx": -4,
                        "dy": -2,
                        "fontSize": 10,
                        "color": colour,
                    },
                    "encoding": {
                        "x": {"field": "at", "type": "temporal"},
                        "y": {"value": 0},
                        "text": {"field": "label"},
                    },
                }
            )
    icons = {"values": _icon_rows(result)}
    layers.append(
        {
            "data": icons,
            "mark": {"type": "circle", "size": 900, "opacity": 1, "stroke": "white"},
            "encoding": {
                "x": {"field": "x", "type": "quantitative", "scale": None},
                "y": {"value": -28},
                "color": {"field": "colour", "type": "nominal", "scale": None},
            },
        }
    )
    layers.append(
        {
            "data": icons,
            "mark": {
                "type": "text",
                "fontSize": 15,
                "fontWeight": "bold",
                "color": "white",
                "baseline": "middle",
            },
            "encoding": {
                "x": {"field": "x", "type": "quantitative", "scale": None},
                "y": {"value": -28},
                "text": {"field": "glyph"},
            },
        }
    )
    name = _CHART_NAMES[result.options.chart]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {
            "text": title or name,
            "subtitle": [_subtitle(result), *[_capital(n) + "." for n in notes]],
            "anchor": "start",
        },
        "width": WIDTH,
        "height": HEIGHT,
        "background": "white",
        "data": {"values": records},
        "layer": layers,
        "resolve": {"scale": {"color": "independent"}},
        "config": {
            "view": {"stroke": None},
            "axis": {"grid": False, "labelOverlap": "greedy", "labelSeparation": 8},
        },
    }


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _subtitle(result: SPCResult) -> str:
    options = result.options
    parts = [f"improvement: {options.improvement}", f"rules: {options.rules}"]
    if options.target is not None:
        parts.append(f"target: {options.target:g}")
    if options.baseline is not None:
        parts.append("limits fixed on a baseline")
    if options.rebase:
        parts.append(f"{len(options.rebase)} rebase(s)")
    return " · ".join(parts)


def render_svg(spec: dict[str, Any]) -> str:
    """Render a Vega-Lite specification to SVG text, offline."""
    return str(vl_convert.vegalite_to_svg(vl_spec=spec))


def render_png(spec: dict[str, Any], scale: float = 2.0) -> bytes:
    """Render a Vega-Lite specification to PNG bytes, offline."""
    return bytes(vl_convert.vegalite_to_png(vl_spec=spec, scale=scale))


def write_chart(
    result: SPCResult,
    directory: str | Path,
    *,
    stem: str = "spc",
    title: str | None = None,
    y_title: str = "value",
    markers: Sequence[date | datetime] = (),
    notes: Sequence[str] = (),
) -> tuple[Path, Path]:
    """Write ``<stem>.svg`` and ``<stem>.png`` of an SPC result into ``directory``.

    >>> import polars as pl, tempfile
    >>> from systemic.measures import xmr_chart
    >>> frame = pl.DataFrame({"date": pl.date_range(
    ...     pl.date(2024, 1, 1), pl.date(2024, 1, 5), eager=True), "value": [1, 2, 3, 2, 1]})
    >>> svg, png = write_chart(xmr_chart(frame), tempfile.mkdtemp())
    >>> png.stat().st_size > 1000
    True
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    spec = chart_spec(result, title=title, y_title=y_title, markers=markers, notes=notes)
    svg_path, png_path = folder / f"{stem}.svg", folder / f"{stem}.png"
    svg_path.write_text(render_svg(spec), encoding="utf-8")
    png_path.write_bytes(render_png(spec))
    return svg_path, png_path


def funnel_spec(
    result: FunnelResult,
    *,
    title: str = "Funnel plot",
    y_title: str = "value",
    x_title: str = "denominator",
) -> dict[str, Any]:
    """Vega-Lite specification of a funnel plot: localities, target, 95% and 99.8% limits.

    >>> import polars as pl
    >>> from systemic.measures import funnel_plot
    >>> frame = pl.DataFrame({"locality": ["North", "South", "East"],
    ...                       "numerator": [30, 70, 40], "denominator": [100, 150, 90]})
    >>> len(funnel_spec(funnel_plot(frame))["layer"])
    6
    """
    n = result.localities["denominator"]
    smallest, largest = float(n.min() or 1.0), float(n.max() or 1.0)  # type: ignore[arg-type]
    grid = np.geomspace(max(smallest / 2, 1.0), largest * 1.2, 120)
    curves = result.limits_at(grid).to_dicts()
    colour = {
        "within": COLOURS["common_cause"],
        "above_95": COLOURS["special_cause_neutral_high"],
        "above_99.8": COLOURS["special_cause_neutral_high"],
        "below_95": COLOURS["special_cause_neutral_high"],
        "below_99.8": COLOURS["special_cause_neutral_high"],
    }
    points = result.localities.with_columns(
        pl.col("position").replace_strict(colour, return_dtype=pl.String).alias("colour")
    ).to_dicts()
    x = {"field": "denominator", "type": "quantitative", "title": x_title}

    def curve(field: str, dash: list[int]) -> dict[str, Any]:
        return {
            "data": {"values": curves},
            "mark": {"type": "line", "color": LINE_GREY, "strokeDash": dash},
            "encoding": {"x": x, "y": {"field": field, "type": "quantitative"}},
        }

    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {
            "text": title,
            "subtitle": f"target {result.target * result.per:.4g}; dashed 95%, dotted 99.8%; "
            + widening_words(result),
            "anchor": "start",
        },
        "width": WIDTH,
        "height": HEIGHT,
        "background": "white",
        "layer": [
            curve("lower_95", [6, 4]),
            curve("upper_95", [6, 4]),
            curve("lower_998", [2, 2]),
            curve("upper_998", [2, 2]),
            {
                "data": {"values": [{"target": result.target * result.per}]},
                "mark": {"type": "rule", "color": "#333333"},
                "encoding": {
                    "y": {
                        "field": "target",
                        "type": "quantitative",
                        "title": y_title,
                        "scale": {"zero": False},
                    }
                },
            },
            {
                "data": {"values": points},
                "layer": [
                    {
                        "mark": {"type": "circle", "size": 80, "opacity": 1},
                        "encoding": {
                            "x": x,
                            "y": {"field": "value", "type": "quantitative"},
                            "color": {"field": "colour", "type": "nominal", "scale": None},
                            "tooltip": [
                                {"field": "locality"},
                                {"field": "value", "type": "quantitative"},
                                {"field": "position"},
                            ],
                        },
                    },
                    {
                        "mark": {"type": "text", "dx": 8, "align": "left", "fontSize": 11},
                        "encoding": {
                            "x": x,
                            "y": {"field": "value", "type": "quantitative"},
                            "text": {"field": "locality"},
                        },
                    },
                ],
            },
        ],
        "config": {"view": {"stroke": None}, "axis": {"grid": False}},
    }


def widening_words(result: FunnelResult) -> str:
    """Whether, and how much, a funnel's limits were widened for overdispersion, in words.

    >>> import polars as pl
    >>> from systemic.measures import funnel_plot
    >>> frame = pl.DataFrame({"locality": list("ABCD"), "numerator": [10, 50, 20, 80],
    ...                       "denominator": [100, 100, 100, 100]})
    >>> widening_words(funnel_plot(frame))
    'limits from chance alone (not widened for overdispersion)'
    >>> widening_words(funnel_plot(frame, overdispersion="multiplicative"))
    'limits widened 4.8 times for overdispersion (multiplicative, φ = 22.8)'
    """
    if result.overdispersion == "none":
        return "limits from chance alone (not widened for overdispersion)"
    n = result.localities["denominator"]
    typical = float(n.median()) if n.len() else 1.0  # type: ignore[arg-type]
    factor = result.widening(typical)
    if factor <= 1.0 + 1e-9:
        return (
            f"no overdispersion found ({result.overdispersion}, φ = {result.phi:.2f}): "
            "limits not widened"
        )
    if result.overdispersion == "multiplicative":
        return (
            f"limits widened {factor:.1f} times for overdispersion "
            f"(multiplicative, φ = {result.phi:.1f})"
        )
    return (
        f"limits widened {factor:.1f} times at the median denominator for overdispersion "
        f"(additive, τ² = {result.tau2:.3g})"
    )


def write_funnel_chart(
    result: FunnelResult, directory: str | Path, *, stem: str = "funnel", title: str = "Funnel plot"
) -> tuple[Path, Path]:
    """Write ``<stem>.svg`` and ``<stem>.png`` of a funnel plot into ``directory``."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    spec = funnel_spec(result, title=title)
    svg_path, png_path = folder / f"{stem}.svg", folder / f"{stem}.png"
    svg_path.write_text(render_svg(spec), encoding="utf-8")
    png_path.write_bytes(render_png(spec))
    return svg_path, png_path
