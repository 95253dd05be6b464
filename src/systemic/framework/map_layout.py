"""Where each factor sits on a system map: saved places kept, new factors placed.

A factor a person has placed (dragged) keeps its saved ``(x, y)``. On a map with
no saved places, every factor is laid out by a force-directed layout
(Fruchterman-Reingold, via networkx) from a seeded start, so the same map always
gives the same layout. On a map already laid out, a new factor goes next to the
placed factors it is linked to (or above the map when it has no links yet), so
nothing a person arranged moves. Either way each newly placed factor is then put
on the nearest free slot of a grid, so that its box overlaps no other box.

>>> layout = layout_map(["a", "b", "c"], [("a", "b"), ("b", "c")], {"a": (0.0, 0.0)})
>>> layout.positions["a"], sorted(layout.placed)
((0.0, 0.0), ['b', 'c'])
>>> overlapping_boxes(layout.positions)
[]
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from systemic.framework.views import MapView

#: A factor is drawn as a box this wide, with at most three lines of its name.
BOX_WIDTH = 150.0
LINE_HEIGHT = 16.0
MAX_LINES = 3
BOX_HEIGHT = MAX_LINES * LINE_HEIGHT + 14
FONT_SIZE = 13
#: Average glyph width of a sans-serif face at FONT_SIZE (for wrapping names).
CHAR_WIDTH = 7.2
#: Free space kept around an automatically placed box (room for arrows and signs).
GAP_X, GAP_Y = 40.0, 34.0
#: How far apart linked factors are pulled to (the force layout's ideal distance).
IDEAL_DISTANCE = 230.0

Point = tuple[float, float]


@dataclass(frozen=True)
class MapLayout:
    """Positions of a map's factors (box centres); ``placed``: those laid out just now."""

    positions: dict[str, Point]
    placed: frozenset[str]

    def bounds(self, margin: float = 30.0) -> tuple[float, float, float, float]:
        """``(left, top, width, height)`` of a box holding every factor, with a margin.

        >>> MapLayout({"a": (0.0, 0.0)}, frozenset()).bounds(margin=0)
        (-75.0, -31.0, 150.0, 62.0)
        """
        if not self.positions:
            return (0.0, 0.0, 2 * margin + BOX_WIDTH, 2 * margin + BOX_HEIGHT)
        xs = [x for x, _ in self.positions.values()]
        ys = [y for _, y in self.positions.values()]
        left = min(xs) - BOX_WIDTH / 2 - margin
        top = min(ys) - BOX_HEIGHT / 2 - margin
        right = max(xs) + BOX_WIDTH / 2 + margin
        bottom = max(ys) + BOX_HEIGHT / 2 + margin
        return (left, top, right - left, bottom - top)


def wrap_label(label: str, width: float = BOX_WIDTH - 16) -> list[str]:
    """Split a factor's name into lines that fit its box (at most three lines).

    >>> wrap_label("Repeat calls chasing progress of a housing repair")
    ['Repeat calls', 'chasing progress', 'of a housing…']
    """
    max_chars = max(4, int(width / CHAR_WIDTH))
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
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], lines[MAX_LINES - 1][: max_chars - 1] + "…"]
    return [line if len(line) <= max_chars else line[: max_chars - 1] + "…" for line in lines]


