"""The system map page: the picture, its loops, filters, saved layout, export and import.

The handlers only read and present: loop finding and naming, the layout and the
Kumu format live in ``systemic.framework`` (``loops``, ``map_layout``, ``kumu``),
the picture is drawn by ``systemic.report.system_map_svg``, and the page's own
script (``static/system_map.js``, shipped with the package) adds dragging, zoom,
pan, keyboard moves, filters and PNG export on top of the same SVG.

Roles follow the app's rule by method: the GET routes need *viewer*, the POST
routes (saving the layout, importing a Kumu file) need *editor*.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from systemic.framework import views
from systemic.framework.kinds import KINDS, choices_of
from systemic.framework.kumu import KumuFormatError, from_kumu, to_kumu
from systemic.framework.loops import MAX_LOOP_FACTORS
from systemic.framework.map_layout import MapLayout, layout_of
from systemic.report.system_map_svg import KIND_COLOURS, KIND_LABELS, render_map_view
from systemic.store import repository
from systemic.store.errors import InvalidObjectError, NotFoundError
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.site import render
from systemic.web.security.identity import require_role

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_role("viewer"))])
EDITOR = [Depends(require_role("editor"))]

#: The levels a factor can sit at, as the map's filter names them.
LEVEL_LABELS: dict[str, str] = {
    level: KINDS["factor"].choice_label("level", level)
    for level in choices_of(KINDS["factor"].fields.model_fields["level"]) or []
}
#: Largest Kumu file read (a map of a few hundred factors is well under 1 MB).
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _chosen_map(ctx: PageContext, map_id: str | None) -> tuple[list[Any], Any | None]:
    maps = ctx.snapshot().of("system_map")
    chosen = next((m for m in maps if m.id == map_id), maps[0] if maps else None)
    return maps, chosen


def _view(ctx: PageContext, map_id: str) -> views.MapView:
    snap = ctx.snapshot()
    if map_id not in snap.by_id("system_map"):
        raise NotFoundError("system_map", map_id)
    return views.system_map(snap, map_id)


def _map_context(ctx: PageContext, map_id: str | None, loop: str | None) -> dict[str, Any]:
    maps, chosen = _chosen_map(ctx, map_id)
    if chosen is None:
        return {"maps": maps, "view": None}
    view = views.system_map(ctx.snapshot(), chosen.id)
    layout = layout_of(view)
    loops = [
        {
            "name": lp.name,
            "kind": lp.kind,
            "chain": view.chain(lp),
            "factors": lp.factors,
            "delayed": lp.delayed,
        }
        for lp in view.named_loops
    ]
    highlight = loop if any(item["name"] == loop for item in loops) else None
    return {
        "maps": maps,
        "view": view,
        "map_id": chosen.id,
        "loops": loops,
        "highlight": highlight,
        "svg": render_map_view(view, layout, highlight=highlight),
        "factor_names": {f.id: f.name for f in view.factors},
        "unsaved": sorted(layout.placed),
        "layout_json": json.dumps(_placed_positions(layout)),
        "tags": sorted({tag for f in view.factors for tag in f.tags}, key=str.lower),
        "levels": LEVEL_LABELS,
        "kinds": KIND_LABELS,
        "kind_colours": KIND_COLOURS,
        "max_loop_factors": MAX_LOOP_FACTORS,
    }


def _placed_positions(layout: MapLayout) -> dict[str, list[float]]:
    """Places the layout gave just now (for the page to save): id -> [x, y]."""
    return {
        key: [round(layout.positions[key][0], 1), round(layout.positions[key][1], 1)]
        for key in sorted(layout.placed)
    }


@router.get("/map", response_class=HTMLResponse)
def map_page(
    request: Request,
    map: str | None = None,
    loop: str | None = None,
    imported: int | None = None,
    ctx: PageContext = Depends(page_context),
) -> Response:
    """The system map: the picture (draggable), loops, filters, export and import."""
    return render(
        request,
        "map.html",
        title="System map",
        active="/map",
        workspace_name=ctx.name,
        imported=imported,
        **_map_context(ctx, map, loop),
    )


@router.get("/map/area", response_class=HTMLResponse)
def map_area(
    request: Request,
    map: str | None = None,
    loop: str | None = None,
    ctx: PageContext = Depends(page_context),
) -> Response:
    """Just the picture and loop list (htmx swaps it when a loop is highlighted)."""
    context = _map_context(ctx, map, loop)
    if context["view"] is None:
        return HTMLResponse("<p class='muted'>No system map yet.</p>")
    return render(request, "_map_area.html", title="System map", **context)


def _download_name(view: views.MapView, suffix: str) -> str:
    stem = "".join(c if c.isalnum() else "-" for c in view.system_map.name.lower()).strip("-")
    return f"{stem or 'system-map'}{suffix}"


@router.get("/map/{map_id}/svg")
def map_svg_file(
    map_id: str, loop: str | None = None, ctx: PageContext = Depends(page_context)
) -> Response:
    """The map as an SVG file, in its saved layout (one loop highlighted with ``loop``)."""
    view = _view(ctx, map_id)
    highlight = loop if any(lp.name == loop for lp in view.named_loops) else None
    svg = render_map_view(view, highlight=highlight)
    name = _download_name(view, ".svg")
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/map/{map_id}/kumu.json")
def map_kumu_file(map_id: str, ctx: PageContext = Depends(page_context)) -> Response:
    """The map as Kumu JSON (elements, connections, and each factor's place)."""
    view = _view(ctx, map_id)
    document = to_kumu(view, layout_of(view))
    name = _download_name(view, "-kumu.json")
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class LayoutIn(BaseModel):
    """Factor id -> ``[x, y]``: where the factors now sit."""

    positions: dict[str, tuple[float, float]] = Field(max_length=2000)


def _path_map(map_id: str, ctx: PageContext = Depends(page_context)) -> views.MapView:
    """The map named in the path, as a dependency: solved before the request body is
    read, so another workspace's map is "not found" (404) whatever the body holds."""
    return _view(ctx, map_id)


@router.post("/map/{map_id}/layout", dependencies=EDITOR)
def save_layout(
    map_id: str,
    body: LayoutIn,
    view: views.MapView = Depends(_path_map),
    ctx: PageContext = Depends(page_context),
) -> Response:
    """Save where factors sit (after a drag, a keyboard move or an automatic layout)."""
    on_map = {f.id: f for f in view.factors}
    strangers = sorted(set(body.positions) - set(on_map))
    if strangers:
        return JSONResponse(
            {"detail": f"not factors of this map: {', '.join(strangers[:5])}; reload the page"},
            status_code=422,
        )
    moved = 0
    try:
        for factor_id, (x, y) in sorted(body.positions.items()):
            factor = on_map[factor_id]
            x, y = round(x, 1), round(y, 1)
            if (factor.x, factor.y) != (x, y):
                repository.update(
                    ctx.session,
                    ctx.workspace_id,
                    "factor",
                    factor_id,
                    {"x": x, "y": y},
                    actor=ctx.actor,
                )
                moved += 1
    except InvalidObjectError as error:
        ctx.session.rollback()
        return JSONResponse({"detail": str(error)}, status_code=422)
    ctx.session.commit()
    return JSONResponse({"saved": moved})


@router.post("/map/import", response_class=HTMLResponse, dependencies=EDITOR)
def import_kumu(
    request: Request,
    kumu_file: UploadFile | None = File(None),
    name: str = Form(""),
    ctx: PageContext = Depends(page_context),
) -> Response:
    """Make a new map from a Kumu JSON export; say what was refused and why."""
    problem = ""
    if kumu_file is None or not kumu_file.filename:
        problem = "Choose a Kumu JSON file to import (in Kumu: Share → Export → JSON)."
    else:
        raw = kumu_file.file.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            problem = f"{kumu_file.filename} is larger than 5 MB; is it a Kumu map export?"
        else:
            try:
                read = from_kumu(json.loads(raw.decode("utf-8-sig")))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                problem = f"{kumu_file.filename} is not JSON ({error}); export the map as JSON."
            except KumuFormatError as error:
                problem = f"{kumu_file.filename}: {error}."
    if problem:
        return _import_receipt(request, ctx, problem=problem, status_code=422)
    name = name.strip() or read.name
    the_map = repository.create(
        ctx.session, ctx.workspace_id, "system_map", {"name": name}, actor=ctx.actor
    )
    ids: dict[str, str] = {}
    for factor in read.factors:
        fields: dict[str, Any] = {
            "system_map_id": the_map.id,
            "name": factor.name,
            "description": factor.description,
            "kind": factor.kind,
            "level": factor.level,
            "tags": factor.tags,
        }
        if factor.position is not None:
            fields["x"], fields["y"] = factor.position
        record = repository.create(ctx.session, ctx.workspace_id, "factor", fields, actor=ctx.actor)
        ids[factor.key] = record.id
    for link in read.links:
        repository.create(
            ctx.session,
            ctx.workspace_id,
            "causal_link",
            {
                "system_map_id": the_map.id,
                "cause_id": ids[link.cause],
                "effect_id": ids[link.effect],
                "polarity": link.polarity,
                "delay": link.delay,
                "evidence": link.evidence,
            },
            actor=ctx.actor,
        )
    ctx.session.commit()
    if read.rejected:
        return _import_receipt(request, ctx, read=read, map_id=the_map.id)
    return RedirectResponse(f"/map?map={the_map.id}&imported=1", status_code=303)


def _import_receipt(
    request: Request,
    ctx: PageContext,
    *,
    problem: str = "",
    read: Any = None,
    map_id: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "map_import.html",
        title="Import a Kumu map",
        active="/map",
        workspace_name=ctx.name,
        problem=problem,
        read=read,
        map_id=map_id,
        status_code=status_code,
    )


__all__ = ["router"]
