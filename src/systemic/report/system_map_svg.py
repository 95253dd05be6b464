"""Draw a system map as an SVG string, with its feedback loops highlighted.

A pure function of the map's factors, signed causal links, named loops and the
factors' places (``systemic.framework.map_layout``; when no places are given the
automatic layout is used): the same map always gives the same picture. Reports
embed it; the workspace's map page serves it and makes it draggable.

>>> from systemic.report.system_map_svg import Factor, Link, Loop, render_system_map_svg
>>> svg = render_system_map_svg(
...     [Factor("a", "Failure demand"), Factor("b", "Stretched services")],
...     [Link("a", "b", "+"), Link("b", "a", "+")],
...     [Loop("R1", ("a", "b"), "reinforcing")],
... )
>>> svg.startswith("<svg") and "R1" in svg
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from systemic.framework.map_layout import (
    BOX_HEIGHT,
    BOX_WIDTH,
    FONT_SIZE,
    LINE_HEIGHT,
    MapLayout,
    Point,
    layout_map,
    layout_of,
    wrap_label,
)
from systemic.framework.views import MapView

__all__ = ["Factor", "Link", "Loop", "render_map_view", "render_system_map_svg"]

#: Colours chosen for at least 4.5:1 contrast on white (WCAG AA for text).
REINFORCING_COLOUR = "#b3261e"
BALANCING_COLOUR = "#0b5cad"
LINK_COLOUR = "#4a4a4a"
FACTOR_FILL = "#ffffff"
FACTOR_STROKE = "#1f1f1f"

#: A thin bar down the left of a factor's box says what kind of factor it is.
KIND_COLOURS = {
    "system_condition": "#6a3d9a",
    "demand": "#b3261e",
    "capacity": "#0b5cad",
    "outcome": "#1b6e3a",
}
KIND_LABELS = {
    "system_condition": "system condition",
    "demand": "demand",
    "capacity": "capacity",
    "outcome": "outcome",
}
#: Up to this many loops are coloured and labelled on the picture; past it only the
#: highlighted loop is (a map of 80 factors can hold dozens, colouring every link).
LOOPS_DRAWN = 12


@dataclass(frozen=True)
class Factor:
    """A factor on the map: ``key`` identifies it, ``label`` is what people read.

    ``kind``, ``level`` and ``tags`` are written on the factor's group as data
    attributes (the map page filters by them) and in its tooltip.
    """

    key: str
    label: str
    kind: str | None = None
    level: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Link:
    """A causal link ``source`` → ``target``; polarity ``+`` (same way) or ``-`` (opposite)."""

    source: str
    target: str
    polarity: str
    delay: bool = False


@dataclass(frozen=True)
class Loop:
    """A feedback loop: its name (e.g. ``R1``), factors in causal order, and kind."""

    name: str
    factors: tuple[str, ...]
    kind: str  # "reinforcing" or "balancing"


def _loop_edges(loop: Loop) -> set[tuple[str, str]]:
    keys = loop.factors
    return {(keys[i], keys[(i + 1) % len(keys)]) for i in range(len(keys))}


def _box_exit(cx: float, cy: float, half_w: float, half_h: float, dx: float, dy: float) -> float:
    """Fraction t along (dx, dy) from a box centre at which the ray leaves the box."""
    tx = half_w / abs(dx) if dx else math.inf
    ty = half_h / abs(dy) if dy else math.inf
    return min(tx, ty)


def render_system_map_svg(
    factors: Sequence[Factor],
    links: Sequence[Link],
    loops: Sequence[Loop] = (),
    *,
    positions: Mapping[str, Point] | None = None,
    highlight: str | None = None,
    title: str = "System map",
) -> str:
    """Render the map as a standalone, accessible SVG string.

    ``positions`` gives each factor's box centre (the map's saved layout); factors
    missing from it are laid out automatically. Links on a loop are drawn thick in
    the loop's colour (red for reinforcing, blue for balancing) when the map has
    at most :data:`LOOPS_DRAWN` loops; with ``highlight`` set to a loop's name only
    that loop is coloured and labelled. Polarity is written at each link's
    midpoint (``+`` or ``−``, and a negative link is dashed) and a delay is marked
    with a double bar.

    >>> render_system_map_svg([], []).count("<svg")
    1
    """
    keys = [factor.key for factor in factors]
    given = dict(positions or {})
    if any(key not in given for key in keys):
        layout = layout_map(keys, [(lk.source, lk.target) for lk in links], given)
        given = {**given, **layout.positions}
    position = {key: given[key] for key in keys}
    left, top, width, height = _bounds(position.values())
    cx, cy = left + width / 2, top + height / 2

    if highlight is not None:
        drawn = [loop for loop in loops if loop.name == highlight]
    else:
        drawn = list(loops) if len(loops) <= LOOPS_DRAWN else []
    colour_of_edge: dict[tuple[str, str], str] = {}
    for loop in drawn:
        colour = REINFORCING_COLOUR if loop.kind == "reinforcing" else BALANCING_COLOUR
        for edge in _loop_edges(loop):
            colour_of_edge.setdefault(edge, colour)
    names_of_edge: dict[tuple[str, str], list[str]] = {}
    for loop in loops:
        for edge in _loop_edges(loop):
            names_of_edge.setdefault(edge, []).append(loop.name)

    description = _describe(factors, links, loops)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="system-map" role="img" '
        f'viewBox="{left:.0f} {top:.0f} {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="map-title map-desc" font-family="system-ui, sans-serif" '
        f'font-size="{FONT_SIZE}">',
        f'<title id="map-title">{escape(title)}</title>',
        f'<desc id="map-desc">{escape(description)}</desc>',
        "<defs>",
    ]
    for marker_id, colour in (
        ("arrow", LINK_COLOUR),
        ("arrow-r", REINFORCING_COLOUR),
        ("arrow-b", BALANCING_COLOUR),
    ):
        out.append(
            f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append(
        f'<rect class="map-background" x="{left:.0f}" y="{top:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" fill="#ffffff"/>'
    )

    half_w, half_h = BOX_WIDTH / 2 + 4, BOX_HEIGHT / 2 + 4
    labels_at: list[tuple[float, float]] = []  # polarity and loop labels drawn so far
    out.append('<g class="links">')
    for link in links:
        if link.source not in position or link.target not in position:
            continue
        out.append(
            _link_svg(
                link,
                position,
                half_w,
                half_h,
                (cx, cy),
                colour_of_edge.get((link.source, link.target)),
                names_of_edge.get((link.source, link.target), []),
                labels_at,
            )
        )
    out.append("</g>")

    out.append('<g class="factors">')
    for factor in factors:
        out.append(_factor_svg(factor, position[factor.key]))
    out.append("</g>")

    out.append('<g class="loop-labels">')
    for loop in drawn:
        members = [position[key] for key in loop.factors if key in position]
        if not members:
            continue
        lx = sum(p[0] for p in members) / len(members)
        ly = sum(p[1] for p in members) / len(members)
        if len(members) > 2:
            # Pull the label toward the map's centre, away from the loop's own links.
            lx, ly = lx * 0.8 + cx * 0.2, ly * 0.8 + cy * 0.2
        lx, ly = _free_spot(lx, ly, labels_at)
        labels_at.append((lx, ly))
        colour = REINFORCING_COLOUR if loop.kind == "reinforcing" else BALANCING_COLOUR
        out.append(
            f'<g class="loop-label {escape(loop.kind)}" data-loop="{escape(loop.name)}">'
            f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="20" fill="#ffffff" stroke="{colour}" '
            f'stroke-width="2"/>'
            f'<text x="{lx:.1f}" y="{ly + 5:.1f}" text-anchor="middle" font-weight="bold" '
            f'font-size="15" fill="{colour}">{escape(loop.name)}</text></g>'
        )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _bounds(points: Iterable[Point], margin: float = 40.0) -> tuple[float, float, float, float]:
    """``(left, top, width, height)`` around every factor box, with room for self-loops."""
    listed = list(points)
    xs = [p[0] for p in listed]
    ys = [p[1] for p in listed]
    if not xs:
        return (0.0, 0.0, BOX_WIDTH + 2 * margin, BOX_HEIGHT + 2 * margin)
    left = min(xs) - BOX_WIDTH / 2 - margin
    top = min(ys) - BOX_HEIGHT / 2 - margin
    right = max(xs) + BOX_WIDTH / 2 + margin
    bottom = max(ys) + BOX_HEIGHT / 2 + margin
    return (left, top, right - left, bottom - top)


def _factor_svg(factor: Factor, at: Point) -> str:
    """One factor: a box at ``at`` (moved by its transform, so the page can drag it)."""
    x, y = at
    lines = wrap_label(factor.label)
    kind_words = KIND_LABELS.get(factor.kind or "", "")
    tooltip = ", ".join(
        part
        for part in (
            factor.label,
            kind_words,
            f"level: {factor.level}" if factor.level else "",
            f"tags: {'; '.join(factor.tags)}" if factor.tags else "",
        )
        if part
    )
    data = [f'data-key="{escape(factor.key)}"']
    if factor.kind:
        data.append(f'data-kind="{escape(factor.kind)}"')
    if factor.level:
        data.append(f'data-level="{escape(factor.level)}"')
    if factor.tags:
        data.append(f'data-tags="{escape("|".join(factor.tags))}"')
    parts = [
        f'<g class="factor" {" ".join(data)} transform="translate({x:.1f},{y:.1f})">',
        f"<title>{escape(tooltip)}</title>",
        f'<rect x="{-BOX_WIDTH / 2:.1f}" y="{-BOX_HEIGHT / 2:.1f}" width="{BOX_WIDTH:.0f}" '
        f'height="{BOX_HEIGHT:.0f}" rx="8" fill="{FACTOR_FILL}" stroke="{FACTOR_STROKE}" '
        f'stroke-width="1.5"/>',
    ]
    if factor.kind in KIND_COLOURS:
        parts.append(
            f'<rect class="kind-bar" x="{-BOX_WIDTH / 2 + 1:.1f}" y="{-BOX_HEIGHT / 2 + 6:.1f}" '
            f'width="5" height="{BOX_HEIGHT - 12:.0f}" rx="2" fill="{KIND_COLOURS[factor.kind]}"/>'
        )
    first_y = -(len(lines) - 1) * LINE_HEIGHT / 2 + FONT_SIZE / 3
    for index, line in enumerate(lines):
        parts.append(
            f'<text x="3" y="{first_y + index * LINE_HEIGHT:.1f}" '
            f'text-anchor="middle" fill="#1f1f1f">{escape(line)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _free_spot(x: float, y: float, taken: list[tuple[float, float]]) -> tuple[float, float]:
    """The nearest point to (x, y) at least 34 px from every label already drawn."""
    candidates = [(x, y)] + [
        (x + r * math.cos(a * math.pi / 4), y + r * math.sin(a * math.pi / 4))
        for r in (25, 45, 65)
        for a in range(8)
    ]

    def clearance(point: tuple[float, float]) -> float:
        return min((math.dist(point, other) for other in taken), default=math.inf)

    for candidate in candidates:
        if clearance(candidate) >= 34:
            return candidate
    return max(candidates, key=clearance)


def _link_svg(
    link: Link,
    position: dict[str, tuple[float, float]],
    half_w: float,
    half_h: float,
    centre: tuple[float, float],
    colour: str | None,
    loop_names: list[str],
    labels_at: list[tuple[float, float]],
) -> str:
    """One link as a gently curved arrow (bending away from the map's centre)."""
    (x1, y1), (x2, y2) = position[link.source], position[link.target]
    if link.source == link.target:
        # A self-loop: a small circle above the factor.
        return (
            f'<path class="link" d="M{x1 - 20:.1f},{y1 - half_h:.1f} '
            f"C{x1 - 40:.1f},{y1 - half_h - 50:.1f} {x1 + 40:.1f},{y1 - half_h - 50:.1f} "
            f'{x1 + 20:.1f},{y1 - half_h:.1f}" fill="none" stroke="{colour or LINK_COLOUR}" '
            f'stroke-width="{3 if colour else 1.5}" marker-end="url(#arrow)"/>'
        )
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    t1 = _box_exit(x1, y1, half_w, half_h, ux, uy)
    t2 = _box_exit(x2, y2, half_w, half_h, ux, uy)
    sx, sy = x1 + ux * t1, y1 + uy * t1
    ex, ey = x2 - ux * t2, y2 - uy * t2
    mx, my = (sx + ex) / 2, (sy + ey) / 2
    # Bend outward from the centre so opposite links (a→b, b→a) do not overlap.
    nx, ny = -uy, ux
    bend = 0.18 * math.hypot(ex - sx, ey - sy)
    qx, qy = mx + nx * bend, my + ny * bend
    # Label at the curve's midpoint (quadratic Bézier at t = 0.5).
    px, py = 0.25 * sx + 0.5 * qx + 0.25 * ex, 0.25 * sy + 0.5 * qy + 0.25 * ey
    labels_at.append((px, py))
    stroke = colour or LINK_COLOUR
    marker = (
        "arrow" if colour is None else ("arrow-r" if colour == REINFORCING_COLOUR else "arrow-b")
    )
    sign = "+" if link.polarity.strip() in {"+", "positive", "same"} else "−"
    classes = " ".join(["link", *(f"in-{name}" for name in loop_names)])
    dash = ' stroke-dasharray="7 4"' if sign == "−" else ""
    delay = ' data-delay="1"' if link.delay else ""
    parts = [
        f'<g class="{escape(classes)}" data-source="{escape(link.source)}" '
        f'data-target="{escape(link.target)}" data-polarity="{sign}"'
        f"{delay}>",
        f'<path d="M{sx:.1f},{sy:.1f} Q{qx:.1f},{qy:.1f} {ex:.1f},{ey:.1f}" fill="none" '
        f'stroke="{stroke}" stroke-width="{3 if colour else 1.5}"{dash} '
        f'marker-end="url(#{marker})"/>',
        f'<circle cx="{px:.1f}" cy="{py:.1f}" r="10" fill="#ffffff" stroke="{stroke}"/>',
        f'<text x="{px:.1f}" y="{py + 5:.1f}" text-anchor="middle" font-weight="bold" '
        f'font-size="15" fill="{stroke}">{sign}</text>',
    ]
    if link.delay:
        # Two short bars across the link, a third of the way along, mean "delay".
        bx, by = 0.5625 * sx + 0.375 * qx + 0.0625 * ex, 0.5625 * sy + 0.375 * qy + 0.0625 * ey
        for offset in (-3, 3):
            ox, oy = bx + ux * offset, by + uy * offset
            parts.append(
                f'<line x1="{ox + nx * 8:.1f}" y1="{oy + ny * 8:.1f}" x2="{ox - nx * 8:.1f}" '
                f'y2="{oy - ny * 8:.1f}" stroke="{stroke}" stroke-width="2"/>'
            )
    parts.append("</g>")
    return "".join(parts)


def _describe(factors: Sequence[Factor], links: Sequence[Link], loops: Sequence[Loop]) -> str:
    """A plain-language text alternative for screen readers."""
    labels = {factor.key: factor.label for factor in factors}
    sentences = [f"{len(factors)} factors, {len(links)} links, {len(loops)} loops."]
    for loop in loops:
        chain = " → ".join(labels.get(key, key) for key in loop.factors)
        sentences.append(f"{loop.name} ({loop.kind}): {chain}.")
    return " ".join(sentences)


def render_map_view(
    view: MapView, layout: MapLayout | None = None, *, highlight: str | None = None
) -> str:
    """Draw a workspace map (a :class:`~systemic.framework.views.MapView`) in its layout.

    ``layout`` defaults to :func:`~systemic.framework.map_layout.layout_of` the view
    (saved places kept, new factors placed).
    """
    layout = layout or layout_of(view)
    return render_system_map_svg(
        [
            Factor(f.id, f.name, kind=f.kind, level=f.level, tags=tuple(f.tags))
            for f in view.factors
        ],
        [Link(c.cause_id, c.effect_id, c.polarity, c.delay) for c in view.links],
        [Loop(loop.name, loop.factors, loop.kind) for loop in view.named_loops],
        positions=layout.positions,
        highlight=highlight,
        title=view.system_map.name,
    )
