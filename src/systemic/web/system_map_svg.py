"""Draw a system map as an SVG string, with its feedback loops highlighted.

A pure function of the map's factors, signed causal links and detected loops:
the same map always gives the same picture (a circular layout, factors of the
first loop placed next to each other in loop order, so a loop reads as a ring).

>>> from systemic.web.system_map_svg import Factor, Link, Loop, render_system_map_svg
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
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Factor", "Link", "Loop", "render_system_map_svg"]

#: Colours chosen for at least 4.5:1 contrast on white (WCAG AA for text).
REINFORCING_COLOUR = "#b3261e"
BALANCING_COLOUR = "#0b5cad"
LINK_COLOUR = "#4a4a4a"
FACTOR_FILL = "#ffffff"
FACTOR_STROKE = "#1f1f1f"

_FONT_SIZE = 13
_CHAR_WIDTH = 7.2  # average glyph width of a sans-serif face at _FONT_SIZE
_BOX_WIDTH = 150
_LINE_HEIGHT = 16


@dataclass(frozen=True)
class Factor:
    """A factor on the map: ``key`` identifies it, ``label`` is what people read."""

    key: str
    label: str


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


def _wrap(label: str, width: float = _BOX_WIDTH - 16) -> list[str]:
    """Split a label into lines that fit the factor box (at most three lines)."""
    max_chars = max(4, int(width / _CHAR_WIDTH))
    lines: list[str] = []
    current = ""
    for word in label.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= max_chars or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > 3:
        lines = [*lines[:2], lines[2][: max_chars - 1] + "…"]
    return [line if len(line) <= max_chars else line[: max_chars - 1] + "…" for line in lines]


def _order(factors: Sequence[Factor], loops: Sequence[Loop], links: Sequence[Link]) -> list[Factor]:
    """Place factors around the ring in causal order, so chains read clockwise.

    Start from a factor nothing causes (else the first factor), follow links to
    factors not yet placed (preferring ones on a loop), and when a chain ends
    continue from the remaining factor with fewest unplaced causes.
    """
    keys = [factor.key for factor in factors]
    by_key = {factor.key: factor for factor in factors}
    on_loop = {key for loop in loops for key in loop.factors}
    effects: dict[str, list[str]] = {key: [] for key in keys}
    causes: dict[str, set[str]] = {key: set() for key in keys}
    for link in links:
        if link.source in by_key and link.target in by_key and link.source != link.target:
            effects[link.source].append(link.target)
            causes[link.target].add(link.source)
    ring: list[str] = []
    placed: set[str] = set()
    while len(ring) < len(keys):
        remaining = [key for key in keys if key not in placed]
        current: str | None = min(
            remaining,
            key=lambda key: (len(causes[key] - placed), key not in on_loop, keys.index(key)),
        )
        while current is not None:
            ring.append(current)
            placed.add(current)
            following = [key for key in effects[current] if key not in placed]
            following.sort(key=lambda key: (key not in on_loop, keys.index(key)))
            current = following[0] if following else None
    return [by_key[key] for key in ring]


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
    highlight: str | None = None,
    title: str = "System map",
) -> str:
    """Render the map as a standalone, accessible SVG string.

    Links on a loop are drawn thick in the loop's colour (red for reinforcing,
    blue for balancing); with ``highlight`` set to a loop's name only that loop
    is coloured. Each loop's name is written at the centre of its factors.
    Polarity is written at each link's midpoint (``+`` or ``−``) and a delay is
    marked with a double bar.

    >>> render_system_map_svg([], []).count("<svg")
    1
    """
    ordered = _order(factors, loops, links)
    n = len(ordered)
    wrapped = {factor.key: _wrap(factor.label) for factor in ordered}
    max_lines = max((len(lines) for lines in wrapped.values()), default=1)
    box_h = max_lines * _LINE_HEIGHT + 14
    radius = 0.0 if n <= 1 else max(150.0, (n * (_BOX_WIDTH + 40)) / (2 * math.pi))
    # An ellipse wider than tall suits boxes that are wider than tall.
    radius_x, radius_y = radius * 1.3, radius * 0.9
    margin_x = _BOX_WIDTH / 2 + 20
    margin_y = box_h / 2 + 20
    width = 2 * (radius_x + margin_x)
    height = 2 * (radius_y + margin_y)
    cx, cy = width / 2, height / 2
    position: dict[str, tuple[float, float]] = {}
    for index, factor in enumerate(ordered):
        angle = -math.pi / 2 + 2 * math.pi * index / max(n, 1)
        position[factor.key] = (cx + radius_x * math.cos(angle), cy + radius_y * math.sin(angle))

    colour_of_edge: dict[tuple[str, str], str] = {}
    names_of_edge: dict[tuple[str, str], list[str]] = {}
    for loop in loops:
        if highlight is not None and loop.name != highlight:
            continue
        colour = REINFORCING_COLOUR if loop.kind == "reinforcing" else BALANCING_COLOUR
        for edge in _loop_edges(loop):
            colour_of_edge.setdefault(edge, colour)
            names_of_edge.setdefault(edge, []).append(loop.name)

    description = _describe(ordered, links, loops)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="system-map" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="map-title map-desc" font-family="system-ui, sans-serif" '
        f'font-size="{_FONT_SIZE}">',
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

    half_w, half_h = _BOX_WIDTH / 2 + 4, box_h / 2 + 4
    labels_at: list[tuple[float, float]] = []  # polarity and loop labels drawn so far
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

    for factor in ordered:
        x, y = position[factor.key]
        lines = wrapped[factor.key]
        out.append(
            f'<g class="factor" data-key="{escape(factor.key)}">'
            f'<rect x="{x - _BOX_WIDTH / 2:.1f}" y="{y - box_h / 2:.1f}" width="{_BOX_WIDTH}" '
            f'height="{box_h}" rx="8" fill="{FACTOR_FILL}" stroke="{FACTOR_STROKE}" '
            f'stroke-width="1.5"/>'
        )
        first_y = y - (len(lines) - 1) * _LINE_HEIGHT / 2 + _FONT_SIZE / 3
        for index, line in enumerate(lines):
            out.append(
                f'<text x="{x:.1f}" y="{first_y + index * _LINE_HEIGHT:.1f}" '
                f'text-anchor="middle" fill="#1f1f1f">{escape(line)}</text>'
            )
        out.append("</g>")

    for loop in loops:
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
        dim = highlight is not None and loop.name != highlight
        opacity = ' opacity="0.35"' if dim else ""
        out.append(
            f'<g class="loop-label {escape(loop.kind)}"{opacity}>'
            f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="20" fill="#ffffff" stroke="{colour}" '
            f'stroke-width="2"/>'
            f'<text x="{lx:.1f}" y="{ly + 5:.1f}" text-anchor="middle" font-weight="bold" '
            f'font-size="15" fill="{colour}">{escape(loop.name)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)


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
    parts = [
        f'<g class="{escape(classes)}">',
        f'<path d="M{sx:.1f},{sy:.1f} Q{qx:.1f},{qy:.1f} {ex:.1f},{ey:.1f}" fill="none" '
        f'stroke="{stroke}" stroke-width="{3 if colour else 1.5}" '
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
