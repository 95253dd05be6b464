"""A measure's SPC chart as it is defined: presentation only.

The values come from :func:`systemic.store.measure_data.load_measure_data`
(the same loader an experiment's evidence uses) and the chart, icons and
reading from :func:`systemic.framework.measures.chart_measure`; this module
renders them. The chart is drawn offline by vl-convert, which takes a moment,
so the measure's page asks for it after loading (htmx); without JavaScript the
page links to it instead. ``?version=N`` draws an earlier extract of a learn
result (its history).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from systemic.framework.measures import MIN_POINTS, MeasureChart, chart_measure, format_value
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.site import render
from systemic.web.security.identity import require_role

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_role("viewer"))])

__all__ = ["MIN_POINTS", "has_chart", "measure_chart", "router"]


def has_chart(measure: Any) -> bool:
    """Whether a measure's page should ask for its chart (a source is connected)."""
    if measure.data_source == "learn":
        return bool(measure.learn_result and measure.series_name)
    return len(measure.series) >= MIN_POINTS


def measure_chart(ctx: PageContext, measure: Any, version: int | None = None) -> dict[str, Any]:
    """The template context of a measure's chart: SVG, reading, notes, values, versions."""
    from systemic.measures.chart import chart_spec, render_svg
    from systemic.store.learn_results import learn_result_versions
    from systemic.store.measure_data import load_measure_data

    data = load_measure_data(ctx.session, ctx.workspace_id, measure, version=version)
    computed: MeasureChart = chart_measure(measure, data, ctx.snapshot().of("experiment"))
    svg = ""
    if computed.result is not None:
        events = [(m.on, m.label, m.kind) for m in computed.markers]
        svg = render_svg(chart_spec(computed.result, title=measure.name, events=events))
    versions = []
    if measure.data_source == "learn" and measure.learn_result:
        versions = learn_result_versions(ctx.session, ctx.workspace_id, measure.learn_result)
    rows = []
    if computed.result is not None:
        for row in computed.result.points.iter_rows(named=True):
            rows.append(
                {
                    "date": row["date"],
                    "value": format_value(row["value"], share=computed.share)
                    if row["value"] is not None
                    else "gap (suppressed or missing)",
                    "point": (row["point_type"] or "").replace("_", " "),
                }
            )
    return {
        "svg": svg,
        "chart": computed,
        "data": data,
        "rows": rows,
        "versions": versions,
        "version": version,
        "format_value": format_value,
    }


@router.get("/measures/{object_id}/chart", response_class=HTMLResponse)
def measure_chart_page(
    request: Request,
    object_id: str,
    version: int | None = Query(None, ge=1),
    ctx: PageContext = Depends(page_context),
) -> Response:
    """The chart as a fragment for htmx, or as a whole page without it."""
    measure = ctx.snapshot().by_id("measure").get(object_id)
    if measure is None:
        return HTMLResponse("<p>No such measure.</p>", status_code=404)
    context = {"measure": measure, **measure_chart(ctx, measure, version)}
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