def layout_map(
    factors: Sequence[str],
    links: Iterable[tuple[str, str]],
    saved: Mapping[str, Point | None],
    *,
    seed: int = 7,
) -> MapLayout:
    """Keep saved places and lay out the rest of ``factors`` (ids, earliest first).

    ``links`` are ``(cause, effect)`` pairs; ``saved`` maps a factor id to its
    saved ``(x, y)`` or ``None``. Newly placed factors never overlap any other
    factor's box (with :data:`GAP_X`/:data:`GAP_Y` kept free around them).
    """
    fixed = {key: saved[key] for key in factors if saved.get(key) is not None}
    free = [key for key in factors if key not in fixed]
    if not free:
        return MapLayout({key: _point(fixed[key]) for key in factors}, frozenset())
    graph = nx.Graph()
    graph.add_nodes_from(factors)
    known = set(factors)
    graph.add_edges_from(
        (cause, effect) for cause, effect in links if cause in known and effect in known
    )
    positions: dict[str, Point] = {key: _point(value) for key, value in fixed.items()}
    if fixed:
        # Add to a laid-out map without disturbing it: each new factor goes next to
        # the placed factors it is linked to (most-linked first), or above the map.
        waiting = list(free)
        while waiting:
            key = max(
                waiting, key=lambda k: (_placed_neighbours(graph, k, positions), -factors.index(k))
            )
            waiting.remove(key)
            around = [positions[n] for n in graph.neighbors(key) if n in positions]
            if around:
                target = (
                    sum(p[0] for p in around) / len(around),
                    sum(p[1] for p in around) / len(around),
                )
            else:
                left = min(x for x, _ in positions.values())
                top = min(y for _, y in positions.values())
                target = (left, top - BOX_HEIGHT - GAP_Y)
            positions[key] = _nearest_free_slot(target, positions)
        return MapLayout({key: positions[key] for key in factors}, frozenset(free))
    start = _starting_places(graph, free, seed)
    spread = IDEAL_DISTANCE * math.sqrt(len(factors)) * 0.8
    forces = nx.spring_layout(graph, pos=start, iterations=120, seed=seed, scale=spread)
    # Boxes are wider than tall: stretch the layout sideways, then snap boxes apart,
    # the most-linked factors first (they keep the places the forces gave them).
    order = sorted(free, key=lambda key: (-graph.degree(key), factors.index(key)))
    for key in order:
        x, y = float(forces[key][0]) * 1.35, float(forces[key][1])
        positions[key] = _nearest_free_slot((x, y), positions)
    return MapLayout({key: positions[key] for key in factors}, frozenset(free))


def _point(value: Point | None) -> Point:
    assert value is not None
    return (float(value[0]), float(value[1]))


def _placed_neighbours(graph: nx.Graph, key: str, positions: Mapping[str, Point]) -> int:
    return sum(n in positions for n in graph.neighbors(key))


def _starting_places(graph: nx.Graph, free: list[str], seed: int) -> dict[str, Point]:
    """A seeded random start in the unit square (the same map starts the same way)."""
    rng = random.Random(seed)
    return {key: (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)) for key in free}


def _clear_of(point: Point, positions: Mapping[str, Point]) -> bool:
    x, y = point
    min_dx, min_dy = BOX_WIDTH + GAP_X, BOX_HEIGHT + GAP_Y
    return all(abs(x - ox) >= min_dx or abs(y - oy) >= min_dy for ox, oy in positions.values())


def _nearest_free_slot(point: Point, positions: Mapping[str, Point]) -> Point:
    """``point`` if its box (with the gaps) touches no other box, else the nearest grid slot
    that is free, searched in rings of growing size around it."""
    if _clear_of(point, positions):
        return point
    step_x, step_y = (BOX_WIDTH + GAP_X) / 2, (BOX_HEIGHT + GAP_Y) / 2
    x0, y0 = round(point[0] / step_x) * step_x, round(point[1] / step_y) * step_y
    for ring in range(1, 400):
        candidates = [
            (x0 + i * step_x, y0 + j * step_y)
            for i in range(-ring, ring + 1)
            for j in range(-ring, ring + 1)
            if max(abs(i), abs(j)) == ring
        ]
        candidates.sort(key=lambda c: math.dist(c, point))
        for candidate in candidates:
            if _clear_of(candidate, positions):
                return candidate
    raise RuntimeError("no free place found for a factor within 400 rings")  # pragma: no cover


def overlapping_boxes(positions: Mapping[str, Point]) -> list[tuple[str, str]]:
    """Pairs of factors whose boxes overlap (what a readable map has none of).

    >>> overlapping_boxes({"a": (0, 0), "b": (100, 10), "c": (400, 0)})
    [('a', 'b')]
    """
    keys = list(positions)
    out = []
    for i, a in enumerate(keys):
        ax, ay = positions[a]
        for b in keys[i + 1 :]:
            bx, by = positions[b]
            if abs(ax - bx) < BOX_WIDTH and abs(ay - by) < BOX_HEIGHT:
                out.append((a, b))
    return out


def layout_of(view: MapView) -> MapLayout:
    """The layout of a map view: saved places (the factors' ``x``/``y``), the rest placed."""
    return layout_map(
        [factor.id for factor in view.factors],
        [(link.cause_id, link.effect_id) for link in view.links],
        {
            factor.id: (factor.x, factor.y)
            if factor.x is not None and factor.y is not None
            else None
            for factor in view.factors
        },
    )
