"""A measure's uploaded series as an SPC chart (from ``systemic.measures``).

The chart is drawn offline by vl-convert, which takes a moment, so the
measure's page asks for it after loading (htmx); without JavaScript the
page links to it instead.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.site import render
from systemic.web.security.identity import require_role

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_role("viewer"))])

#: Fewer points than this make no useful chart.
MIN_POINTS = 3

VARIATION_WORDS = {
    "common_cause": "Common cause variation: no sign of change beyond the usual ups and downs.",
    "special_cause_improvement": "Special cause: a change in the direction of improvement.",
    "special_cause_concern": "Special cause: a change in the direction of concern.",
    "special_cause_neutral_high": "Special cause: a shift upwards, beyond the usual variation.",
    "special_cause_neutral_low": "Special cause: a shift downwards, beyond the usual variation.",
}


def measure_chart(measure: Any) -> dict[str, Any]:
    """The SVG chart and a plain-words reading of a measure's series.

    Direction of improvement is not recorded on a measure, so points are
    classed as neutral: the chart shows change, not whether it is good.
    """
    from systemic.measures import MeasuresError, summarise, variation_icon, xmr_chart
    from systemic.measures.chart import chart_spec, render_svg

    points = sorted(measure.series, key=lambda p: p.period)
    if len(points) < MIN_POINTS:
        reading = f"A chart needs at least {MIN_POINTS} values."
        return {"svg": "", "reading": reading, "rows": points}
    frame = pl.DataFrame(
        {"date": [p.period for p in points], "value": [float(p.value) for p in points]}
    )
    try:
        result = xmr_chart(frame, improvement="neutral")
        svg = render_svg(chart_spec(result, title=measure.name))
    except MeasuresError as error:
        return {"svg": "", "reading": f"No chart: {error}", "rows": points}
    summary = summarise(result)
    group = summary["groups"][-1] if summary["groups"] else {}
    reading = VARIATION_WORDS.get(variation_icon(result) or "", "")
    return {
        "svg": svg,
        "reading": reading,
        "mean": group.get("mean"),
        "limits": (group.get("lpl"), group.get("upl")),
        "rows": points,
        "warnings": summary["warnings"],
    }


@router.get("/measures/{object_id}/chart", response_class=HTMLResponse)
def measure_chart_page(
    request: Request, object_id: str, ctx: PageContext = Depends(page_context)
) -> Response:
    """The chart as a fragment for htmx, or as a whole page without it."""
    measure = ctx.snapshot().by_id("measure").get(object_id)
    if measure is None:
        return HTMLResponse("<p>No such measure.</p>", status_code=404)
    context = {"measure": measure, **measure_chart(measure)}
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render(request, "_measure_chart.html", title="", **context)
    return render(
        request,
        "measure_chart.html",
        title=f"Chart: {measure.name}",
        active="/mission",
        workspace_name=ctx.name,
        **context,
    )
