"""The system map picture: a pure function, checked by hand."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from systemic.framework.map_layout import BOX_HEIGHT, BOX_WIDTH
from systemic.report.system_map_svg import (
    BALANCING_COLOUR,
    LINK_COLOUR,
    LOOPS_DRAWN,
    REINFORCING_COLOUR,
    Factor,
    Link,
    Loop,
    render_system_map_svg,
)

SVG = "{http://www.w3.org/2000/svg}"

FACTORS = [
    Factor("d", "Failure demand"),
    Factor("s", "Stretched services"),
    Factor("t", "Tighter thresholds"),
    Factor("b", "Budget pressure"),
    Factor("x", "Silo design"),
]
LINKS = [
    Link("x", "d", "+"),
    Link("d", "s", "+"),
    Link("s", "t", "+", delay=True),
    Link("t", "d", "+"),
    Link("s", "b", "+"),
    Link("b", "s", "-"),
]
LOOPS = [Loop("R1", ("d", "s", "t"), "reinforcing"), Loop("B1", ("s", "b"), "balancing")]


def link_groups(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if "link" in g.get("class", "").split()]


def test_svg_is_well_formed_and_describes_itself():
    svg = render_system_map_svg(FACTORS, LINKS, LOOPS, title="Spiral")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Spiral"
    description = root.find(f"{SVG}desc").text
    assert description.startswith("5 factors, 6 links, 2 loops.")
    assert "R1 (reinforcing): Failure demand → Stretched services → Tighter thresholds." in (
        description
    )
    factor_boxes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "factor"]
    assert sorted(g.get("data-key") for g in factor_boxes) == ["b", "d", "s", "t", "x"]


def test_links_carry_polarity_and_loop_colours():
    groups = link_groups(render_system_map_svg(FACTORS, LINKS, LOOPS))
    assert len(groups) == 6
    signs = [g.find(f"{SVG}text").text for g in groups]
    assert signs == ["+", "+", "+", "+", "+", "−"]
    colours = {
        tuple(g.get("class").split()[1:]): g.find(f"{SVG}path").get("stroke") for g in groups
    }
    # x→d is on no loop; d→s, s→t, t→d are on R1; s→b and b→s on B1.
    assert colours[()] == LINK_COLOUR
    assert colours[("in-R1",)] == REINFORCING_COLOUR
    assert colours[("in-B1",)] == BALANCING_COLOUR
    # The delayed link (s→t) has two extra bars.
    delayed = [g for g in groups if len(g.findall(f"{SVG}line")) == 2]
    assert len(delayed) == 1


def test_highlighting_one_loop_colours_only_that_loop():
    groups = link_groups(render_system_map_svg(FACTORS, LINKS, LOOPS, highlight="B1"))
    coloured = [g for g in groups if g.find(f"{SVG}path").get("stroke") != LINK_COLOUR]
    assert {g.get("class") for g in coloured} == {"link in-B1"}
    assert len(coloured) == 2


def test_rendering_is_deterministic_and_escapes_labels():
    factors = [Factor("a", "<script>alert(1)</script> & co"), Factor("b", "Other")]
    links = [Link("a", "b", "+"), Link("b", "a", "+")]
    first = render_system_map_svg(factors, links, [Loop("R1", ("a", "b"), "reinforcing")])
    second = render_system_map_svg(factors, links, [Loop("R1", ("a", "b"), "reinforcing")])
    assert first == second
    assert "<script>" not in first
    ET.fromstring(first)  # still well-formed XML


def _placed(svg: str) -> dict[str, tuple[float, float]]:
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "factor":
            x, y = g.get("transform").removeprefix("translate(").removesuffix(")").split(",")
            out[g.get("data-key")] = (float(x), float(y))
    return out


def test_saved_places_are_drawn_where_they_were_left():
    factors = [Factor(k, k.upper()) for k in "abc"]
    links = [Link("a", "b", "+"), Link("b", "c", "+")]
    placed = _placed(
        render_system_map_svg(factors, links, positions={"a": (10, 20), "b": (400, -300)})
    )
    assert placed["a"] == (10.0, 20.0) and placed["b"] == (400.0, -300.0)
    # c had no place: it is put next to b (its only link), clear of both boxes.
    cx, cy = placed["c"]
    assert abs(cx - 400) >= BOX_WIDTH or abs(cy + 300) >= BOX_HEIGHT
    assert math.dist(placed["c"], placed["b"]) < 3 * BOX_WIDTH


def test_the_view_box_holds_every_factor():
    factors = [Factor(k, k.upper()) for k in "ab"]
    svg = render_system_map_svg(factors, [], positions={"a": (-500, 0), "b": (900, 300)})
    left, top, width, height = map(float, ET.fromstring(svg).get("viewBox").split())
    assert left <= -500 - BOX_WIDTH / 2 and left + width >= 900 + BOX_WIDTH / 2
    assert top <= -BOX_HEIGHT / 2 and top + height >= 300 + BOX_HEIGHT / 2


def test_negative_links_are_dashed_and_carry_their_ends():
    groups = link_groups(render_system_map_svg(FACTORS, LINKS, LOOPS))
    negative = [g for g in groups if g.get("data-polarity") == "−"]
    assert [(g.get("data-source"), g.get("data-target")) for g in negative] == [("b", "s")]
    assert negative[0].find(f"{SVG}path").get("stroke-dasharray")
    assert all(
        not g.find(f"{SVG}path").get("stroke-dasharray") for g in groups if g not in negative
    )


def test_many_loops_are_not_all_coloured():
    # 13 two-factor loops: past LOOPS_DRAWN the picture colours only a highlighted loop.
    factors = [Factor(f"f{i}", f"F{i}") for i in range(14)]
    links = [Link("f0", f"f{i}", "+") for i in range(1, 14)]
    links += [Link(f"f{i}", "f0", "+") for i in range(1, 14)]
    loops = [Loop(f"R{i}", ("f0", f"f{i}"), "reinforcing") for i in range(1, 14)]
    assert len(loops) > LOOPS_DRAWN
    plain = link_groups(render_system_map_svg(factors, links, loops))
    assert {g.find(f"{SVG}path").get("stroke") for g in plain} == {LINK_COLOUR}
    one = link_groups(render_system_map_svg(factors, links, loops, highlight="R3"))
    coloured = [g for g in one if g.find(f"{SVG}path").get("stroke") != LINK_COLOUR]
    assert sorted((g.get("data-source"), g.get("data-target")) for g in coloured) == [
        ("f0", "f3"),
        ("f3", "f0"),
    ]


def test_factor_attributes_are_written_for_filters_and_tooltips():
    svg = render_system_map_svg(
        [Factor("d", "Failure demand", kind="demand", level="people", tags=("front door", "x"))],
        [],
    )
    (g,) = [g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "factor"]
    assert (g.get("data-kind"), g.get("data-level"), g.get("data-tags")) == (
        "demand",
        "people",
        "front door|x",
    )
    assert (
        g.find(f"{SVG}title").text == "Failure demand, demand, level: people, tags: front door; x"
    )


def test_empty_map_renders():
    root = ET.fromstring(render_system_map_svg([], []))
    assert root.find(f"{SVG}desc").text == "0 factors, 0 links, 0 loops."
