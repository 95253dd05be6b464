"""Where factors sit: saved places kept, new factors placed clear of every other box."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from systemic.framework.map_layout import (
    BOX_HEIGHT,
    BOX_WIDTH,
    GAP_X,
    GAP_Y,
    layout_map,
    overlapping_boxes,
)


def team_size_map(seed: int = 1) -> tuple[list[str], list[tuple[str, str]]]:
    rng = random.Random(seed)
    ids = [f"f{i:02d}" for i in range(80)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < 150:
        a, b = rng.randrange(80), rng.randrange(80)
        if a != b and (b, a) not in pairs:
            pairs.add((a, b))
    return ids, [(ids[a], ids[b]) for a, b in sorted(pairs)]


def test_eighty_factors_and_150_links_are_laid_out_without_overlap() -> None:
    ids, links = team_size_map()
    layout = layout_map(ids, links, {})
    assert sorted(layout.positions) == sorted(ids)
    assert layout.placed == frozenset(ids)
    assert overlapping_boxes(layout.positions) == []
    # Not just apart: the map is not strung out in a line either (aspect within 1:4).
    _, _, width, height = layout.bounds()
    assert 0.25 < width / height < 4


def test_the_same_map_gives_the_same_layout() -> None:
    ids, links = team_size_map(2)
    assert layout_map(ids, links, {}).positions == layout_map(ids, links, {}).positions


def test_saved_places_are_kept_and_a_new_factor_goes_next_to_its_links() -> None:
    ids, links = team_size_map(3)
    saved = layout_map(ids, links, {}).positions
    layout = layout_map([*ids, "new"], [*links, ("new", "f10"), ("f11", "new")], saved)
    assert {k: layout.positions[k] for k in ids} == saved
    assert layout.placed == frozenset({"new"})
    assert overlapping_boxes(layout.positions) == []
    # Nearer the factors it is linked to than the median pair of factors are to each other.
    middle = (
        (saved["f10"][0] + saved["f11"][0]) / 2,
        (saved["f10"][1] + saved["f11"][1]) / 2,
    )
    distances = sorted(math.dist(saved[a], saved[b]) for a in ids for b in ids if a < b)
    assert math.dist(layout.positions["new"], middle) < distances[len(distances) // 2]


def test_an_unlinked_new_factor_goes_above_the_map() -> None:
    saved = {"a": (0.0, 0.0), "b": (400.0, 300.0)}
    layout = layout_map(["a", "b", "lone"], [("a", "b")], saved)
    assert layout.positions["lone"][1] < 0  # above the top factor
    assert overlapping_boxes(layout.positions) == []


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-2000, 2000), st.floats(-2000, 2000)), min_size=0, max_size=25),
    st.integers(1, 15),
)
def test_new_factors_never_land_on_any_box(saved_points, new_count) -> None:  # type: ignore[no-untyped-def]
    saved = {f"s{i}": point for i, point in enumerate(saved_points)}
    new = [f"n{i}" for i in range(new_count)]
    links = [(new[i], f"s{i}") for i in range(min(len(new), len(saved)))]
    layout = layout_map([*saved, *new], links, saved)
    for key in new:
        x, y = layout.positions[key]
        for other, (ox, oy) in layout.positions.items():
            if other != key:
                assert abs(x - ox) >= BOX_WIDTH + GAP_X or abs(y - oy) >= BOX_HEIGHT + GAP_Y
