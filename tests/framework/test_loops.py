"""Loop detection and classification on maps whose loops are known by hand."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from systemic.framework.loops import find_loops
from systemic.framework.seed import SPIRAL_FACTORS, SPIRAL_LINKS


def test_population_births_and_deaths() -> None:
    # The textbook pair: births grow population (reinforcing);
    # deaths rise with population and reduce it (balancing).
    links = [
        ("population", "births", "+"),
        ("births", "population", "+"),
        ("population", "deaths", "+"),
        ("deaths", "population", "-"),
    ]
    loops = {loop.factors: loop.kind for loop in find_loops(links)}
    assert loops == {("births", "population"): "reinforcing", ("deaths", "population"): "balancing"}


def test_two_negatives_make_a_reinforcing_loop() -> None:
    # An arms race written with two '-' links: still reinforcing.
    links = [("a", "b", "-"), ("b", "c", "-"), ("c", "a", "+")]
    (loop,) = find_loops(links)
    assert loop.negative_links == 2 and loop.kind == "reinforcing"
    (loop,) = find_loops([("a", "b", "-"), ("b", "c", "+"), ("c", "a", "+")])
    assert loop.kind == "balancing"


def test_no_loops_in_a_chain() -> None:
    assert find_loops([("a", "b", "+"), ("b", "c", "-"), ("a", "c", "+")]) == []


def test_complete_graph_on_three_factors_has_five_loops() -> None:
    # Directed K3: three 2-cycles and two 3-cycles (one each way round).
    links = [(a, b, "+") for a, b in itertools.permutations("xyz", 2)]
    loops = find_loops(links)
    assert sorted(len(loop.factors) for loop in loops) == [2, 2, 2, 3, 3]
    assert {loop.factors for loop in loops if len(loop.factors) == 3} == {
        ("x", "y", "z"),
        ("x", "z", "y"),
    }


def test_delay_marks_the_loop() -> None:
    loops = find_loops(
        [("a", "b", "+", True), ("b", "a", "-", False), ("b", "c", "+"), ("c", "b", "+")]
    )
    assert [(lp.factors, lp.delayed) for lp in loops] == [(("a", "b"), True), (("b", "c"), False)]


def test_max_length_bounds_the_search() -> None:
    links = [("a", "b", "+"), ("b", "a", "+"), ("b", "c", "+"), ("c", "a", "+")]
    assert len(find_loops(links)) == 2
    assert [lp.factors for lp in find_loops(links, max_length=2)] == [("a", "b")]


def test_bad_polarity_is_refused() -> None:
    with pytest.raises(ValueError, match="polarity of a->b"):
        find_loops([("a", "b", "0")])


def test_seeded_spiral_has_two_reinforcing_loops() -> None:
    names = {name for name, _ in SPIRAL_FACTORS}
    assert {c for c, *_ in SPIRAL_LINKS} | {e for _, e, *_ in SPIRAL_LINKS} == names
    loops = find_loops(SPIRAL_LINKS)
    assert {frozenset(lp.factors) for lp in loops} == {
        frozenset(
            {"Stretched services", "Tighter thresholds and less prevention", "Crisis demand"}
        ),
        frozenset({"Stretched services", "Hand-offs and premature closure", "Failure demand"}),
    }
    assert all(lp.kind == "reinforcing" for lp in loops)


def _brute_force_cycles(links: dict[tuple[int, int], str], n: int) -> dict[frozenset, int]:
    """Every simple cycle by trying each ordering of each node subset (independent check)."""
    found = {}
    for size in range(2, n + 1):
        for subset in itertools.combinations(range(n), size):
            first, rest = subset[0], subset[1:]
            for order in itertools.permutations(rest):
                cycle = (first, *order)
                pairs = list(zip(cycle, cycle[1:] + cycle[:1], strict=True))
                if all(p in links for p in pairs):
                    sign = 1
                    for p in pairs:
                        sign *= -1 if links[p] == "-" else 1
                    found[tuple(cycle)] = sign
    return {frozenset(zip(c, c[1:] + c[:1], strict=True)): s for c, s in found.items()}


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.integers(0, 4), st.integers(0, 4)).filter(lambda p: p[0] != p[1]),
        st.sampled_from("+-"),
        max_size=14,
    )
)
def test_loops_match_brute_force_enumeration(links: dict[tuple[int, int], str]) -> None:
    expected = _brute_force_cycles(links, 5)
    loops = find_loops((str(a), str(b), s) for (a, b), s in links.items())
    got = {}
    for loop in loops:
        nodes = [int(f) for f in loop.factors]
        got[frozenset(zip(nodes, nodes[1:] + nodes[:1], strict=True))] = (
            1 if loop.kind == "reinforcing" else -1
        )
    assert got == expected


# --- names that stay put -------------------------------------------------------------

from systemic.framework.loops import name_loops  # noqa: E402


def _names(links, known=(), order=()):  # type: ignore[no-untyped-def]
    naming = name_loops(find_loops(links), known, order)
    return {loop.name: loop.loop.factors for loop in naming.loops}, naming


def test_adding_a_factor_and_links_keeps_every_existing_loop_name() -> None:
    # Hand-worked: three loops, named by length then by how early their factors came.
    links = [
        ("a", "b", "+"),
        ("b", "a", "+"),  # a<->b reinforcing
        ("b", "c", "+"),
        ("c", "b", "-"),  # b<->c balancing
        ("c", "d", "+"),
        ("d", "e", "+"),
        ("e", "c", "+"),  # c->d->e reinforcing
    ]
    order = ["a", "b", "c", "d", "e"]
    before, first = _names(links, order=order)
    assert before == {"R1": ("a", "b"), "B1": ("b", "c"), "R2": ("c", "d", "e")}
    # A new factor "n" added early in the order would once have renumbered everything.
    more = [*links, ("n", "a", "+"), ("a", "n", "+"), ("n", "c", "-"), ("c", "n", "+")]
    after, second = _names(more, first.names, ["n", *order])
    for name, factors in before.items():
        assert after[name] == factors
    # By hand: a<->n (++, R) and c<->n (+-, B) are the short new loops; the two loops
    # round a, b, c, n are both reinforcing (no '-', or two). n comes first in the
    # order, so ties fall to the factors' ids.
    new = {name: after[name] for name in set(after) - set(before)}
    assert new == {
        "R3": ("a", "n"),
        "B2": ("c", "n"),
        "R4": ("a", "b", "c", "n"),
        "R5": ("a", "n", "c", "b"),
    }
    assert second.new_names == len(new)


def test_new_loops_take_numbers_after_every_name_ever_given() -> None:
    links = [("a", "b", "+"), ("b", "a", "+"), ("c", "d", "+"), ("d", "c", "+")]
    _, first = _names(links, order="abcd")
    # Remove the a<->b loop, then add a new one: R1 is not given out again.
    _, second = _names(links[2:], first.names, "abcd")
    after, _ = _names([*links[2:], ("e", "f", "+"), ("f", "e", "+")], second.names, "abcdef")
    assert after == {"R2": ("c", "d"), "R3": ("e", "f")}
    # And when a<->b comes back it is R1 again.
    back, _ = _names(links, second.names, "abcd")
    assert back["R1"] == ("a", "b")


def test_a_loop_whose_sign_flips_is_a_new_loop() -> None:
    _, first = _names([("a", "b", "+"), ("b", "a", "+")])
    flipped, _ = _names([("a", "b", "+"), ("b", "a", "-")], first.names)
    assert flipped == {"B1": ("a", "b")}


def test_names_are_listed_reinforcing_first_in_number_order() -> None:
    links = [(x, y, "+") for x, y in itertools.permutations("xyz", 2)]
    links[0] = ("x", "y", "-")
    naming = name_loops(find_loops(links), order="xyz")
    names = [loop.name for loop in naming.loops]
    assert names == sorted(names, key=lambda n: (n[0] != "R", int(n[1:])))
    assert len(set(names)) == len(names) == 5
