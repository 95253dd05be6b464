"""The system map picture and the experiment timeline: pure functions, checked by hand."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from types import SimpleNamespace

from systemic.web.pages.levels import experiment_timeline
from systemic.web.system_map_svg import (
    BALANCING_COLOUR,
    LINK_COLOUR,
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


def test_factors_sit_around_the_ring_in_causal_order():
    # A chain a→b→c→d placed clockwise from the top: a first, then b, c, d.
    factors = [Factor(k, k.upper()) for k in "dcba"]
    links = [Link("a", "b", "+"), Link("b", "c", "+"), Link("c", "d", "+")]
    root = ET.fromstring(render_system_map_svg(factors, links))
    order = [g.get("data-key") for g in root.iter(f"{SVG}g") if g.get("class") == "factor"]
    assert order == ["a", "b", "c", "d"]


def test_empty_map_renders():
    root = ET.fromstring(render_system_map_svg([], []))
    assert root.find(f"{SVG}desc").text == "0 factors, 0 links, 0 loops."


def test_timeline_places_bars_by_date():
    experiments = [
        SimpleNamespace(id="a", title="A", start_date=date(2026, 1, 1), end_date=date(2026, 1, 31)),
        SimpleNamespace(id="b", title="B", start_date=date(2026, 1, 16), end_date=None),
        SimpleNamespace(id="c", title="Undated", start_date=None, end_date=None),
    ]
    timeline = experiment_timeline(experiments, today=date(2026, 2, 10))
    # The axis runs 1 Jan to 10 Feb (B is open, so it runs to today): 40 days.
    assert (timeline.start, timeline.end) == (date(2026, 1, 1), date(2026, 2, 10))
    a, b = timeline.bars
    assert (a["left"], a["width"], a["open"]) == (0.0, 75.0, False)  # 30 of 40 days
    assert (b["left"], b["width"], b["open"]) == (37.5, 62.5, True)  # from day 15 to 40
    assert timeline.today == 100.0
    assert experiment_timeline([]).bars == []
